"""Bureau and applicant users (用户): who may act, in which jurisdiction, for which enterprise."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Optional

from sqlalchemy import select
from sqlalchemy.engine import Connection

from models.enterprise import Enterprise, InvalidUSCC, normalise_uscc
from models.enums import Role
from models.errors import NotFound, RuleViolation
from models.jurisdiction import Jurisdiction, User

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{1,63}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def add_user(connection: Connection, username: str, role: str, jurisdiction_code: str, display_name: str, *,
             email: Optional[str] = None, enterprise_uscc: Optional[str] = None, now: Optional[datetime] = None) -> dict:
    """Create a user; adding the same user again with the same details changes nothing.

    Reviewers (审核人员) decide at their jurisdiction's level; applicants (申报企业) name their
    enterprise by USCC and may only act on its applications.
    """
    if not USERNAME.match(username or ""):
        raise RuleViolation(f"用户名 {username!r} 应为2–64位字母、数字或 _ . @ -，以字母或数字开头")
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
            raise RuleViolation("申报企业用户须用 --enterprise 指定企业的统一社会信用代码")
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
    return {**row, "id": new_id, "created": True}
