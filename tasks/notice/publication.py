"""公示: open a notice for the recommended list of a call's final level, and close it.

Opening lists every application recommended at the final level (status ``recommended``) of one
publishing jurisdiction, stores the close time computed once from the profile's rule, moves the
applications to ``on_notice`` and registers the deadline ``notice:{id}``. Closing, once
``closes_at`` has passed, recognises every listed application that is still ``on_notice`` (no open
and no upheld objection); those on hold wait for their investigation (tasks/notice/objections.py).
Both steps are set-based and idempotent: a second run finds nothing left to do.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Optional

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from models.application import Application
from models.calendar import StatutoryCalendar, statutory_calendar
from models.clock import SHANGHAI, clock, local
from models.deadline import DeadlineState
from models.enterprise import Enterprise
from models.enums import ApplicationStatus, ReviewLevel
from models.errors import NotFound, RuleViolation
from models.jurisdiction import Jurisdiction
from models.notice import Notice, NoticeEntry, NoticeEntryStatus, NoticeStatus, Objection
from models.profile import NoticeRule
from models.programme import Call
from models.review import LevelWindow
from models.workflow import NOTICE, NOTICE_ENTRY
from models.workflow_writer import SystemActor, apply, create, initial, record_created
from tasks.people.actors import Actor, bureau_actor
from tasks.recognition.titles import issue_recognitions
from tasks.reference.calls import call_context, get_profile, open_calls
from tasks.reference.routing import Tree
from tasks.reminders.deadlines import close_deadlines, register_deadlines
from tasks.review.moves import move_applications


def notice_end_date(opening_day: date, rule: NoticeRule, calendar: StatutoryCalendar | None = None) -> date:
    """The last day of a notice published on ``opening_day`` (Beijing date).

    Working days are statutory working days (调休 make-up days count, holidays do not). When the
    opening day counts, it is day 1 — if it is itself a day of the period's kind; otherwise
    counting starts the next day (民法典第二百零一条: 开始的当日不计入).
    """
    if rule.unit == "natural_days":
        return opening_day + timedelta(days=rule.length - (1 if rule.opening_day_counts else 0))
    calendar = calendar or statutory_calendar()
    if rule.opening_day_counts and calendar.is_workday(opening_day):
        return calendar.add_workdays(opening_day, rule.length - 1)
    return calendar.add_workdays(opening_day, rule.length)


def notice_closes_at(opens_at: datetime, rule: NoticeRule, calendar: StatutoryCalendar | None = None) -> datetime:
    """The instant the window closes: the last day at the rule's close time, Beijing time."""
    end = notice_end_date(local(opens_at).date(), rule, calendar)
    return datetime.combine(end, rule.close_time, tzinfo=SHANGHAI)


def recommended_by_publisher(connection: Connection, call: Call, level: ReviewLevel,
                             publisher: ReviewLevel) -> tuple[dict[str, list], int]:
    """Applications recommended at the final ``level`` whose level window has closed and that are
    not listed yet, grouped by publishing jurisdiction; and how many still wait for their window."""
    rows = connection.execute(
        select(Application.id, Application.ref, Application.enterprise_id, Application.jurisdiction_code,
               LevelWindow.closed_at)
        .outerjoin(NoticeEntry, NoticeEntry.application_id == Application.id)
        .outerjoin(LevelWindow, (LevelWindow.call_id == Application.call_id) & (LevelWindow.level == Application.level)
                   & (LevelWindow.jurisdiction_code == Application.review_jurisdiction_code))
        .where(Application.call_id == call.id, Application.level == level,
               Application.status == ApplicationStatus.recommended, NoticeEntry.id.is_(None))
        .order_by(Application.ref)
    ).all()
    ready = [row for row in rows if row.closed_at is not None]
    tree = Tree.load(connection) if ready else None
    groups: dict[str, list] = defaultdict(list)
    for row in ready:
        groups[tree.reviewer_at(row.jurisdiction_code, publisher)].append(row)
    return dict(groups), len(rows) - len(ready)


