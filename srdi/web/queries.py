"""Reads of applications for the console and the API: lists, one application, its timeline.

Every function takes the signed-in ``Actor`` and adds the subtree condition to its SQL; nothing is filtered
in Python after the fact. Lists are one joined query plus one count, paginated in SQL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator, Optional
from urllib.parse import urlencode

from sqlalchemy import false, func, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from models.application import Application
from models.audit_chain import row_marks
from models.enterprise import Enterprise, EnterpriseFinancialYear
from models.enums import ApplicationStatus, ReviewLevel
from models.errors import NotFound
from models.jurisdiction import Jurisdiction, User
from models.programme import Call
from models.recognition import Recognition
from models.transition import Transition
from tasks.people.actors import Actor
from tasks.people.scope import place_in_subtree, subtree_clause

PER_PAGE = 50
EXPORT_LIMIT = 200_000


@dataclass(frozen=True)
class ApplicationFilter:
    """申报列表筛选: call, level, status, jurisdiction (its subtree), name/USCC/ref search."""

    call_id: Optional[str] = None
    level: Optional[ReviewLevel] = None
    status: Optional[ApplicationStatus] = None
    jurisdiction: Optional[str] = None
    q: Optional[str] = None

    def query_string(self) -> str:
        """The same filter as URL query parameters (for the Excel link)."""
        names = {"call_id": "call", "level": "level", "status": "status", "jurisdiction": "jurisdiction", "q": "q"}
        return urlencode({names[k]: getattr(v, "value", v) for k, v in vars(self).items() if v not in (None, "")})


@dataclass
class Page:
    rows: list[dict[str, Any]]
    total: int
    page: int
    per_page: int
    pages: int = field(init=False)

    def __post_init__(self) -> None:
        self.pages = max(1, -(-self.total // self.per_page))


LIST_COLUMNS = (
    Application.id,
    Application.ref,
    Application.call_id,
    Call.name.label("call_name"),
    Enterprise.name.label("enterprise_name"),
    Enterprise.uscc,
    Application.jurisdiction_code,
    Jurisdiction.name.label("jurisdiction_name"),
    Application.level,
    Application.status,
    Application.score,
    Application.category,
    Application.eligible,
    Application.eligibility_override,
    Application.submitted_at,
    Application.updated_at,
)


def visible_jurisdiction(session: Session, scope: Actor, code: str):
    """A jurisdiction inside the user's subtree, or NotFound (outside ones are not confirmed to exist)."""
    place = place_in_subtree(session, scope.path, code)
    if place is None:
        raise NotFound(f"辖区 {code} 不存在或不在您的辖区范围内")
    return place


def _filtered(session: Session, scope: Actor, flt: ApplicationFilter, columns) -> Any:
    stmt = (
        select(*columns)
        .select_from(Application)
        .join(Enterprise, Enterprise.id == Application.enterprise_id)
        .join(Jurisdiction, Jurisdiction.code == Application.jurisdiction_code)
        .join(Call, Call.id == Application.call_id)
        .where(scope.path_clause(Jurisdiction.path))
    )
    if flt.call_id:
        stmt = stmt.where(Application.call_id == flt.call_id)
    if flt.level:
        stmt = stmt.where(Application.level == flt.level)
    if flt.status:
        stmt = stmt.where(Application.status == flt.status)
    if flt.jurisdiction:
        try:
            place = visible_jurisdiction(session, scope, flt.jurisdiction)
        except NotFound:
            return stmt.where(false())
        stmt = stmt.where(subtree_clause(Jurisdiction.path, place.path))
    if flt.q and flt.q.strip():
        text = flt.q.strip()
        stmt = stmt.where(
            or_(
                Enterprise.name.contains(text, autoescape=True),
                Enterprise.uscc.startswith(text.upper(), autoescape=True),
                Application.ref == text,
            )
        )
    return stmt


def list_applications(session: Session, scope: Actor, flt: ApplicationFilter, page: int = 1,
                      per_page: int = PER_PAGE) -> Page:
    base = _filtered(session, scope, flt, LIST_COLUMNS)
    total = session.execute(select(func.count()).select_from(base.order_by(None).subquery())).scalar_one()
    page = max(1, page)
    rows = session.execute(base.order_by(Application.id).limit(per_page).offset((page - 1) * per_page)).mappings()
    return Page([dict(r) for r in rows], total, page, per_page)


