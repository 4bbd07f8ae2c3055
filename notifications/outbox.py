"""The outbox queue: queue mails by dedupe key, claim due ones for sending, record outcomes.

Writes are set-based (one statement per batch), save one: the moment the SMTP server accepts a
mail, ``mark_accepted`` commits its ``sent_at`` (已被服务器接收) by itself, so a sender killed
mid-batch has lost at most the mail in flight. A sender run claims rows with a token and a lease
(``next_attempt_at`` moves forward), so two senders running at once never send the same row. The
next run settles what a dead run had sent (``sent_at`` set, still queued → sent) and takes back its
claims at once when its process is provably gone (notifications/claims.py), else when the lease
runs out.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable

from sqlalchemy import bindparam, case, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Row

from models.clock import clock
from models.outbox import MailState, OutgoingMail
from models.workflow import MAIL as MAIL_STATES
from models.workflow_writer import SystemActor, apply, initial
from notifications.claims import is_stale

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
    # A row with sent_at was accepted by the server under an earlier claim: never due again.
    is_due = (MAIL.c.state == MailState.queued, MAIL.c.next_attempt_at <= now, MAIL.c.sent_at.is_(None))
    due = select(MAIL.c.id).where(*is_due).order_by(MAIL.c.next_attempt_at, MAIL.c.id).limit(limit)
    # One UPDATE takes the write lock at once: of two senders, each row goes to exactly one.
    connection.execute(
        update(MAIL).where(MAIL.c.id.in_(due.scalar_subquery()), *is_due).values(claim=token, next_attempt_at=now + lease)
    )
    return list(connection.execute(
        select(MAIL).where(MAIL.c.claim == token, MAIL.c.state == MailState.queued).order_by(MAIL.c.id)))


_ACCEPTED = (
    update(MAIL).where(MAIL.c.id == bindparam("mail_id"), MAIL.c.claim == bindparam("token"), MAIL.c.state == MailState.queued)
    .values(sent_at=bindparam("at"), attempts=bindparam("tries"), last_error=None)
)


def mark_accepted(connection: Connection, token: str, mail_id: int, attempts: int, at: datetime) -> None:
    """The server accepted this mail (已被服务器接收): one small UPDATE, for the caller to commit at once.

    The state moves to sent with the batch (``record_outcomes``) or, after a crash, with the next
    run (``settle_accepted``); from now on no run sends the mail again."""
    connection.execute(_ACCEPTED, {"mail_id": mail_id, "token": token, "at": at, "tries": attempts + 1})


def settle_accepted(connection: Connection, now: datetime | None = None) -> int:
    """Queued mails the server had accepted (``sent_at`` set) before their run died → sent."""
    return apply(connection, MAIL_STATES, "send", where=MAIL.c.sent_at.is_not(None),
                 actor=SENDER, at=now or clock.now(), values={"claim": None}).count


def release_stale(connection: Connection, now: datetime | None = None) -> int:
    """Hand back the queued mails claimed by runs that are provably dead (due again at once)."""
    holders = connection.execute(
        select(MAIL.c.claim).where(MAIL.c.state == MailState.queued, MAIL.c.claim.is_not(None)).distinct()).scalars()
    stale = [token for token in holders if is_stale(token)]
    if not stale:
        return 0
    return connection.execute(
        update(MAIL).where(MAIL.c.claim.in_(stale), MAIL.c.state == MailState.queued)
        .values(claim=None, next_attempt_at=now or clock.now())
    ).rowcount


def recover(connection: Connection, now: datetime | None = None) -> tuple[int, int]:
    """What a killed sender run left: (mails settled as sent, stale claims released)."""
    now = now or clock.now()
    return settle_accepted(connection, now), release_stale(connection, now)


@dataclass(frozen=True)
class Outcome:
    mail_id: int
    state: MailState          # sent / queued (deferred) / failed
    error: str | None = None
    at: datetime | None = None  # when the server accepted it (sent)


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
            "sent_at": (o.at or now) if o.state == MailState.sent else None,
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
    """Cancel the queued mails among ``ids`` that no sender run holds and no server has accepted."""
    return apply(connection, MAIL_STATES, "cancel", ids, actor=SENDER, at=clock.now(), guard={"claim": None, "sent_at": None},
                 values={"last_error": reason[:500]}, skip_others=True).count


def counts(connection: Connection) -> dict[str, int]:
    """Mails per state, e.g. {"queued": 3, "sent": 120}; a queued mail the server accepted counts as sent."""
    state = case(((MAIL.c.state == MailState.queued) & MAIL.c.sent_at.is_not(None), MailState.sent.value), else_=MAIL.c.state)
    rows = connection.execute(select(state, func.count()).group_by(state))
    return {str(MailState(value)): n for value, n in rows}


def retry_now(connection: Connection, now: datetime | None = None) -> int:
    """Release the claims of dead runs and make every queued mail due immediately (after an outage
    is known to be over); returns how many mails are due now."""
    now = now or clock.now()
    release_stale(connection, now)
    return connection.execute(
        update(MAIL).where(MAIL.c.state == MailState.queued, MAIL.c.claim.is_(None), MAIL.c.sent_at.is_(None))
        .values(next_attempt_at=now)
    ).rowcount
