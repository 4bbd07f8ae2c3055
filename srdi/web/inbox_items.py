"""What waits for one user (待我办理): set-based reads for the inbox, a few queries per page.

Each kind of item is read for the user's own desk — their jurisdiction and role — never the subtree
below (a city sees its own reviews, not its counties'):

- applications to decide: pending at the user's desk (srdi.web.queries.at_desk, the decision form's rule);
- objections to decide: open 异议 on 公示 the user's bureau published (tasks/notice/objections.resolve_objection);
- windows to close: the bureau's open level windows that are due or may close now
  (tasks/review/level_close.why_not_closable);
- plans to review: 实施方案 waiting for the ministry (意见、批复) or for the province (报送、备案版);
- tranches to confirm: a province's approved plan's tranches that are due, received or awaiting the allocation report.

Every item carries its deadline, the working days left on the statutory calendar and whether it is overdue.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import lru_cache
from typing import Any, Optional

from sqlalchemy import func, select
from sqlmodel import Session

from models.application import Application
from models.calendar import statutory_calendar
from models.clock import SHANGHAI, clock, local
from models.enterprise import Enterprise
from models.enums import JurisdictionLevel, ReviewLevel, Role
from models.errors import SrdiError
from models.funding import FundTranche, TrancheStatus
from models.funding_plan import ImplementationPlan, PlanStatus
from models.jurisdiction import Jurisdiction
from models.notice import Notice, Objection, ObjectionStatus
from models.programme import Call
from models.review import LevelWindow
from srdi.web import queries
from tasks.people.actors import BUREAU_ROLES, Actor
from tasks.reference.calls import call_context
from tasks.review.level_close import UNDECIDED, OpenWindow, open_children, why_not_closable

KINDS = {"application": "待审核申报", "objection": "待处理异议", "window": "待结束审核", "plan": "待办实施方案",
         "tranche": "待确认资金"}
HORIZON_WORKDAYS = 10
MINISTRY_PLAN_STEPS = {PlanStatus.submitted: "登记初步合规性审核意见", PlanStatus.preliminary_opinion: "登记正式合规性审核意见",
                       PlanStatus.filed: "批复备案版"}
PROVINCE_PLAN_STEPS = {PlanStatus.drafting: "报送实施方案（报送版）", PlanStatus.formal_opinion: "按正式意见报送备案版"}
TRANCHE_STEPS = {TrancheStatus.scheduled: "计划下达日已到：登记指标发文", TrancheStatus.received: "按分配方案拨付（先预览，再确认）",
                 TrancheStatus.disbursed: "分配方案报财政部（抄送当地监管局）"}
END_OF_DAY = time(23, 59, 59)


@dataclass(frozen=True)
class Due:
    """A deadline as the inbox shows it: 剩余工作日 (negative once overdue), None when the calendar has no schedule."""

    at: Optional[datetime]
    workdays_left: Optional[int]
    overdue: bool


@lru_cache(maxsize=512)
def _workdays(today: date, day: date) -> Optional[int]:
    calendar = statutory_calendar()
    try:
        return calendar.workdays_between(today, day) if day >= today else -calendar.workdays_between(day, today)
    except SrdiError:      # a year without an official schedule: say nothing rather than guess
        return None


def due(at: Optional[datetime], now: datetime) -> Due:
    if at is None:
        return Due(None, None, False)
    return Due(at, _workdays(local(now).date(), local(at).date()), at < now)


def applications(session: Session, scope: Actor, flt: queries.ApplicationFilter, sort: Optional[str], direction: str,
                 now: datetime, limit: int = 200) -> tuple[list[dict[str, Any]], int]:
    """Applications pending at the user's desk (reviewers only), sorted in SQL; and how many there are."""
    if scope.role != Role.reviewer or scope.jurisdiction_level is None:
        return [], 0
    rows, total = queries.at_desk(session, scope, flt, sort or "deadline", direction, limit)
    return [{**r, "due": due(r["deadline_at"], now)} for r in rows], total


