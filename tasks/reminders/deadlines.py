"""Writing to the deadline registry: set-based, idempotent by key."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection

from models.clock import clock
from models.deadline import Deadline, DeadlineState
from models.workflow import DEADLINE
from models.workflow_writer import SystemActor, apply, initial
from tasks.review.moves import chunks


def register_deadlines(connection: Connection, specs: list[dict]) -> int:
    """Insert deadlines whose key is new; move ``due_at``/``title`` of keys still open.

    Each spec: key, kind, title, due_at, jurisdiction_code, and optionally enterprise_id,
    call_id, subject. Returns the number of new rows.
    """
    if not specs:
        return 0
    by_key = {spec["key"]: spec for spec in specs}
    existing: dict[str, tuple] = {}
    for keys in chunks(list(by_key)):
        rows = connection.execute(
            select(Deadline.key, Deadline.state, Deadline.due_at, Deadline.title).where(Deadline.key.in_(keys))
        )
        existing.update({row.key: row for row in rows})
    now = clock.now()
    new = [
        {"enterprise_id": None, "call_id": None, "subject": None, **spec, **initial(DEADLINE, "register"), "created_at": now}
        for key, spec in by_key.items()
        if key not in existing
    ]
    moved = [
        {"k": key, "due": spec["due_at"], "t": spec["title"]}
        for key, spec in by_key.items()
        if key in existing
        and existing[key].state == DeadlineState.open
        and (existing[key].due_at != spec["due_at"] or existing[key].title != spec["title"])
    ]
    if new:
        connection.execute(Deadline.__table__.insert(), new)
    if moved:
        connection.execute(
            update(Deadline.__table__)
            .where(Deadline.__table__.c.key == bindparam("k"))
            .values(due_at=bindparam("due"), title=bindparam("t")),
            moved,
        )
    return len(new)


CLOSING = {DeadlineState.met: "meet", DeadlineState.missed: "miss", DeadlineState.cancelled: "cancel"}  # DEADLINE's actions


def close_deadlines(connection: Connection, keys: list[str], state: DeadlineState = DeadlineState.met,
                    at: datetime | None = None) -> int:
    """Mark open deadlines met (or cancelled); already-closed ones are left as they are."""
    at = at or clock.now()
    return sum(apply(connection, DEADLINE, CLOSING[state], where=Deadline.key.in_(chunk), actor=SystemActor(), at=at,
                     values={"closed_at": at}).count for chunk in chunks(keys))


def mark_missed(connection: Connection, now: datetime | None = None, grace: timedelta = timedelta(0)) -> int:
    """Every open deadline due before ``now − grace`` becomes missed (已逾期, set-based).

    The daily sweep passes its escalation look-back as ``grace``: until then an overdue item stays
    open, so it is still escalated, listed as overdue and can be met late by the step that owns it.
    """
    now = now or clock.now()
    return apply(connection, DEADLINE, "miss", where=Deadline.due_at < now - grace, actor=SystemActor(), at=now,
                 values={"closed_at": now}).count
