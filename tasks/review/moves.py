"""Set-based moves of applications through the workflow writer (models/workflow_writer.py), each with
its row in the transition log (流转记录). Who moves them is an ``Actor`` (tasks/people/actors.py).

If another writer moved one of the applications meanwhile, the move is refused (Conflict) with
nothing written, and the caller's transaction rolls back whatever it had written before.
"""

from __future__ import annotations

from datetime import datetime
from typing import Iterable, Optional

from sqlalchemy.engine import Connection

from models.enums import ApplicationStatus
from models.errors import IllegalMove
from models.workflow import APPLICATION
from models.workflow_writer import apply
from tasks.people.actors import Actor

CHUNK = 500


def chunks(items: list, size: int = CHUNK) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def move_applications(
    connection: Connection,
    application_ids: list[int],
    from_status: ApplicationStatus,
    to_status: ApplicationStatus,
    *,
    action: str,
    actor: Actor,
    at: datetime,
    reason: Optional[str] = None,
    step_key: Optional[str] = None,
    reasons: Optional[dict[int, str]] = None,
) -> int:
    """Take ``action`` (models/workflow.py) on every listed application, each now ``from_status``.

    ``to_status`` must be where the workflow table leads the action. ``reasons`` gives a
    per-application reason (e.g. the objection's finding); ``reason`` the common one. Returns the
    number moved; raises Conflict (nothing written) when any had already moved.
    """
    declared = APPLICATION.action(action)
    if from_status not in declared.sources or declared.leads_to(from_status) != to_status:
        raise IllegalMove(f"流转规则中“{declared.label}”不是从 {from_status.value} 到 {to_status.value}")
    return apply(connection, APPLICATION, action, application_ids, actor=actor, at=at, guard={"status": from_status},
                 reason=reason, reasons=reasons, step_key=step_key,
                 conflict=lambda n: f"有 {n} 件申请的状态已被他人改变（应为 {from_status.value}），本次操作未执行，请刷新后重试").count
