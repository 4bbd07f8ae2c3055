"""Bureau and applicant users (用户): who may act, in which jurisdiction, for which enterprise.

Every change of an account (created, disabled, enabled, password set) writes a ``user_change`` row in the
same transaction: who changed which user how — never the password (models/audit_log.py).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Optional

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from models.audit_log import UserChange, UserChangeKind
from models.clock import clock
from models.enterprise import Enterprise, InvalidUSCC, normalise_uscc
from models.enums import Role
from models.errors import NotFound, RuleViolation
from models.jurisdiction import Jurisdiction, User
from models.web_session import RevokeReason, revoke_user_sessions

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{1,63}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


RESERVED = frozenset({"system"})       # the identity of a flow (流程), never an account


def record_user_change(connection: Connection, username: str, kind: UserChangeKind, changed_by: str, *,
                       detail: Optional[str] = None, now: Optional[datetime] = None) -> None:
    """用户变更记录: one row of the chained, append-only user-change log."""
    connection.execute(UserChange.__table__.insert().values(at=now or clock.now(), username=username, kind=kind.value,
                                                            detail=detail, changed_by=changed_by))


def add_user(connection: Connection, username: str, role: str, jurisdiction_code: str, display_name: str, *,
             email: Optional[str] = None, enterprise_uscc: Optional[str] = None, now: Optional[datetime] = None,
             changed_by: str = "system") -> dict:
    """Create a user; adding the same user again with the same details changes nothing.

    Reviewers (审核人员) decide at their jurisdiction's level; applicants (申报企业) name their
    enterprise by USCC and may only act on its applications.
    """
    if not USERNAME.match(username or ""):
        raise RuleViolation(f"用户名 {username!r} 应为2–64位字母、数字或 _ . @ -，以字母或数字开头")
    if username.lower() in RESERVED:
        raise RuleViolation(f"用户名 {username} 是流程的保留身份，不能用作账号")
    try:
        role = Role(role)
    except ValueError:
        raise RuleViolation(f"角色 {role!r} 应为 {' / '.join(r.value for r in Role if r != Role.system)}") from None
    if role == Role.system:
        raise RuleViolation("system 是流程的身份，不能作为用户角色")
    if not (display_name or "").strip():
        raise RuleViolation("姓名（display name）必填")
    if email is not None and not EMAIL.match(email):
        raise RuleViolation(f"邮箱 {email!r} 格式不正确")
    if connection.execute(select(Jurisdiction.code).where(Jurisdiction.code == jurisdiction_code)).first() is None:
        raise NotFound(f"行政区划代码 {jurisdiction_code} 不存在")
    enterprise_id = None
    if role == Role.applicant:
        if not enterprise_uscc:
            raise RuleViolation("申报企业用户须指定所属企业的统一社会信用代码")
        try:
            uscc = normalise_uscc(enterprise_uscc)
        except InvalidUSCC as exc:
            raise RuleViolation(str(exc)) from None
        enterprise_id = connection.execute(select(Enterprise.id).where(Enterprise.uscc == uscc)).scalar()
        if enterprise_id is None:
            raise NotFound(f"企业 {uscc} 尚未登记")
    row = {"username": username, "display_name": display_name.strip(), "role": role, "jurisdiction_code": jurisdiction_code,
           "enterprise_id": enterprise_id, "email": email}
    existing = connection.execute(select(User).where(User.username == username)).first()
    if existing is not None:
        if any(getattr(existing, key) != value for key, value in row.items()):
            raise RuleViolation(f"用户 {username} 已存在，且信息不同（角色 {existing.role}，辖区 {existing.jurisdiction_code}）")
        return {**row, "id": existing.id, "created": False}
    connection.execute(User.__table__.insert(), [{**row, "active": True, "created_at": now}])
    new_id = connection.execute(select(User.id).where(User.username == username)).scalar()
    record_user_change(connection, username, UserChangeKind.created, changed_by, now=now,
                       detail=f"角色 {role.value}，辖区 {jurisdiction_code}" + (f"，企业 {enterprise_id}" if enterprise_id else ""))
    return {**row, "id": new_id, "created": True}


def set_password_hash(connection: Connection, username: str, password_hash: str, *, changed_by: str,
                      now: Optional[datetime] = None) -> None:
    """设置/重置密码: store the hash, end the user's open console sessions and log that it changed (not the hash)."""
    if connection.execute(update(User).where(User.username == username).values(password_hash=password_hash)).rowcount != 1:
        raise NotFound(f"用户 {username} 不存在（可用 srdi user add 新增）")
    revoke_user_sessions(connection, username, RevokeReason.password_changed, now or clock.now())
    record_user_change(connection, username, UserChangeKind.password_set, changed_by, now=now)


def set_active(connection: Connection, username: str, active: bool, *, changed_by: str, now: Optional[datetime] = None) -> bool:
    """停用 / 启用 an account (disabling ends its open console sessions); False (and nothing logged) when it already was."""
    current = connection.execute(select(User.active).where(User.username == username)).first()
    if current is None:
        raise NotFound(f"用户 {username} 不存在")
    if bool(current.active) == active:
        return False
    connection.execute(update(User).where(User.username == username).values(active=active))
    if not active:
        revoke_user_sessions(connection, username, RevokeReason.user_disabled, now or clock.now())
    record_user_change(connection, username, UserChangeKind.enabled if active else UserChangeKind.disabled, changed_by, now=now)
    return True
