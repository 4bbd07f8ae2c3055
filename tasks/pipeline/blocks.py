"""Blocked steps (流程受阻): record a step that cannot proceed for one subject, tell its bureau once.

A due step that fails for one call or tranche (no holiday schedule for the year its next window
needs, a broken profile, bad data) must not stop the country: the runner records the failure here
and goes on with the others. The subject's bureau (the call's organiser, the tranche's province)
gets one mail per episode; the row is cleared the next time the step succeeds for that subject, and
a later failure starts a new episode.
"""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from models.operations import GLOBAL_SCOPE, StepBlock
from models.programme import Call
from notifications.config import SmtpConfig
from notifications.outbox import insert_new, queue_mails
from notifications.recipients import bureau_staff
from notifications.render import render_mail
from tasks.reference.jurisdictions import MINISTRY_CODE

BLOCKS = StepBlock.__table__


def record_block(connection: Connection, subject: Optional[str], step: str, label: str, reason: str, now: datetime,
                 jurisdiction_code: Optional[str] = None, title: Optional[str] = None) -> bool:
    """Record that ``step`` failed for ``subject``; True when this starts a new episode.

    ``jurisdiction_code`` names the bureau to tell; for a call it defaults to the call's organiser.
    """
    subject = subject or GLOBAL_SCOPE
    reason = reason.strip() or "未知错误"
    call = connection.execute(select(Call.name, Call.jurisdiction_code).where(Call.id == subject)).first()
    code = jurisdiction_code or (call.jurisdiction_code if call else MINISTRY_CODE)
    current = connection.execute(
        select(BLOCKS.c.id, BLOCKS.c.cleared_at).where(BLOCKS.c.subject == subject, BLOCKS.c.step == step)).first()
    if current is None:
        insert_new(connection, BLOCKS, [{"subject": subject, "step": step, "reason": reason, "jurisdiction_code": code,
                                         "first_at": now, "last_at": now, "failures": 1}], ["subject", "step"])
        started = True
    elif current.cleared_at is not None:
        connection.execute(update(BLOCKS).where(BLOCKS.c.id == current.id).values(
            reason=reason, jurisdiction_code=code, first_at=now, last_at=now, failures=1, mailed_at=None, cleared_at=None))
        started = True
    else:
        connection.execute(update(BLOCKS).where(BLOCKS.c.id == current.id).values(
            reason=reason, last_at=now, failures=BLOCKS.c.failures + 1))
        started = False
    _mail_once(connection, subject, step, label, title or (call.name if call else "全部批次"), now)
    return started


def clear_block(connection: Connection, subject: Optional[str], step: str, now: datetime) -> int:
    """The step succeeded for the subject: end its episode (if any)."""
    return connection.execute(
        update(BLOCKS).where(BLOCKS.c.subject == (subject or GLOBAL_SCOPE), BLOCKS.c.step == step,
                             BLOCKS.c.cleared_at.is_(None)).values(cleared_at=now)).rowcount


def active_blocks(connection: Connection, codes: Optional[set[str]] = None) -> list[dict]:
    """Every step blocked now, oldest first (only those told to ``codes``' bureaus, if given)."""
    query = (select(BLOCKS, Call.name.label("call_name")).outerjoin(Call, Call.id == BLOCKS.c.subject)
             .where(BLOCKS.c.cleared_at.is_(None)).order_by(BLOCKS.c.first_at, BLOCKS.c.id))
    if codes is not None:
        query = query.where(BLOCKS.c.jurisdiction_code.in_(sorted(codes)))
    return [{"subject": r.subject, "call_name": r.call_name, "jurisdiction_code": r.jurisdiction_code,
             "step": r.step, "reason": r.reason, "since": r.first_at, "last_at": r.last_at,
             "failures": r.failures, "mailed_at": r.mailed_at} for r in connection.execute(query)]


def _mail_once(connection: Connection, subject: str, step: str, label: str, title: str, now: datetime) -> None:
    row = connection.execute(select(BLOCKS).where(BLOCKS.c.subject == subject, BLOCKS.c.step == step)).first()
    if row.mailed_at is not None:
        return
    code = row.jurisdiction_code or MINISTRY_CODE
    staff = bureau_staff(connection, {code})
    recipients = {r.email: r for kind in ("sme", "finance") for r in staff.get((code, kind), [])}
    config = SmtpConfig.from_settings()
    mail = render_mail("blocked", {"sender_name": config.sender_name, "subject_id": subject, "title": title,
                                   "step_label": label, "reason": row.reason, "since": row.first_at})
    episode = f"{row.first_at:%Y%m%dT%H%M%S}"
    queue_mails(connection, [
        {"dedupe_key": f"blocked:{row.id}:{episode}:{email}"[:200], "kind": "blocked", "to_addr": email,
         "to_name": recipient.name, "subject": mail.subject, "body_text": mail.text, "body_html": mail.html}
        for email, recipient in recipients.items()], domain=config.domain, now=now)
    connection.execute(update(BLOCKS).where(BLOCKS.c.id == row.id).values(mailed_at=now))
