"""Reads for the certificates (认定证书) and filings (复核, 更名) pages, scoped to the user's subtree.

A recognition belongs to the subtree its enterprise sits in (所在区县): the recognising bureau is
the province or the ministry, but a county sees the certificates of its own enterprises.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Optional
from urllib.parse import urlencode

from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from models.application import Application
from models.enterprise import Enterprise
from models.errors import NotFound
from models.jurisdiction import Jurisdiction
from models.name_change import NameChange
from models.programme import Call, Programme
from models.recognition import Recognition, RecognitionStatus
from models.rereview import ReReviewCase
from srdi.web.queries import Page, visible_jurisdiction
from tasks.people.actors import BUREAU_ROLES, Actor
from tasks.people.scope import subtree_clause
from tasks.reference.programmes import load_all

RECOGNITION_STATUSES = {s.value: label for s, label in (
    (RecognitionStatus.active, "有效"), (RecognitionStatus.revoked, "已撤销"), (RecognitionStatus.expired, "已期满"))}
OUTCOME_LABELS = {"pending": "待复核", "passed": "通过", "failed": "不合格", "absent": "未申请"}


@dataclass(frozen=True)
class RecognitionFilter:
    """认定证书筛选: programme, status, jurisdiction (its subtree), re-review due year, name/USCC/certificate search."""

    programme: Optional[str] = None
    status: Optional[str] = None
    jurisdiction: Optional[str] = None
    due: Optional[int] = None
    q: Optional[str] = None

    def query_string(self) -> str:
        return urlencode({k: v for k, v in vars(self).items() if v not in (None, "")})


def _place():
    return aliased(Jurisdiction)


def list_recognitions(session: Session, scope: Actor, flt: RecognitionFilter, page: int, per_page: int) -> Page:
    place = _place()
    stmt = (select(Recognition.id, Recognition.certificate_no, Recognition.programme_id, Programme.name.label("programme_name"),
                   Recognition.valid_from, Recognition.valid_to, Recognition.re_review_due, Recognition.status,
                   Recognition.revoked_reason, Recognition.notice_id, Recognition.application_id,
                   Enterprise.name, Enterprise.uscc, place.name.label("jurisdiction_name"))
            .join(Enterprise, Enterprise.id == Recognition.enterprise_id)
            .join(place, place.code == Enterprise.jurisdiction_code)
            .outerjoin(Programme, Programme.id == Recognition.programme_id)
            .where(scope.path_clause(place.path)))
    if flt.jurisdiction:
        stmt = stmt.where(subtree_clause(place.path, visible_jurisdiction(session, scope, flt.jurisdiction).path))
    if flt.programme:
        stmt = stmt.where(Recognition.programme_id == flt.programme)
    if flt.status in RECOGNITION_STATUSES:
        stmt = stmt.where(Recognition.status == flt.status)
    if flt.due:
        stmt = stmt.where(Recognition.re_review_due.between(date(flt.due, 1, 1), date(flt.due, 12, 31)))
    if flt.q:
        like = f"%{flt.q}%"
        stmt = stmt.where(or_(Enterprise.name.like(like), Enterprise.uscc.like(like), Recognition.certificate_no.like(like)))
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    rows = session.execute(stmt.order_by(Recognition.certificate_no).offset((page - 1) * per_page).limit(per_page)).mappings()
    return Page([dict(r) for r in rows], total, page, per_page)


def recognised_programmes(session: Session) -> list[dict[str, Any]]:
    """Programmes that have issued a recognition (for the filter)."""
    stmt = (select(Programme.id, Programme.name).where(Programme.id.in_(select(Recognition.programme_id).distinct()))
            .order_by(Programme.id))
    return [dict(r) for r in session.execute(stmt).mappings()]


def recognition_in_scope(session: Session, scope: Actor, recognition_id: int) -> dict[str, Any]:
    """One recognition whose enterprise is inside the subtree, or NotFound."""
    place = _place()
    row = session.execute(
        select(Recognition.id, Recognition.certificate_no, Recognition.status, Recognition.programme_id,
               Recognition.valid_to, Enterprise.id.label("enterprise_id"), Enterprise.name, Enterprise.uscc,
               Enterprise.name_changed_on)
        .join(Enterprise, Enterprise.id == Recognition.enterprise_id)
        .join(place, place.code == Enterprise.jurisdiction_code)
        .where(Recognition.id == recognition_id, scope.path_clause(place.path))
    ).mappings().first()
    if row is None:
        raise NotFound(f"认定 {recognition_id} 不存在或不在您的辖区范围内")
    return dict(row)


def name_changes_of(session: Session, enterprise_id: int) -> list[dict[str, Any]]:
    stmt = (select(NameChange.id, NameChange.programme_id, NameChange.old_name, NameChange.new_name, NameChange.changed_on,
                   NameChange.due_at, NameChange.status, NameChange.filed_at, NameChange.filed_by)
            .where(NameChange.enterprise_id == enterprise_id).order_by(NameChange.id))
    return [dict(r) for r in session.execute(stmt).mappings()]


def rereview_programmes(session: Session, scope: Actor) -> list[dict[str, Any]]:
    """Programmes with a re-review rule whose own bureau (profile jurisdiction) lies in this user's subtree."""
    if scope.role not in BUREAU_ROLES:
        return []
    profiles = [p for p in load_all().values() if p.validity and p.validity.re_review]
    paths = dict(session.execute(select(Jurisdiction.code, Jurisdiction.path)
                                 .where(Jurisdiction.code.in_([p.jurisdiction for p in profiles]))).all())
    return [{"id": p.id, "name": p.name, "every_years": p.validity.re_review.every_years}
            for p in sorted(profiles, key=lambda p: p.id) if p.jurisdiction in paths and scope.covers(paths[p.jurisdiction])]