def open_notice(connection: Connection, call_id: str, *, jurisdiction_code: Optional[str] = None,
                username: Optional[str] = None, now: Optional[datetime] = None, quiet: bool = False) -> list[int]:
    """Open one notice per publishing jurisdiction for the call's final-level recommended list.

    Only applications whose final-level window has closed are listed (the level close applied the
    quota). Returns the ids of the notices opened — empty when nothing is waiting, so a re-run is a
    no-op; ``quiet`` returns empty rather than refusing when the final level is still open.
    ``username`` (a bureau user covering the publishing jurisdiction) opens it; default ``system``.
    """
    now = now or clock.now()
    context = call_context(connection, call_id)
    call, profile = context.call, context.profile
    rule = profile.notice
    if rule is None:
        raise RuleViolation(f"项目规程 {profile.id} 未规定公示（notice），不能为批次 {call_id} 开启公示")
    groups, waiting = recommended_by_publisher(connection, call, context.final.level, rule.publisher)
    if jurisdiction_code:
        groups = {code: rows for code, rows in groups.items() if code == jurisdiction_code}
    if not groups and waiting and not quiet:
        raise RuleViolation(f"批次 {call_id} 有 {waiting} 件{context.final.level.label}级已推荐的申请，"
                            f"但该级审核尚未结束（未按名额确定推荐名单），不能开启公示")
    closes_at = notice_closes_at(now, rule)  # refuses a year without a holiday schedule, before any write
    opened = []
    for code, rows in sorted(groups.items()):
        actor = bureau_actor(connection, username, code, "发布该公示") if username else Actor.system(code)
        opened.append(_open_one(connection, call, rule, code, rows, closes_at, actor, now))
    return opened


def _open_one(connection, call, rule, code, rows, closes_at, actor, now) -> int:
    last_round = connection.execute(
        select(func.max(Notice.round)).where(Notice.call_id == call.id, Notice.jurisdiction_code == code)
    ).scalar()
    round_no = (last_round or 0) + 1
    name = connection.execute(select(Jurisdiction.name).where(Jurisdiction.code == code)).scalar() or code
    listing = "拟通过复核名单" if call.kind == "re_review" else "拟认定名单"
    suffix = f"（第{round_no}批）" if round_no > 1 else ""
    title = f"{'' if name in call.name else name}{call.name}{listing}公示{suffix}"
    [notice_id] = create(connection, NOTICE, "open", [dict(
        call_id=call.id, programme_id=call.programme_id, level=rule.publisher, jurisdiction_code=code,
        round=round_no, title=title, opens_at=now, closes_at=closes_at, length=rule.length, unit=rule.unit,
        opening_day_counts=rule.opening_day_counts, opened_by=actor.username, cite=rule.cite, created_at=now,
    )], actor=actor, at=now, reason=title)
    connection.execute(NoticeEntry.__table__.insert(),   # one executemany; the entries are then logged in one INSERT … SELECT
                       [{"notice_id": notice_id, "application_id": row.id, "enterprise_id": row.enterprise_id, "position": i,
                         **initial(NOTICE_ENTRY, "list"), "updated_at": now} for i, row in enumerate(rows, start=1)])
    entries = connection.execute(select(NoticeEntry.id).where(NoticeEntry.notice_id == notice_id)).scalars().all()
    record_created(connection, NOTICE_ENTRY, "list", entries, actor=actor, at=now, step_key=f"notice:{notice_id}:open")
    move_applications(connection, [row.id for row in rows], ApplicationStatus.recommended, ApplicationStatus.on_notice,
                      action="notice-open", actor=actor, at=now, step_key=f"notice:{notice_id}:open",
                      reason=f"{title}，公示至 {local(closes_at):%Y-%m-%d %H:%M}")
    register_deadlines(connection, [{
        "key": f"notice:{notice_id}", "kind": "notice_close", "title": f"{title}截止",
        "due_at": closes_at, "jurisdiction_code": code, "call_id": call.id, "subject": f"notice:{notice_id}",
    }])
    return notice_id


def open_due_notices(connection: Connection, now: Optional[datetime] = None, calls: Optional[list[str]] = None) -> dict:
    """Due step: open the notices of every open call (or of ``calls``) whose final level has closed with a list."""
    now = now or clock.now()
    opened = []
    for call in open_calls(connection, calls):
        if get_profile(call.programme_id).notice is None:
            continue
        opened += open_notice(connection, call.id, now=now, quiet=True)
    return {"notices_opened": len(opened)}


