"""用户管理 by an administrator: add, disable, enable, reset a password and change the role of users
inside the administrator's own subtree — the console's entry to tasks/people/users.py.

An administrator reaches only users whose jurisdiction lies in their subtree (anyone else is "not
found", as in every other scoped lookup), grants only bureau roles (审核人 / 经办人 / 管理员) inside
it, and cannot disable themself or change their own role. Each change is one ``user_change`` row.
"""

from __future__ import annotations

import secrets
import string
from datetime import datetime
from typing import Optional

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from models.audit_log import UserChangeKind
from models.clock import clock
from models.enums import Role
from models.errors import Forbidden, NotFound, RuleViolation
from models.jurisdiction import Jurisdiction, User
from tasks.people.actors import BUREAU_ROLES, Actor, load_actor
from tasks.people.scope import place_in_subtree, subtree_clause
from tasks.people.users import add_user, record_user_change, set_active, set_password_hash

GRANTABLE = (Role.reviewer, Role.clerk, Role.admin)


def admin_actor(connection: Connection, username: str) -> Actor:
    """The active administrator ``username``, or Forbidden."""
    actor = load_actor(connection, username)
    if actor.role != Role.admin:
        raise Forbidden(f"用户 {username}（角色 {actor.role}）不是管理员，不能管理用户")
    return actor


def _role(value: str) -> Role:
    if value not in {r.value for r in GRANTABLE}:
        raise RuleViolation(f"角色 {value!r} 不可授予；应为 {' / '.join(r.value for r in GRANTABLE)}（审核人 / 经办人 / 管理员）")
    return Role(value)


def managed_user(connection: Connection, admin: Actor, username: str):
    """The user ``username`` (username, role, active, jurisdiction_code) if inside the admin's subtree, else NotFound."""
    row = connection.execute(
        select(User.username, User.role, User.active, User.jurisdiction_code)
        .join(Jurisdiction, Jurisdiction.code == User.jurisdiction_code)
        .where(User.username == username, subtree_clause(Jurisdiction.path, admin.path))).first()
    if row is None:
        raise NotFound(f"用户 {username} 不存在或不在您的辖区范围内")
    return row


def create_user(connection: Connection, admin_username: str, username: str, role: str, jurisdiction_code: str,
                display_name: str, password_hash: str, *, email: Optional[str] = None, now: Optional[datetime] = None) -> dict:
    """新增用户 with a password, inside the administrator's subtree; an existing name is refused."""
    admin = admin_actor(connection, admin_username)
    granted = _role(role)
    if place_in_subtree(connection, admin.path, jurisdiction_code) is None:
        raise Forbidden(f"辖区 {jurisdiction_code} 不在您的辖区（{admin.jurisdiction_code}）范围内，不能在该辖区新增用户")
    if connection.execute(select(User.id).where(User.username == username)).first() is not None:
        raise RuleViolation(f"用户名 {username} 已被使用")
    now = now or clock.now()
    result = add_user(connection, username, granted.value, jurisdiction_code, display_name, email=email or None, now=now,
                      changed_by=admin.username)
    set_password_hash(connection, username, password_hash, changed_by=admin.username, now=now)
    return result


def change_active(connection: Connection, admin_username: str, username: str, active: bool, *,
                  now: Optional[datetime] = None) -> bool:
    """停用 / 启用 a user of the subtree; an administrator cannot disable themself. False when nothing changed."""
    admin = admin_actor(connection, admin_username)
    managed_user(connection, admin, username)
    if username == admin.username and not active:
        raise RuleViolation("不能停用自己的账号")
    return set_active(connection, username, active, changed_by=admin.username, now=now)


def reset_password(connection: Connection, admin_username: str, username: str, password_hash: str, *,
                   now: Optional[datetime] = None) -> None:
    """重置密码 of a user of the subtree (their open sessions end)."""
    admin = admin_actor(connection, admin_username)
    managed_user(connection, admin, username)
    set_password_hash(connection, username, password_hash, changed_by=admin.username, now=now)


def change_role(connection: Connection, admin_username: str, username: str, role: str, *,
                now: Optional[datetime] = None) -> bool:
    """变更角色 of a bureau user of the subtree; not one's own. False when it already had that role."""
    admin = admin_actor(connection, admin_username)
    granted = _role(role)
    target = managed_user(connection, admin, username)
    if username == admin.username:
        raise RuleViolation("不能变更自己的角色")
    if Role(target.role) not in BUREAU_ROLES:
        raise RuleViolation(f"用户 {username} 是申报企业账号，不能改为主管部门角色")
    if Role(target.role) == granted:
        return False
    connection.execute(update(User).where(User.username == username).values(role=granted))
    record_user_change(connection, username, UserChangeKind.role_changed, admin.username, now=now,
                       detail=f"{Role(target.role).value} → {granted.value}")
    return True


def generated_password(length: int = 14) -> str:
    """A random password with letters and digits (shown once to the administrator)."""
    alphabet = string.ascii_letters + string.digits
    while True:
        text = "".join(secrets.choice(alphabet) for _ in range(length))
        if any(c.isdigit() for c in text) and any(c.isalpha() for c in text):
            return text
