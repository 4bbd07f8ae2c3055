"""Reads of applications for the console and the API: lists, one application, its timeline.

Every function takes the signed-in ``Actor`` and adds the subtree condition to its SQL; nothing is filtered
in Python after the fact. Lists are one joined query plus one count, paginated and sorted in SQL (any
whitelisted column, ties broken by id so a page never repeats or skips a row); each row carries the open
level deadline (层级审核截止) of the desk where it sits, from the deadline registry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator, Optional
from urllib.parse import urlencode

from sqlalchemy import String, case, cast, false, func, literal, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from models.application import Application
from models.audit_chain import row_marks
from models.deadline import Deadline, DeadlineState
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
    sort: Optional[str] = None
    direction: str = "asc"

    def __post_init__(self) -> None:
        self.pages = max(1, -(-self.total // self.per_page))

    def numbers(self, around: int = 3) -> list[int]:
        """The page numbers shown in the pager: the current one and ``around`` either side."""
        return list(range(max(1, self.page - around), min(self.pages, self.page + around) + 1))


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


def _ordinal(column, members) -> Any:
    """An enum column sorted in the domain's order (区县 before 市 …), not alphabetically."""
    return case({m.value: i for i, m in enumerate(members)}, value=cast(column, String), else_=len(members))


SORT_COLUMNS = {
    "ref": Application.ref,
    "name": Enterprise.name,
    "uscc": Enterprise.uscc,
    "jurisdiction": Application.jurisdiction_code,
    "call": Application.call_id,
    "level": _ordinal(Application.level, list(ReviewLevel)),
    "status": _ordinal(Application.status, list(ApplicationStatus)),
    "score": Application.score,
    "deadline": Deadline.due_at,
    "submitted": Application.submitted_at,
    "updated": Application.updated_at,
}
"""申报列表可排序的列 (``?sort=name&dir=desc``); anything else falls back to id order."""


def level_deadline_key() -> Any:
    """The deadline registry key of the level window an application sits in (models.review.window_deadline_key)."""
    return (literal("level:") + Application.call_id + ":" + cast(Application.level, String) + ":"
            + Application.review_jurisdiction_code)


def with_level_deadline(stmt: Any) -> Any:
    """Add ``deadline_at``: the open 层级审核截止 of the desk where each application sits (None when none is open)."""
    return (stmt.outerjoin(Deadline, (Deadline.key == level_deadline_key()) & (Deadline.state == DeadlineState.open))
            .add_columns(Deadline.due_at.label("deadline_at")))


def order_of(sort: Optional[str], direction: str = "asc") -> tuple[Any, ...]:
    """ORDER BY for a whitelisted column (empty values last either way), then id as the tie-break."""
    column = SORT_COLUMNS.get(sort or "")
    if column is None:
        return (Application.id,)
    ordered = column.desc() if direction == "desc" else column.asc()
    return (ordered.nulls_last(), Application.id.desc() if direction == "desc" else Application.id)


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
                      per_page: int = PER_PAGE, sort: Optional[str] = None, direction: str = "asc") -> Page:
    """One page of the list, sorted by ``sort`` (a key of SORT_COLUMNS) in ``direction`` (asc / desc)."""
    base = _filtered(session, scope, flt, LIST_COLUMNS)
    total = session.execute(select(func.count()).select_from(base.order_by(None).subquery())).scalar_one()
    page = max(1, page)
    sort = sort if sort in SORT_COLUMNS else None
    direction = "desc" if direction == "desc" else "asc"
    stmt = with_level_deadline(base).order_by(*order_of(sort, direction)).limit(per_page).offset((page - 1) * per_page)
    rows = session.execute(stmt).mappings()
    return Page([dict(r) for r in rows], total, page, per_page, sort, direction)


def desk_clause(scope: Actor) -> Any:
    """待本级审核: pending at this user's own desk — the rule of srdi.web.actions.decision_form, in SQL."""
    return (Application.status == ApplicationStatus.pending) & or_(
        Application.review_jurisdiction_code == scope.jurisdiction_code,
        Application.review_jurisdiction_code.is_(None) & (Application.level == scope.review_level))


def at_desk(session: Session, scope: Actor, flt: ApplicationFilter, sort: Optional[str] = "deadline",
            direction: str = "asc", limit: int = 200) -> tuple[list[dict[str, Any]], int]:
    """(the first ``limit`` applications waiting at the user's desk with their version and level deadline, how many wait)."""
    base = _filtered(session, scope, flt, LIST_COLUMNS + (Application.version,)).where(desk_clause(scope))
    total = session.execute(select(func.count()).select_from(base.order_by(None).subquery())).scalar_one()
    stmt = with_level_deadline(base).order_by(*order_of(sort, "desc" if direction == "desc" else "asc")).limit(limit)
    return [dict(r) for r in session.execute(stmt).mappings()], total


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


def ids_in_scope(session: Session, scope: Actor, ids: list[int]) -> set[int]:
    """Which of these application ids lie inside the user's subtree (one query)."""
    stmt = _filtered(session, scope, ApplicationFilter(), (Application.id,)).where(Application.id.in_(ids))
    return set(session.execute(stmt).scalars())


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
