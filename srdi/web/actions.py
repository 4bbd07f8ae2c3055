"""The console's bridge to the domain: decisions (one, or a bulk of them) go to ``tasks.review.decisions``,
nothing is decided here.

``decision_form`` only chooses whether to *show* the form (a reviewer whose bureau sits where the
application is being reviewed); the domain function checks actor, jurisdiction, level, deadline
and version again and is the only judge.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Optional

from sqlalchemy import exists, or_, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from models.application import Application
from models.eligibility import EligibilityVerdict
from models.enums import ApplicationStatus, ReviewLevel, Role
from models.errors import NotFound, RuleViolation
from models.jurisdiction import Jurisdiction
from models.notice import Notice, NoticeEntry, NoticeStatus
from tasks.people.actors import Actor

DECISION_LABELS = {"recommend": "同意推荐", "return": "退回修改", "reject": "不予推荐"}
DECIDING_ROLES = frozenset({Role.reviewer})


def decision_form(scope: Actor, app: dict[str, Any]) -> Optional[dict[str, Any]]:
    """What the decision form needs, or None when this user has nothing to decide here."""
    if scope.role not in DECIDING_ROLES or app["status"] != ApplicationStatus.pending:
        return None
    desk = app.get("review_jurisdiction_code")
    if desk is not None and desk != scope.jurisdiction_code:
        return None
    if desk is None and ReviewLevel(app["level"]) != scope.review_level:
        return None
    return {"choices": DECISION_LABELS, "version": app["version"]}


def decide(engine: Engine, scope: Actor, application_id: int, decision: str, reason: str,
           score: Optional[Decimal], version: int, override: str = "") -> None:
    """Record a reviewer's decision through the one domain function, in its own transaction."""
    from tasks.review.decisions import decide as record_decision

    with engine.begin() as connection:
        record_decision(connection, application_id, decision, scope.username, reason=reason or None, score=score,
                        expected_version=version, override=override or None)


@dataclass(frozen=True)
class Pick:
    """One application ticked in a bulk form, with the version the reviewer saw and its own score (if any)."""

    application_id: int
    version: int
    score: Optional[Decimal] = None


def decide_bulk(engine: Engine, scope: Actor, picks: list[Pick], decision: str, reason: str) -> list[Any]:
    """批量审核: one decision (with one reason) on several applications, one transition row each, through the
    domain's batch function in ONE transaction — all recorded, or none when any one is refused (the
    refusal names that application). All-or-nothing because the reviewer decided on the list as seen:
    a stale or refused one means the list changed, so they look again rather than find half of it done."""
    from tasks.review.decisions import Decision, DecisionItem, decide_many

    if decision not in DECISION_LABELS:
        raise RuleViolation(f"决定应为{'、'.join(DECISION_LABELS.values())}之一，实际为 {decision!r}")
    if not picks:
        raise RuleViolation("请先勾选要办理的申报")
    items = [DecisionItem(p.application_id, Decision(decision), reason or None, p.score, p.version) for p in picks]
    with engine.begin() as connection:
        return decide_many(connection, items, scope.username)


def eligibility_verdicts(session: Session, application_id: int) -> list[dict[str, Any]]:
    """资格审查结论 of one application: the engine's own explanation (labels and citations from the
    profile) when it offers one, else the stored rows as they are."""
    try:
        from tasks.eligibility.engine import explain
    except ImportError:
        explain = None
    if explain is not None:
        try:
            return list(explain(session.connection(), str(application_id))["verdicts"])
        except NotFound:
            return []
    table = EligibilityVerdict.__table__
    stmt = (select(table.c.node_id.label("label"), table.c.kind, table.c.passed, table.c.waived, table.c.points,
                   table.c.message)
            .where(table.c.application_id == application_id).order_by(table.c.id))
    return [dict(r) for r in session.execute(stmt).mappings()]


def open_notices(session: Session, scope: Actor) -> list[dict[str, Any]]:
    """公示 open now that were published inside the subtree or list an application inside it."""
    lists_ours = exists(
        select(NoticeEntry.id)
        .join(Application, Application.id == NoticeEntry.application_id)
        .join(Jurisdiction, Jurisdiction.code == Application.jurisdiction_code)
        .where(NoticeEntry.notice_id == Notice.id, scope.path_clause(Jurisdiction.path))
    )
    stmt = (
        select(Notice.id, Notice.title, Notice.call_id, Notice.opens_at, Notice.closes_at, Notice.length, Notice.unit,
               Notice.jurisdiction_code)
        .where(Notice.status == NoticeStatus.open, or_(Notice.jurisdiction_code.in_(scope.codes()), lists_ours))
        .order_by(Notice.closes_at, Notice.id)
    )
    return [dict(r) for r in session.execute(stmt).mappings()]
