"""更名备案: a titled enterprise that changes its name must file it within the profile's period.

Recording the change (from the registry, or when the enterprise files) opens one obligation per
programme whose profile sets a period (``validity.name_change_within_days`` / ``_months``) and in
which the enterprise holds an active title, with the deadline ``name_change:{id}``. A filing in
time is accepted; a late filing — or none by the deadline — is, per the profile's rule, a deemed
waiver of the title (河北: 逾期不报的，视为自动放弃“专精特新”中小企业相应资格), so the title is
revoked with that reason.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Optional

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from models.calendar import statutory_calendar
from models.clock import clock, local
from models.deadline import DeadlineState
from models.enterprise import Enterprise
from models.enums import Role
from models.errors import Forbidden, RuleViolation
from models.name_change import NameChange, NameChangeStatus
from models.profile import Validity
from models.recognition import Recognition, RecognitionStatus
from models.workflow import NAME_CHANGE
from models.workflow_writer import Actor, SystemActor, apply, create
from tasks.people.actors import bureau_actor, load_actor
from tasks.recognition.sanctions import find_enterprise
from tasks.recognition.titles import end_of_day, revoke_recognitions
from tasks.reference.calls import get_profile
from tasks.reminders.deadlines import close_deadlines, register_deadlines


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later; a day the month lacks becomes its last day (1-31 + 1 → 2-28)."""
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def name_change_due(changed_on: date, validity: Validity) -> Optional[datetime]:
    """End of the last day to file a change made on ``changed_on``; None when the profile sets no period."""
    if validity.name_change_within_months:
        return end_of_day(add_months(changed_on, validity.name_change_within_months))
    if validity.name_change_within_days:
        days = validity.name_change_within_days
        if validity.name_change_unit == "working_days":
            return end_of_day(statutory_calendar().add_workdays(changed_on, days))
        return end_of_day(changed_on + timedelta(days=days))
    return None


def record_name_change(connection: Connection, uscc: str, new_name: str, changed_on: date,
                       now: Optional[datetime] = None, actor: Optional[Actor] = None) -> list[int]:
    """Open the filing obligations of a change of name (idempotent); returns their ids.

    ``actor`` is who reports the change (the filer); by default the registry feed (``system``)."""
    now = now or clock.now()
    if not new_name or not new_name.strip() or len(new_name.strip()) > 128:
        raise RuleViolation("新名称必填，不超过128个字")
    enterprise = find_enterprise(connection, uscc)
    if changed_on > local(now).date():
        raise RuleViolation(f"更名日期 {changed_on} 晚于今天")
    titles = connection.execute(
        select(Recognition.id, Recognition.programme_id, Recognition.jurisdiction_code, Recognition.certificate_no)
        .where(Recognition.enterprise_id == enterprise.id, Recognition.status == RecognitionStatus.active)
        .order_by(Recognition.id)).all()
    rows = []
    for title in titles:
        validity = get_profile(title.programme_id).validity
        due = name_change_due(changed_on, validity) if validity else None
        if due is not None and title.programme_id not in {r["programme_id"] for r in rows}:
            rows.append({"enterprise_id": enterprise.id, "programme_id": title.programme_id, "recognition_id": title.id,
                         "old_name": enterprise.name, "new_name": new_name.strip(), "changed_on": changed_on,
                         "due_at": due, "created_at": now,
                         "_jurisdiction": title.jurisdiction_code})
    existing = set(connection.execute(select(NameChange.programme_id).where(
        NameChange.enterprise_id == enterprise.id, NameChange.changed_on == changed_on)).scalars())
    new = [r for r in rows if r["programme_id"] not in existing]
    if new:
        create(connection, NAME_CHANGE, "record", [{k: v for k, v in r.items() if k != "_jurisdiction"} for r in new],
               actor=actor or SystemActor(), at=now, reason=f"{enterprise.name}更名为{new_name.strip()}")
    connection.execute(update(Enterprise).where(Enterprise.id == enterprise.id).values(name_changed_on=changed_on))
    ids = dict(connection.execute(select(NameChange.programme_id, NameChange.id).where(
        NameChange.enterprise_id == enterprise.id, NameChange.changed_on == changed_on)).all())
    register_deadlines(connection, [{
        "key": f"name_change:{ids[r['programme_id']]}", "kind": "name_change", "due_at": r["due_at"],
        "title": f"{r['old_name']}更名为{r['new_name']}，须于{local(r['due_at']):%Y年%m月%d日}前报备更名",
        "jurisdiction_code": r["_jurisdiction"], "enterprise_id": enterprise.id, "subject": f"enterprise:{enterprise.id}",
    } for r in new])
    return sorted(ids.values())


