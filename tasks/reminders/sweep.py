"""Plan reminders from the deadline registry and queue their mails (提醒计划与发送队列).

Each working day the sweep looks at every deadline due within the longest reminder horizon (or
overdue within the escalation look-back), decides in Python which stage of its profile's policy
applies *today* — counted in statutory working days, so a holiday with 调休 moves reminders to
the right days — and then, in one transaction and a handful of set-based statements, inserts the
reminder rows it does not have yet (deadline × due date × stage × recipient is unique) and queues one mail
per new reminder in the outbox. Running it again the same day finds everything done.

Stages for an open deadline due on day D, with k = working days in (today, D]:
* k ≥ 1: ``before-N`` for the smallest N of the policy with N ≥ k (a missed sweep day catches up
  with one reminder of the latest stage, never a burst of old ones);
* k = 0: ``due-day`` — today is D, or the last working day before a D that is not one;
* past due (or marked missed) within ``ESCALATION_LOOKBACK``: ``overdue-escalation`` to the
  bureau one level up.

An open deadline overdue by more than ``ESCALATION_LOOKBACK`` is one the sweep has finished with:
it is marked missed (已逾期) in the same transaction and counted in the summary.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path

from sqlalchemy import String, cast, literal, or_, select, update
from sqlalchemy.engine import Connection, Engine

from models.calendar import CalendarYearMissing, StatutoryCalendar, statutory_calendar
from models.clock import SHANGHAI, clock, local
from models.db import get_engine
from models.deadline import Deadline, DeadlineState
from models.enterprise import Enterprise
from models.jurisdiction import Jurisdiction
from models.outbox import MailState, OutgoingMail
from models.profile import ProfileError, load_profile, profile_paths
from models.programme import Call
from models.reminder import DUE_DAY, ESCALATION, Reminder, before_stage
from models.reminder_policy import ReminderPolicy
from models.settings import settings
from notifications import recipients as people
from notifications.config import SmtpConfig
from notifications.ics import deadline_ics
from notifications.outbox import cancel_mails, insert_new, queue_mails
from notifications.render import RECIPIENT, personalise, render_mail
from tasks.reminders.deadlines import mark_missed

ESCALATION_LOOKBACK = timedelta(days=30)
DEFAULT_POLICY = ReminderPolicy()


@dataclass
class SweepResult:
    today: date
    skipped: str | None = None
    deadlines: int = 0
    reminders: int = 0
    mails: int = 0
    cancelled: int = 0
    missed: int = 0
    without_recipient: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Plan:
    stage: str
    remaining_workdays: int | None = None
    overdue_workdays: int | None = None


class _MemoCalendar:
    """Working-day counts memoised for one sweep: thousands of deadlines share a few due dates."""

    def __init__(self, calendar: StatutoryCalendar):
        self.workdays_between = lru_cache(maxsize=None)(calendar.workdays_between)


@lru_cache(maxsize=8)
def _policies_in(directory: Path, stamp: tuple) -> tuple[dict[str, ReminderPolicy], tuple[str, ...]]:
    policies, errors = {}, []
    for path in profile_paths(directory):
        try:
            policies[path.stem] = load_profile(path).reminders
        except ProfileError as exc:
            errors.append(str(exc))
    return policies, tuple(errors)


def reminder_policies(directory: Path | None = None) -> tuple[dict[str, ReminderPolicy], tuple[str, ...]]:
    """Programme id → its profile's reminder policy (re-read when a profile file changes)."""
    directory = directory or settings().programmes_dir
    paths = profile_paths(directory) if directory.is_dir() else []
    return _policies_in(directory, tuple((p.name, p.stat().st_mtime_ns) for p in paths))


def plan_for(due_at: datetime, state: str, today: date, now: datetime, policy: ReminderPolicy,
             calendar: StatutoryCalendar | _MemoCalendar) -> Plan | None:
    """The stage due today for one deadline, or None."""
    due_day = local(due_at).date()
    if state == DeadlineState.missed or due_at <= now:
        if not policy.escalate_when_overdue:
            return None
        return Plan(ESCALATION, overdue_workdays=calendar.workdays_between(due_day, today))
    remaining = calendar.workdays_between(today, due_day)
    if remaining == 0:
        return Plan(DUE_DAY, 0) if policy.on_due_day else None
    reached = [n for n in policy.before_workdays if n >= remaining]
    return Plan(before_stage(min(reached)), remaining) if reached else None


