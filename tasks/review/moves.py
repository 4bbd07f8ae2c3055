"""Who acts on applications (Actor, bureau users) and set-based moves of applications through the
workflow writer (models/workflow_writer.py), each with its row in the transition log (流转记录).

If another writer moved one of the applications meanwhile, the move is refused (Conflict) with
nothing written, and the caller's transaction rolls back whatever it had written before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Optional

from sqlalchemy import select
from sqlalchemy.engine import Connection

from models.enums import ApplicationStatus, Role
from models.errors import Forbidden, IllegalMove, NotFound
from models.jurisdiction import Jurisdiction, User
from models.workflow import APPLICATION
from models.workflow_writer import apply

CHUNK = 500


def chunks(items: list, size: int = CHUNK) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass(frozen=True)
class Actor:
    """Who acts: a user (clerk, reviewer…) or ``system`` for a pipeline step."""

    username: str
    role: Role
    jurisdiction_code: str

    @classmethod
    def system(cls, jurisdiction_code: str) -> "Actor":
        return cls("system", Role.system, jurisdiction_code)


BUREAU_ROLES = frozenset({Role.clerk, Role.reviewer, Role.admin})


def bureau_actor(connection: Connection, username: str, jurisdiction_code: str, what: str) -> Actor:
    """The bureau user ``username``, refused unless active, staff, and covering ``jurisdiction_code``."""
    user = connection.execute(select(User).where(User.username == username)).first()
    if user is None or not user.active:
        raise NotFound(f"用户 {username} 不存在或已停用")
    if user.role not in BUREAU_ROLES:
        raise Forbidden(f"用户 {username}（角色 {user.role}）无权{what}，须为主管部门工作人员")
    paths = dict(connection.execute(
        select(Jurisdiction.code, Jurisdiction.path).where(Jurisdiction.code.in_([user.jurisdiction_code, jurisdiction_code]))
    ).all())
    own, target = paths.get(user.jurisdiction_code, ""), paths.get(jurisdiction_code, "")
    if not own or not (target == own or target.startswith(own + "/")):
        raise Forbidden(f"用户 {username} 所属辖区 {user.jurisdiction_code} 不包含 {jurisdiction_code}，无权{what}")
    return Actor(user.username, Role(user.role), user.jurisdiction_code)


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