def close_due_notices(connection: Connection, now: Optional[datetime] = None, calls: Optional[list[str]] = None) -> dict:
    """Close every open notice (of ``calls``, if given) whose window has ended; recognise its unchallenged entries."""
    now = now or clock.now()
    due = select(Notice).where(Notice.status == NoticeStatus.open, Notice.closes_at <= now).order_by(Notice.id)
    notices = connection.execute(due if calls is None else due.where(Notice.call_id.in_(calls))).all()
    recognised = 0
    for notice in notices:
        recognised += recognise_listed(connection, notice, now)
    apply(connection, NOTICE, "close", [n.id for n in notices], actor=SystemActor(), at=now, values={"closed_at": now},
          jurisdiction_column="jurisdiction_code", skip_others=True)
    close_deadlines(connection, [f"notice:{n.id}" for n in notices], DeadlineState.met, at=now)
    return {"notices_closed": len(notices), "recognised": recognised}


def recognise_listed(connection: Connection, notice, now: datetime) -> int:
    """Recognise the entries of a notice whose window has ended and whose application is on_notice."""
    rows = connection.execute(
        select(NoticeEntry.id, NoticeEntry.application_id, NoticeEntry.enterprise_id)
        .join(Application, Application.id == NoticeEntry.application_id)
        .where(NoticeEntry.notice_id == notice.id, NoticeEntry.status == NoticeEntryStatus.listed,
               Application.status == ApplicationStatus.on_notice)
        .order_by(NoticeEntry.position)
    ).all()
    if not rows:
        return 0
    actor = Actor.system(notice.jurisdiction_code)
    move_applications(connection, [r.application_id for r in rows], ApplicationStatus.on_notice,
                      ApplicationStatus.recognised, action="recognise", actor=actor, at=now,
                      step_key=f"notice:{notice.id}:close", reason=f"{notice.title}期满无异议，予以认定")
    apply(connection, NOTICE_ENTRY, "recognise", [r.id for r in rows], actor=actor, at=now,
          step_key=f"notice:{notice.id}:close")
    issue_recognitions(connection, notice, [(r.application_id, r.enterprise_id) for r in rows], now)
    return len(rows)


def notice_detail(connection: Connection, notice_id: int) -> dict:
    """A notice with its entries and objections, for `srdi notice show`."""
    notice = connection.execute(select(Notice).where(Notice.id == notice_id)).first()
    if notice is None:
        raise NotFound(f"公示 {notice_id} 不存在")
    entries = connection.execute(
        select(NoticeEntry.position, Application.ref, Enterprise.uscc, Enterprise.name.label("enterprise_name"),
               NoticeEntry.status, Application.status.label("application_status"))
        .join(Application, Application.id == NoticeEntry.application_id)
        .join(Enterprise, Enterprise.id == NoticeEntry.enterprise_id)
        .where(NoticeEntry.notice_id == notice_id).order_by(NoticeEntry.position)
    ).all()
    objections = connection.execute(
        select(Objection.id, Application.ref.label("application"), Objection.objector, Objection.contact,
               Objection.grounds, Objection.received_at, Objection.status, Objection.finding,
               Objection.decided_by, Objection.decided_at)
        .join(Application, Application.id == Objection.application_id)
        .where(Objection.notice_id == notice_id).order_by(Objection.id)
    ).all()
    return {
        "id": notice.id, "call_id": notice.call_id, "title": notice.title, "jurisdiction_code": notice.jurisdiction_code,
        "level": notice.level, "status": notice.status, "opens_at": local(notice.opens_at),
        "closes_at": local(notice.closes_at), "length": notice.length, "unit": notice.unit,
        "opening_day_counts": notice.opening_day_counts,
        "entries": [dict(r._mapping) for r in entries],
        "objections": [{**r._mapping, "received_at": local(r.received_at),
                        "decided_at": local(r.decided_at) if r.decided_at else None} for r in objections],
    }

