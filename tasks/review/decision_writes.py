"""Writing decisions: guarded status changes, scores, and their transition rows, all set-wise.

Statements are built once (the console and batch reviews run them thousands of times). A status
change is guarded by what the writer read — the version, or for a batch the status and desk — so of
two concurrent writers one matches nothing and gets ``Conflict``; the caller's transaction then
rolls back whatever it had written.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import Integer, and_, bindparam, case, func, literal, select, update
from sqlalchemy.engine import Connection

from models.application import Application
from models.enums import ApplicationStatus
from models.errors import Conflict
from models.review import LevelWindow
from models.transition import Transition
from tasks.review.moves import chunks

GROUP = 5000                # ids per IN (…)
LOG_COLUMNS = ["application_id", "at", "actor", "role", "jurisdiction_code", "action", "from_level", "from_status",
               "to_level", "to_status", "reason", "score"]
_A, _T, _W = Application.__table__, Transition.__table__, LevelWindow.__table__
_IDS = bindparam("ids", expanding=True)


def _log_statement(scored: bool):
    # typed parameters: PostgreSQL will not put a varchar into an enum column of INSERT … SELECT
    return _T.insert().from_select(LOG_COLUMNS, select(
        _A.c.id, bindparam("at", type_=_T.c.at.type), bindparam("actor"), bindparam("role", type_=_T.c.role.type),
        bindparam("jurisdiction"), bindparam("action"), _A.c.level, bindparam("from_status", type_=_T.c.from_status.type),
        _A.c.level, bindparam("to_status", type_=_T.c.to_status.type),
        bindparam("reason", type_=_T.c.reason.type), _A.c.score if scored else literal(None, _T.c.score.type),
    ).where(_A.c.id.in_(_IDS)))


_LOG_SCORED, _LOG_UNSCORED = _log_statement(True), _log_statement(False)
_CHANGE = dict(status=bindparam("to", type_=_A.c.status.type), version=_A.c.version + 1,
               updated_at=bindparam("now", type_=_A.c.updated_at.type))
BY_VERSION = update(_A).where(_A.c.id.in_(_IDS), _A.c.version == bindparam("v", type_=Integer)).values(**_CHANGE)
AT_DESK = update(_A).where(_A.c.id.in_(_IDS), _A.c.status == ApplicationStatus.pending,
                           _A.c.review_jurisdiction_code == bindparam("desk")).values(**_CHANGE)
_SET_SCORE = update(_A).where(_A.c.id == bindparam("k")).values(score=bindparam("sc", type_=_A.c.score.type))
# How many of the ids are pending at ``desk`` in a level window that is open and not yet late.
DECIDABLE = (
    select(func.count(), func.sum(case((and_(
        _A.c.status == ApplicationStatus.pending, _A.c.review_jurisdiction_code == bindparam("desk"),
        _W.c.closed_at.is_(None), _W.c.late_from > bindparam("now", type_=_W.c.late_from.type)), 1), else_=0)))
    .select_from(_A.outerjoin(_W, and_(_W.c.call_id == _A.c.call_id, _W.c.level == _A.c.level,
                                       _W.c.jurisdiction_code == _A.c.review_jurisdiction_code)))
    .where(_A.c.id.in_(_IDS))
)
OUTCOMES = select(_A.c.id, _A.c.ref, _A.c.level, _A.c.status, _A.c.version).where(_A.c.id.in_(_IDS))


def change_status(connection: Connection, statement, groups: dict[tuple, list[int]], params: dict, now: datetime,
                  conflict: str) -> None:
    """Run a guarded ``statement`` per group ``(guard value, to_status) → ids``; Conflict unless all moved."""
    moved = expected = 0
    for (guard, to_status), ids in groups.items():
        expected += len(ids)
        for chunk in chunks(ids, GROUP):
            moved += connection.execute(statement, {"ids": chunk, "to": to_status, "now": now, "v": guard, **params}).rowcount
    if moved != expected:
        raise Conflict(conflict)


def set_scores(connection: Connection, scores: dict[int, object]) -> None:
    if scores:
        connection.execute(_SET_SCORE, [{"k": app_id, "sc": value} for app_id, value in scores.items()])


def log_decisions(connection: Connection, groups: dict[tuple, list[int]], who, now: datetime) -> None:
    """One INSERT … SELECT per group ``(action, from_status, to_status, reason, scored) → ids``.

    Runs after the status change, so a recorded score is read back from the application row.
    """
    for (action, from_status, to_status, reason, scored), ids in groups.items():
        for chunk in chunks(ids, GROUP):
            connection.execute(_LOG_SCORED if scored else _LOG_UNSCORED, {
                "ids": chunk, "at": now, "actor": who.username, "role": who.role.value, "jurisdiction": who.jurisdiction_code,
                "action": action, "from_status": ApplicationStatus(from_status).value,
                "to_status": ApplicationStatus(to_status).value, "reason": reason})


def grouped(pairs) -> dict[tuple, list[int]]:
    groups: dict[tuple, list[int]] = defaultdict(list)
    for key, app_id in pairs:
        groups[key].append(app_id)
    return groups