def iter_applications(session: Session, scope: Actor, flt: ApplicationFilter) -> Iterator[dict[str, Any]]:
    """Every matching row (for Excel), streamed in id order."""
    stmt = _filtered(session, scope, flt, LIST_COLUMNS).order_by(Application.id).limit(EXPORT_LIMIT)
    for row in session.execute(stmt.execution_options(yield_per=2000)).mappings():
        yield dict(row)


def get_application(session: Session, scope: Actor, application_id: int) -> dict[str, Any]:
    """One application inside the subtree, or NotFound — the same answer as for a missing id."""
    stmt = _filtered(session, scope, ApplicationFilter(), LIST_COLUMNS + (
        Application.version,
        Application.review_jurisdiction_code,
        Application.facts,
        Application.enterprise_id,
        Enterprise.size,
        Enterprise.industry_code,
        Enterprise.registered_on,
        Enterprise.listed_board,
        Call.year.label("call_year"),
        Call.programme_id,
    )).where(Application.id == application_id)
    row = session.execute(stmt).mappings().first()
    if row is None:
        raise NotFound(f"申报 {application_id} 不存在或不在您的辖区范围内")
    return dict(row)


def financial_years(session: Session, enterprise_id: int) -> list[EnterpriseFinancialYear]:
    stmt = (select(EnterpriseFinancialYear).where(EnterpriseFinancialYear.enterprise_id == enterprise_id)
            .order_by(EnterpriseFinancialYear.fiscal_year.desc()))
    return list(session.execute(stmt).scalars())


def recognition_of(session: Session, application_id: int) -> Optional[Recognition]:
    return session.execute(select(Recognition).where(Recognition.application_id == application_id)).scalars().first()


def timeline(session: Session, application_id: int) -> list[dict[str, Any]]:
    """流转记录 of one application, oldest first, with the actor's name and jurisdiction name, and
    ``audit``: why a row does not verify against the audit chain (None when it does).

    Call it only after ``get_application`` has confirmed the application is in scope.
    """
    place = aliased(Jurisdiction)
    stmt = (
        select(
            Transition.id, Transition.at, Transition.actor, User.display_name.label("actor_name"),
            Transition.role, Transition.jurisdiction_code, place.name.label("jurisdiction_name"),
            Transition.action, Transition.from_level, Transition.from_status, Transition.to_level,
            Transition.to_status, Transition.reason, Transition.score,
        )
        .outerjoin(User, User.username == Transition.actor)
        .outerjoin(place, place.code == Transition.jurisdiction_code)
        .where(Transition.application_id == application_id)
        .order_by(Transition.at, Transition.id)
    )
    events = [dict(r) for r in session.execute(stmt).mappings()]
    marks = row_marks(session.connection(), "transition", [e["id"] for e in events])
    return [{**e, "audit": marks.get(e["id"])} for e in events]


def visible_calls(session: Session, scope: Actor) -> list[dict[str, Any]]:
    """Calls with at least one application inside the subtree, newest first."""
    in_scope = (
        select(Application.call_id)
        .join(Jurisdiction, Jurisdiction.code == Application.jurisdiction_code)
        .where(scope.path_clause(Jurisdiction.path))
        .distinct()
    )
    stmt = (select(Call.id, Call.name, Call.year, Call.status, Call.opens_at, Call.programme_id)
            .where(Call.id.in_(in_scope)).order_by(Call.opens_at.desc(), Call.id))
    return [dict(r) for r in session.execute(stmt).mappings()]


def child_jurisdictions(session: Session, scope: Actor) -> list[dict[str, Any]]:
    """The user's own node and its direct children (for the jurisdiction filter)."""
    stmt = (select(Jurisdiction.code, Jurisdiction.name, Jurisdiction.level)
            .where(or_(Jurisdiction.code == scope.jurisdiction_code, Jurisdiction.parent_code == scope.jurisdiction_code))
            .order_by(Jurisdiction.path))
    return [dict(r) for r in session.execute(stmt).mappings()]