def objections(session: Session, scope: Actor, now: datetime, call_id: Optional[str] = None) -> list[dict[str, Any]]:
    """Open objections on the 公示 this bureau published; due by the notice's close."""
    if scope.role not in BUREAU_ROLES:
        return []
    stmt = (
        select(Objection.id, Objection.notice_id, Objection.objector, Objection.grounds, Objection.received_at,
               Notice.title.label("notice_title"), Notice.closes_at, Notice.call_id, Application.ref,
               Enterprise.name.label("enterprise_name"))
        .join(Notice, Notice.id == Objection.notice_id)
        .join(Application, Application.id == Objection.application_id)
        .join(Enterprise, Enterprise.id == Application.enterprise_id)
        .where(Objection.status == ObjectionStatus.open, Notice.jurisdiction_code == scope.jurisdiction_code)
        .order_by(Notice.closes_at, Objection.id)
    )
    if call_id:
        stmt = stmt.where(Notice.call_id == call_id)
    return [{"kind": "objection", "id": r["id"], "title": f"{r['enterprise_name']}（{r['ref']}）：{r['objector']}提出异议",
             "detail": f"《{r['notice_title']}》；理由：{r['grounds']}", "call_id": r["call_id"],
             "link": f"/notices/{r['notice_id']}#objection-{r['id']}", "action": "调查并作出结论", "due": due(r["closes_at"], now)}
            for r in session.execute(stmt).mappings()]


def windows(session: Session, scope: Actor, now: datetime, call_id: Optional[str] = None) -> list[dict[str, Any]]:
    """This bureau's open level windows that are due or may close now, with why one may not close yet."""
    if scope.role not in BUREAU_ROLES:
        return []
    table = LevelWindow.__table__
    mine = select(table.c.call_id).where(table.c.jurisdiction_code == scope.jurisdiction_code, table.c.closed_at.is_(None))
    if call_id:
        mine = mine.where(table.c.call_id == call_id)
    calls = sorted(set(session.execute(mine).scalars()))
    if not calls:
        return []
    rows = session.execute(select(table, Jurisdiction.path, Call.name.label("call_name"))
                           .join(Jurisdiction, Jurisdiction.code == table.c.jurisdiction_code)
                           .join(Call, Call.id == table.c.call_id)
                           .where(table.c.call_id.in_(calls), table.c.closed_at.is_(None))).all()
    undecided = Counter({(c, lv, code): n for c, lv, code, n in session.execute(
        select(Application.call_id, Application.level, Application.review_jurisdiction_code, func.count())
        .where(Application.call_id.in_(calls), Application.status.in_(UNDECIDED))
        .group_by(Application.call_id, Application.level, Application.review_jurisdiction_code))})
    names = {r.call_id: r.call_name for r in rows}
    by_call: dict[str, list[OpenWindow]] = defaultdict(list)
    for r in rows:
        by_call[r.call_id].append(OpenWindow(r, r.path, undecided[(r.call_id, r.level, r.jurisdiction_code)]))
    items = []
    for cid, open_here in by_call.items():
        context = call_context(session.connection(), cid)
        below = open_children(context, open_here)
        for item in open_here:
            window = item.window
            if window.jurisdiction_code != scope.jurisdiction_code:
                continue
            why = why_not_closable(context, item, below(item), now)
            if why is not None and now < window.late_from:
                continue           # neither due nor closable: nothing to do yet
            pending = f"，尚有 {item.undecided} 件未办结，结束时按规程处理" if item.undecided else ""
            what = f"{ReviewLevel(window.level).label}级审核（{scope.jurisdiction_name}）"
            items.append({"kind": "window", "id": window.id, "title": f"{names[cid]}：{what}",
                          "detail": why or f"可以结束{pending}",
                          "call_id": cid, "link": f"/stages?call={cid}", "action": "结束本级审核" if why is None else "暂不能结束",
                          "due": due(window.due_at, now)})
    return items


