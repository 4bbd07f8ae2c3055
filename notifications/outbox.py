"""The outbox queue: queue mails by dedupe key, claim due ones for sending, record outcomes.

All writes are set-based (one statement per batch). A sender run claims rows with a token and a
lease (``next_attempt_at`` moves forward), so two senders running at once never send the same
row; a sender that dies mid-run releases its rows when the lease runs out.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Row

from models.clock import clock
from models.outbox import MailState, OutgoingMail
from models.workflow import MAIL as MAIL_STATES
from models.workflow_writer import SystemActor, apply, initial

CHUNK = 500
LEASE = timedelta(minutes=10)
MAX_BACKOFF = timedelta(hours=1)
FIRST_BACKOFF = timedelta(minutes=1)
MAIL = OutgoingMail.__table__
SENDER = SystemActor()
OUTCOME_ACTIONS = {MailState.sent: "send", MailState.queued: "retry", MailState.failed: "fail"}   # MAIL_STATES' actions


def _chunks(items: list, size: int = CHUNK) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def insert_new(connection: Connection, table, rows: list[dict], unique: list[str]) -> int:
    """INSERT the rows whose unique key is not there yet (ON CONFLICT DO NOTHING); returns how many."""
    if not rows:
        return 0
    dialect = {"sqlite": sqlite, "postgresql": postgresql}.get(connection.dialect.name)
    if dialect is None:
        raise NotImplementedError(f"unsupported database {connection.dialect.name}")
    # RETURNING counts what was inserted (executemany's rowcount is -1 on psycopg).
    statement = dialect.insert(table).on_conflict_do_nothing(index_elements=unique).returning(*table.primary_key.columns)
    return sum(len(connection.execute(statement, chunk).all()) for chunk in _chunks(rows))


def message_id_for(dedupe_key: str, domain: str) -> str:
    """A Message-ID fixed by the dedupe key: a re-delivery carries the same one."""
    return f"<{hashlib.sha256(dedupe_key.encode()).hexdigest()[:32]}@{domain}>"


def queue_mails(connection: Connection, mails: list[dict], domain: str = "localhost", now: datetime | None = None) -> int:
    """Queue mails (dicts with dedupe_key, kind, to_addr, subject, body_text and optionally
    to_name, body_html, ics, ics_filename). A dedupe key already in the outbox is skipped."""
    now = now or clock.now()
    rows = [
        {"to_name": None, "body_html": None, "ics": None, "ics_filename": None, **mail,
         "message_id": message_id_for(mail["dedupe_key"], domain), **initial(MAIL_STATES, "queue"),
         "attempts": 0, "last_error": None, "next_attempt_at": now, "claim": None,
         "queued_at": now, "sent_at": None}
        for mail in mails
    ]
    return insert_new(connection, MAIL, rows, ["dedupe_key"])


def claim_due(connection: Connection, token: str, limit: int, now: datetime | None = None,
              lease: timedelta = LEASE) -> list[Row]:
    """Take up to ``limit`` due queued mails for this sender run (``token``)."""
    now = now or clock.now()
    due = (
        select(MAIL.c.id).where(MAIL.c.state == MailState.queued, MAIL.c.next_attempt_at <= now)
        .order_by(MAIL.c.next_attempt_at, MAIL.c.id).limit(limit)
    )
    # One UPDATE takes the write lock at once: of two senders, each row goes to exactly one.
    connection.execute(
        update(MAIL).where(MAIL.c.id.in_(due.scalar_subquery()), MAIL.c.state == MailState.queued,
                           MAIL.c.next_attempt_at <= now)
        .values(claim=token, next_attempt_at=now + lease)
    )
    return list(connection.execute(
        select(MAIL).where(MAIL.c.claim == token, MAIL.c.state == MailState.queued).order_by(MAIL.c.id)))


@dataclass(frozen=True)
class Outcome:
    mail_id: int
    state: MailState          # sent / queued (deferred) / failed
    error: str | None = None


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, … minutes after the n-th failed attempt, at most an hour."""
    return min(FIRST_BACKOFF * (2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def record_outcomes(connection: Connection, token: str, outcomes: list[Outcome], attempts: dict[int, int],
                    now: datetime | None = None) -> None:
    """Write the results of one sender run: sent, deferred (retry later) or failed.

    Only rows this run still holds (``claim`` = its token) are written; one executemany per outcome."""
    now = now or clock.now()
    by_action: dict[str, dict[int, dict]] = {}
    for o in outcomes:
        tries = attempts[o.mail_id] + 1
        by_action.setdefault(OUTCOME_ACTIONS[o.state], {})[o.mail_id] = {
            "attempts": tries, "last_error": (o.error or "")[:500] or None,
            "sent_at": now if o.state == MailState.sent else None,
            "next_attempt_at": now + backoff(tries) if o.state == MailState.queued else now,
        }
    for action, rows in by_action.items():
        apply(connection, MAIL_STATES, action, list(rows), actor=SENDER, at=now, guard={"claim": token}, values={"claim": None},
              row_values=rows, skip_others=True)


def release(connection: Connection, token: str, now: datetime | None = None) -> int:
    """Hand back claimed rows that a run did not get to (due again at once)."""
    return connection.execute(
        update(MAIL).where(MAIL.c.claim == token, MAIL.c.state == MailState.queued)
        .values(claim=None, next_attempt_at=now or clock.now())
    ).rowcount


def cancel_mails(connection: Connection, ids: list[int], reason: str) -> int:
    """Cancel the queued mails among ``ids`` that no sender run holds."""
    return apply(connection, MAIL_STATES, "cancel", ids, actor=SENDER, at=clock.now(), guard={"claim": None},
                 values={"last_error": reason[:500]}, skip_others=True).count


def counts(connection: Connection) -> dict[str, int]:
    """Mails per state, e.g. {"queued": 3, "sent": 120}."""
    rows = connection.execute(select(MAIL.c.state, func.count()).group_by(MAIL.c.state))
    return {str(MailState(state)): n for state, n in rows}


def retry_now(connection: Connection, now: datetime | None = None) -> int:
    """Make every queued mail due immediately (after an outage is known to be over)."""
    return connection.execute(
        update(MAIL).where(MAIL.c.state == MailState.queued, MAIL.c.claim.is_(None)).values(next_attempt_at=now or clock.now())
    ).rowcount