def _end_of_day(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), SHANGHAI)


def _horizon(today: date, policies: dict[str, ReminderPolicy], calendar: StatutoryCalendar) -> datetime:
    longest = max([max(p.before_workdays, default=0) for p in [*policies.values(), DEFAULT_POLICY]])
    try:
        return _end_of_day(calendar.add_workdays(today, longest))
    except CalendarYearMissing:
        # Select generously; each deadline's own computation then reports the missing year.
        return _end_of_day(today + timedelta(days=3 * longest + 14))


def _candidates(connection: Connection, now: datetime, horizon: datetime) -> list:
    d = Deadline.__table__.c
    return list(connection.execute(
        select(d.id, d.key, d.kind, d.title, d.due_at, d.state, d.jurisdiction_code, d.enterprise_id, d.call_id,
               Call.programme_id, Call.name.label("call_name"), Jurisdiction.name.label("jurisdiction_name"),
               Enterprise.name.label("enterprise_name"))
        .select_from(Deadline.__table__)
        .join(Jurisdiction, Jurisdiction.code == d.jurisdiction_code)
        .outerjoin(Call, Call.id == d.call_id)
        .outerjoin(Enterprise, Enterprise.id == d.enterprise_id)
        .where(d.due_at >= now - ESCALATION_LOOKBACK, or_(
            (d.state == DeadlineState.open) & (d.due_at < horizon), d.state == DeadlineState.missed))
        .order_by(d.due_at, d.id)
    ))


