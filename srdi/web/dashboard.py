"""The dashboard's figures (工作台): counts by level and status, the round's funnel, counts by
jurisdiction, the deadline registry's next 10 working days (the user's own desk listed, the subtree below
counted per child jurisdiction) — all aggregated in SQL — and what the
running service could not do: blocked steps and failed scheduled jobs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from typing import Any, Optional

from sqlalchemy import case, func, select
from sqlmodel import Session

from models.application import Application
from models.calendar import statutory_calendar
from models.clock import SHANGHAI, clock
from models.deadline import Deadline, DeadlineState
from models.enums import ApplicationStatus, JurisdictionLevel, ReviewLevel
from models.errors import SrdiError
from models.jurisdiction import Jurisdiction
from models.operations import JobRun, ScheduledJob
from models.programme import Call
from tasks.people.actors import Actor
from tasks.people.scope import related
from tasks.pipeline.blocks import active_blocks

DEADLINE_WORKDAYS = 10

PASSED = frozenset({ApplicationStatus.recommended, ApplicationStatus.on_notice, ApplicationStatus.on_hold,
                    ApplicationStatus.recognised})
OPEN = frozenset({ApplicationStatus.pending, ApplicationStatus.returned})
NOTICE_OR_LATER = frozenset({ApplicationStatus.on_notice, ApplicationStatus.on_hold, ApplicationStatus.removed,
                             ApplicationStatus.recognised})
BUCKETS = (("passed", "已推荐/认定"), ("open", "待审/退回"), ("closed", "未通过/终止"))


def bucket_of(status: ApplicationStatus) -> str:
    if status in PASSED:
        return "passed"
    return "open" if status in OPEN else "closed"


def current_call(session: Session, scope: Actor, call_id: Optional[str] = None) -> Optional[Call]:
    """The round the dashboard shows: the one asked for, else the newest with applications in scope."""
    if call_id:
        return session.get(Call, call_id)
    in_scope = (select(Application.call_id)
                .join(Jurisdiction, Jurisdiction.code == Application.jurisdiction_code)
                .where(scope.path_clause(Jurisdiction.path)))
    stmt = select(Call).where(Call.id.in_(in_scope)).order_by(Call.opens_at.desc(), Call.id.desc()).limit(1)
    return session.execute(stmt).scalars().first()


def counts_by_level_status(session: Session, scope: Actor, call_id: Optional[str]) -> list[dict[str, Any]]:
    """[{level, status, count}] for the subtree (and the call, when given)."""
    stmt = (
        select(Application.level, Application.status, func.count().label("count"))
        .join(Jurisdiction, Jurisdiction.code == Application.jurisdiction_code)
        .where(scope.path_clause(Jurisdiction.path))
        .group_by(Application.level, Application.status)
    )
    if call_id:
        stmt = stmt.where(Application.call_id == call_id)
    rows = session.execute(stmt).all()
    order = list(ReviewLevel)
    return sorted(
        ({"level": ReviewLevel(r.level), "status": ApplicationStatus(r.status), "count": r.count} for r in rows),
        key=lambda r: (order.index(r["level"]), list(ApplicationStatus).index(r["status"])),
    )


def route_of(call: Call, present: set[ReviewLevel]) -> list[ReviewLevel]:
    """The call's route from its profile (via tasks.reference.calls); without one, the levels between those seen."""
    try:
        from tasks.reference.calls import get_profile
        from tasks.reference.routing import route_levels

        return [step.level for step in route_levels(get_profile(call.programme_id), getattr(call, "kind", "recognition"))]
    except (ImportError, OSError, ValueError, SrdiError):
        order = list(ReviewLevel)
        if not present:
            return []
        low, high = min(order.index(lv) for lv in present), max(order.index(lv) for lv in present)
        return order[low : high + 1]


def funnel(call: Call, counts: list[dict[str, Any]]) -> list[tuple[str, int]]:
    """(stage label, applications that reached it) — from submission to recognition.

    An application only ever moves up the route, so "reached level L" is "sits at L or above".
    """
    order = list(ReviewLevel)
    route = route_of(call, {c["level"] for c in counts})
    stages = [("申报受理", sum(c["count"] for c in counts))]
    for level in route[1:]:
        reached = sum(c["count"] for c in counts if order.index(c["level"]) >= order.index(level))
        stages.append((f"进入{level.label}评审", reached))
    if route:
        final = route[-1]
        passed_final = sum(c["count"] for c in counts
                           if c["level"] == final and c["status"] in PASSED | {ApplicationStatus.removed})
        stages.append((f"{final.label}级推荐", passed_final))
    stages.append(("公示", sum(c["count"] for c in counts if c["status"] in NOTICE_OR_LATER)))
    stages.append(("认定", sum(c["count"] for c in counts if c["status"] == ApplicationStatus.recognised)))
    return stages


def counts_by_child(session: Session, scope: Actor, call_id: Optional[str]) -> list[dict[str, Any]]:
    """Per direct child of the user's node (per city for a province …): counts in three buckets."""
    child = func.substr(Jurisdiction.path, len(scope.path) + 2, 6)
    stmt = (
        select(child.label("child"), Application.status, func.count().label("count"))
        .join(Jurisdiction, Jurisdiction.code == Application.jurisdiction_code)
        .where(scope.path_clause(Jurisdiction.path))
        .group_by(child, Application.status)
    )
    if call_id:
        stmt = stmt.where(Application.call_id == call_id)
    totals: dict[str, dict[str, int]] = {}
    for row in session.execute(stmt):
        code = row.child or scope.jurisdiction_code
        bucket = totals.setdefault(code, {key: 0 for key, _ in BUCKETS})
        bucket[bucket_of(ApplicationStatus(row.status))] += row.count
    names = dict(session.execute(select(Jurisdiction.code, Jurisdiction.name).where(Jurisdiction.code.in_(list(totals)))).all())
    return [{"code": code, "name": names.get(code, code), **totals[code]} for code in sorted(totals)]


