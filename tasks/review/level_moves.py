"""Writing a level close: every move through the workflow writer, set-wise.

A level close moves up to 10^5 applications at once. Rows that share everything but their id (all
forwarded to one city, all escalated or lapsed in one window) are logged with one INSERT … SELECT
and moved with one UPDATE … WHERE id IN (…) per group; only quota cuts, whose reason names each
application's rank, are written row by row (executemany). Every move is guarded by the level and
status the close read: if a reviewer changed one of them meanwhile the whole close is refused
(Conflict) and rolled back, to be retried.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import NamedTuple, Optional

from sqlalchemy.engine import Connection, Row

from models.enums import ApplicationStatus, ReviewLevel
from models.workflow import APPLICATION
from models.workflow_writer import SystemActor, apply
from tasks.people.actors import Actor


class Move(NamedTuple):
    row: Row                  # the application as the close read it (id, level, status, review code, score…)
    to_status: ApplicationStatus
    to_level: ReviewLevel
    desk: str                 # reviewing jurisdiction at ``to_level``
    action: str               # forward / escalate / lapse / quota_cut
    reason: Optional[str]


def apply_moves(connection: Connection, call_id: str, level: ReviewLevel, moves: list[Move],
                user: Optional[Actor], now: datetime) -> None:
    """Log and apply ``moves`` of one level of one call; ``user`` closes it, else ``system`` (per window).

    One writer call per (action, shared reason, status read, level reached): moves up to the next level
    go in batches per desk (one UPDATE each, one log statement for all); quota cuts carry their reasons."""
    groups: dict[tuple, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for move in moves:
        shared_reason = None if move.action == "quota_cut" else move.reason
        groups[(move.action, shared_reason, move.row.status, move.to_level)][move.desk].append(move.row.id)
    ranked = {move.row.id: move.reason for move in moves if move.action == "quota_cut"}
    for (action, reason, from_status, to_level), by_desk in groups.items():
        common = dict(actor=user or SystemActor(), at=now, guard={"level": level, "status": from_status}, reason=reason,
                      step_key=f"close:{call_id}:{level.value}:", step_key_column="review_jurisdiction_code",
                      jurisdiction_column=None if user else "review_jurisdiction_code",
                      conflict=lambda n: f"结束审核时有 {n} 件申报正被他人修改，本次未执行，请稍后重试", checked=True)
        if to_level != level:
            apply(connection, APPLICATION, action, values={"level": to_level, "score": None},
                  batches=[(ids, {"review_jurisdiction_code": desk}) for desk, ids in by_desk.items()], **common)
        else:
            ids = [i for part in by_desk.values() for i in part]
            apply(connection, APPLICATION, action, ids, reasons={i: ranked[i] for i in ids} if action == "quota_cut" else None,
                  **common)
