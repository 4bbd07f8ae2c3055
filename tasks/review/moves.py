"""Set-based status moves of applications, each with its row in the transition log (流转记录).

One UPDATE per chunk guarded by the expected status, then one INSERT of the transition rows.
If another writer moved one of the applications meanwhile, the counts differ and the whole
unit of work is refused (Conflict) and rolled back by the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Optional

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from models.application import Application
from models.enums import ApplicationStatus, Role
from models.errors import Conflict, Forbidden, NotFound
from models.jurisdiction import Jurisdiction, User
from models.transition import Transition

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
    """Move every listed application from ``from_status`` to ``to_status`` at its current level.

    ``reasons`` gives a per-application reason (e.g. the objection's finding); ``reason`` the
    common one. Returns the number moved; raises Conflict when any had already moved.
    """
    ids = sorted(set(application_ids))
    if not ids:
        return 0
    levels: dict[int, str] = {}
    for chunk in chunks(ids):
        found = dict(connection.execute(
            select(Application.id, Application.level).where(Application.id.in_(chunk), Application.status == from_status)
        ).all())
        moved = connection.execute(
            update(Application)
            .where(Application.id.in_(chunk), Application.status == from_status)
            .values(status=to_status, version=Application.version + 1, updated_at=at)
        ).rowcount
        if moved != len(chunk) or len(found) != len(chunk):
            raise Conflict(f"有 {len(chunk) - min(moved, len(found))} 件申请的状态已被他人改变（应为 {from_status.value}），"
                           f"本次操作未执行，请刷新后重试")
        levels.update(found)
    reasons = reasons or {}
    connection.execute(
        Transition.__table__.insert(),
        [
            {
                "application_id": app_id,
                "at": at,
                "actor": actor.username,
                "role": actor.role,
                "jurisdiction_code": actor.jurisdiction_code,
                "action": action,
                "from_level": levels[app_id],
                "from_status": from_status,
                "to_level": levels[app_id],
                "to_status": to_status,
                "reason": reasons.get(app_id, reason),
                "score": None,
                "step_key": step_key,
            }
            for app_id in ids
        ],
    )
    return len(ids)