def _filer(connection: Connection, username: str, enterprise) -> Actor:
    """Who files: the enterprise's own applicant user, or a bureau user covering it."""
    actor = load_actor(connection, username)
    if actor.role == Role.applicant:
        if actor.enterprise_id != enterprise.id:
            raise Forbidden(f"申报用户 {username} 只能为本企业报备更名")
        return actor
    return bureau_actor(connection, username, enterprise.jurisdiction_code, "登记该企业的更名备案")


def file_name_change(connection: Connection, uscc: str, new_name: str, changed_on: date, username: str,
                     now: Optional[datetime] = None) -> dict:
    """报备更名: accepted in time; late, it is recorded and the title deemed waived per the profile."""
    now = now or clock.now()
    enterprise = find_enterprise(connection, uscc)
    filer = _filer(connection, username, enterprise)
    ids = record_name_change(connection, uscc, new_name, changed_on, now, actor=filer)
    pending = connection.execute(select(NameChange).where(
        NameChange.id.in_(ids), NameChange.status == NameChangeStatus.pending)).all()
    in_time = [r for r in pending if now <= r.due_at]
    late = [r for r in pending if now > r.due_at]
    connection.execute(update(Enterprise).where(Enterprise.id == enterprise.id).values(name=new_name.strip()))
    _settle(connection, in_time, "file", now, filer)
    _settle(connection, late, "file_late", now, filer)
    return {"filed": len(in_time), "late": len(late),
            "revoked": _waive(connection, late, now) if late else 0}


def lapse_unfiled_name_changes(connection: Connection, now: Optional[datetime] = None) -> dict:
    """Due step: obligations not filed by their deadline are deemed a waiver of the title."""
    now = now or clock.now()
    overdue = connection.execute(select(NameChange).where(
        NameChange.status == NameChangeStatus.pending, NameChange.due_at < now).order_by(NameChange.id)).all()
    _settle(connection, overdue, "waive", now, None)
    return {"name_changes_waived": len(overdue), "name_change_revoked": _waive(connection, overdue, now)}


def _settle(connection: Connection, rows: list, action: str, now: datetime, filer: Optional[Actor]) -> None:
    """The pending obligations among ``rows`` take ``action`` (file / file_late / waive of NAME_CHANGE)."""
    values = {"settled_at": now, **({"filed_at": now, "filed_by": filer.username} if filer else {})}
    apply(connection, NAME_CHANGE, action, [r.id for r in rows], actor=filer or SystemActor(), at=now, values=values,
          skip_others=True)
    state = DeadlineState.met if action == "file" else DeadlineState.missed
    close_deadlines(connection, [f"name_change:{r.id}" for r in rows], state, at=now)


def _waive(connection: Connection, rows: list, now: datetime) -> int:
    reasons: dict[str, list[int]] = defaultdict(list)
    for r in rows:
        reasons[f"{r.changed_on}更名后未于{local(r.due_at):%Y年%m月%d日}前报备，视为自动放弃资格"].append(r.recognition_id)
    return sum(revoke_recognitions(connection, ids, reason, now) for reason, ids in sorted(reasons.items()))