def _cases_in_scope(scope: Actor):
    place = _place()
    return (select(ReReviewCase.id).join(Enterprise, Enterprise.id == ReReviewCase.enterprise_id)
            .join(place, place.code == Enterprise.jurisdiction_code).where(scope.path_clause(place.path)))


def rereview_calls(session: Session, scope: Actor) -> list[dict[str, Any]]:
    """Re-review calls (复核批次) with cases inside the subtree, newest first, with their counts."""
    ours = _cases_in_scope(scope)
    stmt = (select(Call.id, Call.name, Call.year, Call.closes_at, Call.status,
                   func.count(ReReviewCase.id).label("cases"),
                   func.count(ReReviewCase.application_id).label("applied"))
            .join(ReReviewCase, ReReviewCase.call_id == Call.id)
            .where(Call.kind == "re_review", ReReviewCase.id.in_(ours))
            .group_by(Call.id).order_by(Call.year.desc(), Call.id))
    return [dict(r) for r in session.execute(stmt).mappings()]


def rereview_call(session: Session, scope: Actor, call_id: str) -> dict[str, Any]:
    """A re-review call with at least one case inside the subtree, or NotFound."""
    found = [c for c in rereview_calls(session, scope) if c["id"] == call_id]
    if not found:
        raise NotFound(f"复核批次 {call_id} 不存在或不在您的辖区范围内")
    return found[0]


def rereview_cases(session: Session, scope: Actor, call_id: str) -> list[dict[str, Any]]:
    place = _place()
    stmt = (select(ReReviewCase.id, ReReviewCase.outcome, Recognition.certificate_no, Recognition.re_review_due,
                   Enterprise.uscc, Enterprise.name, place.name.label("jurisdiction_name"),
                   Application.id.label("application_id"), Application.ref.label("application"),
                   Application.status.label("application_status"))
            .join(Recognition, Recognition.id == ReReviewCase.recognition_id)
            .join(Enterprise, Enterprise.id == ReReviewCase.enterprise_id)
            .join(place, place.code == Enterprise.jurisdiction_code)
            .outerjoin(Application, Application.id == ReReviewCase.application_id)
            .where(ReReviewCase.call_id == call_id, scope.path_clause(place.path))
            .order_by(Recognition.certificate_no))
    return [dict(r) for r in session.execute(stmt).mappings()]


def cohort_in_scope(session: Session, scope: Actor, programme_id: str, year: int) -> list[dict[str, Any]]:
    """The titles ``open_rereview`` would take into the year's re-review, inside the subtree (the preview)."""
    from tasks.recognition.rereview import cohort

    members = cohort(session.connection(), programme_id, year)
    if not members:
        return []
    place = _place()
    inside = set(session.execute(   # the cohort's own conditions, narrowed to the subtree: no id list sent back
        select(Recognition.id).join(Enterprise, Enterprise.id == Recognition.enterprise_id)
        .join(place, place.code == Enterprise.jurisdiction_code)
        .where(Recognition.programme_id == programme_id, Recognition.status == RecognitionStatus.active,
               Recognition.re_review_due.between(date(year, 1, 1), date(year, 12, 31)), scope.path_clause(place.path))).scalars())
    return [dict(m._mapping) for m in members if m.id in inside]
