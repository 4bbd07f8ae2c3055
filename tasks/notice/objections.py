"""异议: objections raised against a listed application during a 公示, and their investigation.

An objection is received only inside the window (``opens_at`` ≤ received < ``closes_at``); it puts
the application on hold. The investigation ends upheld (异议成立: the application is removed from
the list, the finding kept as the reason) or rejected (异议不成立: back on the list once no other
objection is open). If the window has already closed when the last objection is rejected, the
application is recognised at once, as it would have been at the close.
"""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import select
from sqlalchemy.engine import Connection

from models.application import Application
from models.clock import clock, local
from models.enums import ApplicationStatus
from models.errors import Conflict, NotFound, RuleViolation
from models.notice import Notice, NoticeEntry, NoticeStatus, Objection, ObjectionStatus
from models.workflow import NOTICE_ENTRY, OBJECTION
from models.workflow_writer import apply, create
from tasks.people.actors import Actor, bureau_actor
from tasks.review.moves import move_applications

OUTCOMES = {"upheld": ObjectionStatus.upheld, "rejected": ObjectionStatus.rejected}
ACTIONS = {ObjectionStatus.upheld: "uphold", ObjectionStatus.rejected: "reject"}   # models/workflow.py OBJECTION


def beijing(dt: datetime) -> str:
    return f"{local(dt):%Y年%m月%d日 %H:%M}（北京时间）"


def _listing(connection: Connection, application_ref: str):
    row = connection.execute(
        select(Application.id, Application.ref, Application.status, NoticeEntry.id.label("entry_id"),
               Notice.id.label("notice_id"), Notice.opens_at, Notice.closes_at, Notice.status.label("notice_status"),
               Notice.jurisdiction_code, Notice.title)
        .outerjoin(NoticeEntry, NoticeEntry.application_id == Application.id)
        .outerjoin(Notice, Notice.id == NoticeEntry.notice_id)
        .where(Application.ref == application_ref)
    ).first()
    if row is None:
        raise NotFound(f"申报编号 {application_ref} 不存在")
    if row.notice_id is None:
        raise RuleViolation(f"申请 {application_ref} 不在任何公示名单上，不能对其提出异议")
    return row


def record_objection(connection: Connection, application_ref: str, *, objector: str, contact: str, grounds: str,
                     username: str, received_at: Optional[datetime] = None) -> int:
    """Record an objection received at ``received_at`` (default now); refused outside the window."""
    received_at = received_at or clock.now()
    missing = [label for label, value in (("异议人", objector), ("联系方式", contact), ("异议理由", grounds))
               if not value or not value.strip()]
    if missing:
        raise RuleViolation(f"异议须写明{'、'.join(missing)}")
    row = _listing(connection, application_ref)
    actor = bureau_actor(connection, username, row.jurisdiction_code, "登记该公示的异议")
    if received_at >= row.closes_at or row.notice_status == NoticeStatus.closed:
        raise RuleViolation(f"《{row.title}》已于 {beijing(row.closes_at)} 截止，不再受理异议")
    if received_at < row.opens_at:
        raise RuleViolation(f"《{row.title}》自 {beijing(row.opens_at)} 起公示，此前不受理异议")
    if row.status not in (ApplicationStatus.on_notice, ApplicationStatus.on_hold):
        raise RuleViolation(f"申请 {application_ref} 当前状态为 {row.status}，已不在公示名单上")
    [objection_id] = create(connection, OBJECTION, "record", [dict(
        notice_id=row.notice_id, application_id=row.id, objector=objector.strip(), contact=contact.strip(),
        grounds=grounds.strip(), received_at=received_at, recorded_by=actor.username,
    )], actor=actor, at=received_at, reason=grounds.strip())
    if row.status == ApplicationStatus.on_notice:
        move_applications(connection, [row.id], ApplicationStatus.on_notice, ApplicationStatus.on_hold,
                          action="objection", actor=actor, at=received_at, step_key=f"objection:{objection_id}",
                          reason=f"收到异议（{objector.strip()}）：{grounds.strip()}")
        _move_entry(connection, row.entry_id, "hold", actor, received_at, f"objection:{objection_id}")
    return objection_id


def resolve_objection(connection: Connection, objection_id: int, outcome: str, finding: str, username: str,
                      now: Optional[datetime] = None) -> dict:
    """Close the investigation: ``upheld`` removes the application, ``rejected`` puts it back."""
    now = now or clock.now()
    if outcome not in OUTCOMES:
        raise RuleViolation(f"调查结论应为 upheld（异议成立）或 rejected（异议不成立），实际为 {outcome!r}")
    if not finding or not finding.strip():
        raise RuleViolation("须写明调查结论（finding）")
    objection = connection.execute(select(Objection).where(Objection.id == objection_id)).first()
    if objection is None:
        raise NotFound(f"异议 {objection_id} 不存在")
    notice = connection.execute(select(Notice).where(Notice.id == objection.notice_id)).first()
    actor = bureau_actor(connection, username, notice.jurisdiction_code, "处理该公示的异议")
    if objection.status != ObjectionStatus.open:
        raise Conflict(f"异议 {objection_id} 已于 {beijing(objection.decided_at)} 由 {objection.decided_by} 处理（{objection.status}）")
    status = OUTCOMES[outcome]
    apply(connection, OBJECTION, ACTIONS[status], [objection_id], actor=actor, at=now, reason=finding.strip(),
          values={"finding": finding.strip(), "decided_by": actor.username, "decided_at": now},
          conflict=f"异议 {objection_id} 已被他人处理，请刷新后查看")
    return {"objection": objection_id, "outcome": status,
            "application_status": _settle_application(connection, objection, notice, status, finding.strip(), actor, now)}


def _settle_application(connection, objection, notice, status, finding, actor, now) -> str:
    app_status = connection.execute(
        select(Application.status).where(Application.id == objection.application_id)
    ).scalar_one()
    entry_id = connection.execute(
        select(NoticeEntry.id).where(NoticeEntry.application_id == objection.application_id)
    ).scalar_one()
    step = f"objection:{objection.id}"
    if app_status != ApplicationStatus.on_hold:
        return app_status  # already removed by another upheld objection
    if status == ObjectionStatus.upheld:
        move_applications(connection, [objection.application_id], ApplicationStatus.on_hold, ApplicationStatus.removed,
                          action="objection-upheld", actor=actor, at=now, step_key=step,
                          reason=f"异议成立，移出公示名单：{finding}")
        _move_entry(connection, entry_id, "remove", actor, now, step)
        return ApplicationStatus.removed
    still_open = connection.execute(
        select(Objection.id).where(Objection.application_id == objection.application_id,
                                   Objection.status == ObjectionStatus.open)
    ).first()
    if still_open:
        return ApplicationStatus.on_hold
    move_applications(connection, [objection.application_id], ApplicationStatus.on_hold, ApplicationStatus.on_notice,
                      action="objection-rejected", actor=actor, at=now, step_key=step,
                      reason=f"异议不成立，恢复公示：{finding}")
    _move_entry(connection, entry_id, "restore", actor, now, step)
    if notice.closes_at <= now:
        from tasks.notice.publication import recognise_listed

        recognise_listed(connection, notice, now)
        return ApplicationStatus.recognised
    return ApplicationStatus.on_notice


def _move_entry(connection: Connection, entry_id: int, action: str, actor: Actor, now: datetime, step: str) -> None:
    """The 公示 entry follows its application: hold, remove or restore (models/workflow.py NOTICE_ENTRY)."""
    apply(connection, NOTICE_ENTRY, action, [entry_id], actor=actor, at=now, step_key=step)
