"""Writing a level close: the transition rows first, then the status changes, both set-wise.

A level close moves up to 10^5 applications at once. Rows that share everything but their id (all
forwarded to one city, all escalated or lapsed in one window) are logged with one INSERT … SELECT
and moved with one UPDATE … WHERE id IN (…) per group; only quota cuts, whose reason names each
application's rank, are logged row by row. Every UPDATE is guarded by the level and status the
close read: if a reviewer changed one of them meanwhile the counts differ and the whole close is
refused (Conflict) and rolled back, to be retried.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import NamedTuple, Optional

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection, Row

from models.application import Application
from models.enums import ApplicationStatus, ReviewLevel
from models.errors import Conflict
from models.transition import Transition
from tasks.review.moves import Actor, chunks

GROUP = 5000                 # ids per IN (…): well under the parameter limits of SQLite and PostgreSQL
LOG_COLUMNS = ["application_id", "at", "actor", "role", "jurisdiction_code", "action", "from_level", "from_status",
               "to_level", "to_status", "reason", "step_key"]


class Move(NamedTuple):
    row: Row                  # the application as the close read it (id, level, status, review code, score…)
    to_status: ApplicationStatus
    to_level: ReviewLevel
    desk: str                 # reviewing jurisdiction at ``to_level``
    action: str               # forward / escalate / lapse / quota_cut
    reason: Optional[str]


def _log_statement(by_system: bool):
    """INSERT … SELECT of transitions for the ids given; the system acts as the window's own jurisdiction.

    Parameters carry their column types: PostgreSQL will not put a varchar into an enum column here.
    """
    a, t = Application.__table__, Transition.__table__
    jurisdiction = a.c.review_jurisdiction_code if by_system else bindparam("jurisdiction")
    return t.insert().from_select(LOG_COLUMNS, select(
        a.c.id, bindparam("at", type_=t.c.at.type), bindparam("actor"), bindparam("role", type_=t.c.role.type), jurisdiction,
        bindparam("action"), a.c.level, a.c.status, bindparam("to_level", type_=t.c.to_level.type),
        bindparam("to_status", type_=t.c.to_status.type), bindparam("reason", type_=t.c.reason.type),
        bindparam("step_prefix") + a.c.review_jurisdiction_code,
    ).where(a.c.id.in_(bindparam("ids", expanding=True))))


def _move_statement(forward: bool):
    """UPDATE of the ids given, guarded by the level and status the close read."""
    a = Application.__table__
    values = {"status": bindparam("to_status", type_=a.c.status.type), "version": a.c.version + 1,
              "updated_at": bindparam("now", type_=a.c.updated_at.type)}
    if forward:                   # the next level's desk, and its own score to come
        values.update(level=bindparam("to_level", type_=a.c.level.type), review_jurisdiction_code=bindparam("desk"), score=None)
    return update(a).where(a.c.id.in_(bindparam("ids", expanding=True)), a.c.level == bindparam("from_level", type_=a.c.level.type),
                           a.c.status == bindparam("from_status", type_=a.c.status.type)).values(**values)


_LOG_BY_SYSTEM, _LOG_BY_USER = _log_statement(True), _log_statement(False)
_FORWARD, _STAY = _move_statement(True), _move_statement(False)


def apply_moves(connection: Connection, call_id: str, level: ReviewLevel, moves: list[Move],
                user: Optional[Actor], now: datetime) -> None:
    """Log and apply ``moves`` of one level of one call; ``user`` closes it, else ``system`` (per window)."""
    if not moves:
        return
    _log(connection, call_id, level, moves, user, now)
    _move(connection, level, moves, now)


def _log(connection: Connection, call_id: str, level: ReviewLevel, moves: list[Move], user: Optional[Actor],
         now: datetime) -> None:
    shared: dict[tuple, list[int]] = defaultdict(list)
    single = [move for move in moves if move.action == "quota_cut"]
    for move in moves:
        if move.action != "quota_cut":
            shared[(move.action, move.reason, move.to_level, move.to_status)].append(move.row.id)
    who = {"actor": user.username, "role": user.role.value, "jurisdiction": user.jurisdiction_code} if user else \
        {"actor": "system", "role": "system"}
    for (action, reason, to_level, to_status), ids in shared.items():
        for chunk in chunks(ids, GROUP):
            connection.execute(_LOG_BY_USER if user else _LOG_BY_SYSTEM, {
                "ids": chunk, "at": now, "action": action, "to_level": to_level.value, "to_status": to_status.value,
                "reason": reason, "step_prefix": f"close:{call_id}:{level.value}:", **who})
    if single:
        connection.execute(Transition.__table__.insert(), [
            {"application_id": m.row.id, "at": now, "actor": who["actor"], "role": who["role"],
             "jurisdiction_code": user.jurisdiction_code if user else m.row.review_jurisdiction_code,
             "action": m.action, "from_level": m.row.level, "from_status": m.row.status, "to_level": m.to_level,
             "to_status": m.to_status, "reason": m.reason, "score": None,
             "step_key": f"close:{call_id}:{level.value}:{m.row.review_jurisdiction_code}"}
            for m in single
        ])


def _move(connection: Connection, level: ReviewLevel, moves: list[Move], now: datetime) -> None:
    groups: dict[tuple, list[int]] = defaultdict(list)
    for move in moves:
        groups[(move.row.status, move.to_status, move.to_level, move.desk)].append(move.row.id)
    moved = 0
    for (from_status, to_status, to_level, desk), ids in groups.items():
        statement = _FORWARD if to_level != level else _STAY
        for chunk in chunks(ids, GROUP):
            moved += connection.execute(statement, {
                "ids": chunk, "from_level": level, "from_status": from_status, "to_status": to_status,
                "to_level": to_level, "desk": desk, "now": now}).rowcount
    if moved != len(moves):
        raise Conflict(f"结束审核时有 {len(moves) - moved} 件申报正被他人修改，本次未执行，请稍后重试")