def plans(session: Session, scope: Actor, now: datetime) -> list[dict[str, Any]]:
    """实施方案 waiting for this bureau: the ministry's opinions and approval, the province's submissions."""
    if scope.role not in BUREAU_ROLES:
        return []
    if scope.jurisdiction_level == JurisdictionLevel.ministry:
        steps, where = MINISTRY_PLAN_STEPS, scope.path_clause(Jurisdiction.path)
    elif scope.jurisdiction_level == JurisdictionLevel.province:
        steps, where = PROVINCE_PLAN_STEPS, ImplementationPlan.province_code == scope.jurisdiction_code
    else:
        return []
    stmt = (select(ImplementationPlan.id, ImplementationPlan.title, ImplementationPlan.status, Jurisdiction.name.label("province"))
            .join(Jurisdiction, Jurisdiction.code == ImplementationPlan.province_code)
            .where(where, ImplementationPlan.status.in_(list(steps))).order_by(ImplementationPlan.id))
    return [{"kind": "plan", "id": r["id"], "title": r["title"], "detail": f"{r['province']} · {PlanStatus(r['status']).label}",
             "call_id": None, "link": f"/funds?plan={r['id']}", "action": steps[PlanStatus(r["status"])], "due": due(None, now)}
            for r in session.execute(stmt).mappings()]


def tranches(session: Session, scope: Actor, now: datetime) -> list[dict[str, Any]]:
    """A province's tranches to act on: planned date within the horizon, indicator received, or allocation report owed."""
    if scope.role not in BUREAU_ROLES or scope.jurisdiction_level != JurisdictionLevel.province:
        return []
    try:
        horizon = statutory_calendar().add_workdays(local(now).date(), HORIZON_WORKDAYS)
    except SrdiError:
        horizon = local(now).date()
    stmt = (select(FundTranche.id, FundTranche.plan_id, FundTranche.tranche_index, FundTranche.label, FundTranche.status,
                   FundTranche.scheduled_on, FundTranche.allocation_plan_due_at, ImplementationPlan.title)
            .join(ImplementationPlan, ImplementationPlan.id == FundTranche.plan_id)
            .where(ImplementationPlan.province_code == scope.jurisdiction_code, ImplementationPlan.status == PlanStatus.approved,
                   FundTranche.status.in_(list(TRANCHE_STEPS)))
            .order_by(FundTranche.scheduled_on, FundTranche.id))
    items = []
    for r in session.execute(stmt).mappings():
        status = TrancheStatus(r["status"])
        if status == TrancheStatus.scheduled and r["scheduled_on"] > horizon:
            continue
        at = r["allocation_plan_due_at"] or datetime.combine(r["scheduled_on"], END_OF_DAY, tzinfo=SHANGHAI)
        items.append({"kind": "tranche", "id": r["id"], "title": f"{r['title']} 第{r['tranche_index']}笔（{r['label']}）",
                      "detail": status.label, "call_id": None, "link": f"/funds?plan={r['plan_id']}",
                      "action": TRANCHE_STEPS[status], "due": due(at, now)})
    return items


def other_items(session: Session, scope: Actor, kind: Optional[str], call_id: Optional[str]) -> list[dict[str, Any]]:
    """Objections, windows, plans and tranches in one list, soonest deadline first (none last)."""
    now = clock.now()
    readers = {"objection": lambda: objections(session, scope, now, call_id), "window": lambda: windows(session, scope, now, call_id),
               "plan": lambda: plans(session, scope, now), "tranche": lambda: tranches(session, scope, now)}
    items = [item for name, read in readers.items() if kind in (None, name) for item in read()]
    if call_id:
        items = [item for item in items if item["call_id"] in (None, call_id)]
    far = datetime.max.replace(tzinfo=SHANGHAI)
    return sorted(items, key=lambda i: (i["due"].at or far, i["kind"], i["id"]))