def _ascii_name(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", key).strip("-")[:80] + ".ics"


def _mail_for(reminder, deadline, plan: Plan, today: date, sender_name: str, cache: dict) -> dict:
    """The outbox row of one reminder; the text, HTML and .ics are made once per deadline."""
    escalating = plan.stage == ESCALATION
    if deadline.id not in cache:
        context = {
            "recipient_name": RECIPIENT, "title": deadline.title, "kind": deadline.kind,
            "due_at": deadline.due_at, "deadline_key": deadline.key, "stage": plan.stage,
            "remaining_workdays": plan.remaining_workdays, "overdue_workdays": plan.overdue_workdays,
            "due_today": local(deadline.due_at).date() == today, "today": today,
            "jurisdiction_name": deadline.jurisdiction_name, "enterprise_name": deadline.enterprise_name,
            "call_name": deadline.call_name, "sender_name": sender_name,
        }
        ics = None if escalating else deadline_ics(deadline.key, deadline.title, deadline.due_at,
                                                   f"责任单位：{deadline.jurisdiction_name}")
        cache[deadline.id] = (render_mail("escalation" if escalating else "reminder", context), ics)
    shared, ics = cache[deadline.id]
    mail = personalise(shared, reminder.recipient_name)
    return {
        "dedupe_key": f"reminder:{reminder.id}", "kind": "escalation" if escalating else "reminder",
        "to_addr": reminder.recipient, "to_name": reminder.recipient_name, "subject": mail.subject,
        "body_text": mail.text, "body_html": mail.html, "ics": ics,
        "ics_filename": _ascii_name(deadline.key) if ics else None,
    }


def _link_mails(connection: Connection, today: date) -> None:
    """reminder.mail_id ← the outbox row queued for it (one correlated UPDATE)."""
    r, m = Reminder.__table__.c, OutgoingMail.__table__.c
    mail_id = select(m.id).where(m.dedupe_key == literal("reminder:") + cast(r.id, String)).scalar_subquery()
    connection.execute(update(Reminder.__table__).where(r.mail_id.is_(None), r.planned_on == today).values(mail_id=mail_id))


def cancel_obsolete(connection: Connection) -> int:
    """Queued reminders that no longer hold are not sent: the deadline was met or cancelled
    meanwhile (已办结), or it was moved (延期) and the reminder names the old date."""
    r, d, m = Reminder.__table__.c, Deadline.__table__.c, OutgoingMail.__table__.c
    ids = list(connection.execute(
        select(m.id).join(Reminder.__table__, r.mail_id == m.id).join(Deadline.__table__, d.id == r.deadline_id)
        .where(m.state == MailState.queued, or_(
            (r.stage != ESCALATION) & d.state.in_([DeadlineState.met, DeadlineState.cancelled]),
            (d.state == DeadlineState.open) & (r.due_at != d.due_at)))
    ).scalars())
    return cancel_mails(connection, ids, "事项已办结或截止时间已变更，提醒取消")


def _plan_deadlines(connection: Connection, now: datetime, calendar: StatutoryCalendar,
                    policies: dict[str, ReminderPolicy], result: SweepResult) -> tuple[dict[int, Plan], dict]:
    """Deadline id → today's stage, and deadline id → its row, for every deadline due a reminder."""
    today = local(now).date()
    plans: dict[int, Plan] = {}
    deadlines = {}
    counting = _MemoCalendar(calendar)
    for row in _candidates(connection, now, _horizon(today, policies, calendar)):
        policy = policies.get(row.programme_id or "", DEFAULT_POLICY)
        if local(now).time() < policy.send_at:
            continue
        try:
            plan = plan_for(row.due_at, row.state, today, now, policy, counting)
        except CalendarYearMissing as exc:
            result.errors.append(f"{row.key}: {exc}")
            continue
        if plan:
            plans[row.id], deadlines[row.id] = plan, row
    return plans, deadlines


def plan_and_queue(connection: Connection, now: datetime | None = None, calendar: StatutoryCalendar | None = None,
                   policies: dict[str, ReminderPolicy] | None = None, config: SmtpConfig | None = None) -> SweepResult:
    """Plan today's reminders for every due deadline and queue their mails, and mark missed the open
    deadlines past the escalation look-back (one transaction)."""
    now = now or clock.now()
    calendar = calendar or statutory_calendar()
    today = local(now).date()
    result = SweepResult(today)
    if policies is None:
        policies, errors = reminder_policies()
        result.errors.extend(errors)
    config = config or SmtpConfig.from_settings()

    plans, deadlines = _plan_deadlines(connection, now, calendar, policies, result)
    result.deadlines = len(plans)

    escalated = [deadlines[i] for i, p in plans.items() if p.stage == ESCALATION]
    reminded = [deadlines[i] for i, p in plans.items() if p.stage != ESCALATION]
    who = {**people.responsible(connection, reminded), **people.escalation(connection, escalated)}
    rows = []
    for deadline_id, plan in plans.items():
        if not who.get(deadline_id):
            result.without_recipient.append(deadlines[deadline_id].key)
        for person in who.get(deadline_id, []):
            rows.append({"deadline_id": deadline_id, "due_at": deadlines[deadline_id].due_at,
                         "stage": plan.stage, "recipient": person.email,
                         "recipient_name": person.name, "recipient_kind": person.kind,
                         "recipient_jurisdiction": person.jurisdiction_code, "planned_on": today,
                         "created_at": now, "mail_id": None})
    result.reminders = insert_new(connection, Reminder.__table__, rows, ["deadline_id", "due_at", "stage", "recipient"])

    r = Reminder.__table__.c
    fresh = list(connection.execute(
        select(r.id, r.deadline_id, r.recipient, r.recipient_name)
        .where(r.mail_id.is_(None), r.planned_on == today).order_by(r.id)
    )) if rows else []
    rendered: dict = {}
    mails = [_mail_for(rem, deadlines[rem.deadline_id], plans[rem.deadline_id], today, config.sender_name, rendered)
             for rem in fresh if rem.deadline_id in plans]
    result.mails = queue_mails(connection, mails, config.domain, now)
    _link_mails(connection, today)
    result.cancelled = cancel_obsolete(connection)
    result.missed = mark_missed(connection, now, grace=ESCALATION_LOOKBACK)
    return result


def sweep(engine: Engine | None = None, now: datetime | None = None, calendar: StatutoryCalendar | None = None,
          **kwargs) -> SweepResult:
    """The daily reminder sweep's domain step: nothing on a non-working day (法定节假日/周末)."""
    now = now or clock.now()
    calendar = calendar or statutory_calendar()
    today = local(now).date()
    if not calendar.is_workday(today):
        return SweepResult(today, skipped=f"{today} 不是法定工作日，不发送提醒")
    with (engine or get_engine()).begin() as connection:
        return plan_and_queue(connection, now, calendar, **kwargs)
