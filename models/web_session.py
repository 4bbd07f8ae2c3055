"""Console sessions (控制台会话), kept on the server so that they can be revoked.

The browser holds only a random token; this table holds its SHA-256 digest (never the token), so a
copy of the database lets nobody sign in. A session ends when it is revoked — log-out, a password
change or reset, the user being disabled — or when it has been idle, or open, too long (the console
checks both on every request against ``last_seen_at`` and ``created_at``). ``password_stamp`` also
ends it when the user's password hash changed by any path (the CLI, the demo, an administrator's SQL).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, Optional

from sqlalchemy import Index, select, update
from sqlmodel import Field, SQLModel

from models.jurisdiction import User


class RevokeReason:
    """Why a session ended (会话结束原因), as stored in ``revoke_reason``."""

    logout = "logout"                       # 用户退出
    password_changed = "password-changed"   # 密码已修改或重置
    user_disabled = "user-disabled"         # 账号已停用
    idle = "idle"                           # 长时间无操作
    expired = "expired"                     # 超过会话最长时限


class WebSession(SQLModel, table=True):
    __tablename__ = "web_session"
    __table_args__ = (Index("ix_web_session_user_revoked", "user_id", "revoked_at"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, description="hex SHA-256 of the cookie's random token")
    user_id: int = Field(foreign_key="user.id")
    created_at: datetime
    last_seen_at: datetime = Field(description="refreshed at most once a minute")
    revoked_at: Optional[datetime] = None
    revoke_reason: Optional[str] = Field(default=None, max_length=32, description="a RevokeReason value")
    client_address: Optional[str] = Field(default=None, max_length=64, description="the address that signed in")
    password_stamp: Optional[str] = Field(default=None, max_length=16,
                                          description="password_stamp() of the user's hash at log-in: any new password ends it")


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def password_stamp(password_hash: Optional[str]) -> str:
    """A short fingerprint of a stored password hash (not of the password): differs once the password is changed."""
    return hashlib.sha256((password_hash or "").encode("utf-8")).hexdigest()[:16]


def revoke_user_sessions(connection: Any, username: str, reason: str, now: datetime) -> int:
    """End every open session of ``username`` in one UPDATE (password set, account disabled); how many were open."""
    table = WebSession.__table__
    whose = select(User.__table__.c.id).where(User.__table__.c.username == username).scalar_subquery()
    return connection.execute(
        update(table).where(table.c.user_id == whose, table.c.revoked_at.is_(None))
        .values(revoked_at=now, revoke_reason=reason)).rowcount