@dataclass(frozen=True)
class DeadlineWindow:
    until: Optional[datetime]
    rows: list[dict[str, Any]]
    error: Optional[str] = None


def upcoming_deadlines(session: Session, scope: Actor, workdays: int = DEADLINE_WORKDAYS,
                       limit: int = 200) -> DeadlineWindow:
    """Open registry items in the subtree due by the end of the N-th working day from today
    (Beijing); overdue items still open come first."""
    try:
        last_day = statutory_calendar().add_workdays(clock.today(), workdays)
    except SrdiError as exc:  # a year without an official schedule: say so, never guess
        return DeadlineWindow(None, [], str(exc))
    until = datetime.combine(last_day, time(23, 59, 59), tzinfo=SHANGHAI)
    stmt = (
        select(Deadline.id, Deadline.kind, Deadline.title, Deadline.due_at, Deadline.call_id, Deadline.subject,
               Deadline.jurisdiction_code, Jurisdiction.name.label("jurisdiction_name"))
        .join(Jurisdiction, Jurisdiction.code == Deadline.jurisdiction_code)
        .where(Deadline.state == DeadlineState.open, Deadline.due_at <= until, scope.path_clause(Jurisdiction.path))
        .order_by(Deadline.due_at, Deadline.id)
        .limit(limit)
    )
    now = clock.now()
    rows = [{**r, "overdue": r["due_at"] < now} for r in session.execute(stmt).mappings()]
    return DeadlineWindow(until, rows)


@dataclass(frozen=True)
class DeskDeadlines:
    """The dashboard's deadline box: the user's own desk item by item, the subtree below one line per child."""

    until: Optional[datetime]
    own: list[dict[str, Any]]
    children: list[dict[str, Any]]
    error: Optional[str] = None


def deadlines_by_desk(session: Session, scope: Actor, workdays: int = DEADLINE_WORKDAYS) -> DeskDeadlines:
    """Open registry items due by the N-th working day: the user's own jurisdiction's listed (what this
    bureau must do), those further down counted per direct child (how many, how many overdue, the
    earliest) — a ministry clerk sees 31 province lines, not every county's window."""
    try:
        last_day = statutory_calendar().add_workdays(clock.today(), workdays)
    except SrdiError as exc:  # a year without an official schedule: say so, never guess
        return DeskDeadlines(None, [], [], str(exc))
    until = datetime.combine(last_day, time(23, 59, 59), tzinfo=SHANGHAI)
    now = clock.now()
    mine = (
        select(Deadline.id, Deadline.kind, Deadline.title, Deadline.due_at, Deadline.call_id, Deadline.subject)
        .where(Deadline.state == DeadlineState.open, Deadline.due_at <= until,
               Deadline.jurisdiction_code == scope.jurisdiction_code)
        .order_by(Deadline.due_at, Deadline.id).limit(100)
    )
    own = [{**r, "overdue": r["due_at"] < now} for r in session.execute(mine).mappings()]
    child = func.substr(Jurisdiction.path, len(scope.path) + 2, 6)
    stmt = (
        select(child.label("code"), func.count().label("count"), func.min(Deadline.due_at).label("earliest"),
               func.sum(case((Deadline.due_at < now, 1), else_=0)).label("overdue"))
        .join(Jurisdiction, Jurisdiction.code == Deadline.jurisdiction_code)
        .where(Deadline.state == DeadlineState.open, Deadline.due_at <= until, scope.path_clause(Jurisdiction.path),
               Deadline.jurisdiction_code != scope.jurisdiction_code)
        .group_by(child)
    )
    rows = [dict(r) for r in session.execute(stmt).mappings()]
    names = dict(session.execute(select(Jurisdiction.code, Jurisdiction.name)
                                 .where(Jurisdiction.code.in_([r["code"] for r in rows]))).all())
    children = sorted(({**r, "name": names.get(r["code"], r["code"]), "overdue": int(r["overdue"] or 0)} for r in rows),
                      key=lambda r: (r["earliest"], r["code"]))
    return DeskDeadlines(until, own, children)


def blocked_steps(session: Session, scope: Actor) -> list[dict[str, Any]]:
    """Steps blocked now (流程受阻) whose bureau is in the user's subtree or above it (the call concerns them)."""
    blocks = active_blocks(session.connection())
    paths = dict(session.execute(select(Jurisdiction.code, Jurisdiction.path).where(
        Jurisdiction.code.in_({b["jurisdiction_code"] for b in blocks if b["jurisdiction_code"]}))).all())

    def concerns(code: Optional[str]) -> bool:
        path = paths.get(code or "")
        return path is not None and related(scope.path, path)

    return [b for b in blocks if concerns(b["jurisdiction_code"])]


def failed_jobs(session: Session, scope: Actor) -> list[dict[str, Any]]:
    """Scheduled jobs whose last run did not succeed — for province and ministry users, who run the service."""
    if scope.jurisdiction_level not in (JurisdictionLevel.ministry, JurisdictionLevel.province):
        return []
    rows = session.execute(select(ScheduledJob).where(
        ScheduledJob.last_status.in_(["failed", "partial", "interrupted"])).order_by(ScheduledJob.id)).scalars()
    out = []
    for job in rows:
        last = session.execute(select(JobRun.error).where(JobRun.job_id == job.id)
                               .order_by(JobRun.id.desc()).limit(1)).first()
        out.append({"id": job.id, "name": job.name, "status": job.last_status, "at": job.last_finished_at,
                    "error": last.error if last else None})
    return out
