"""Log-in attempts (登录尝试) of the console, for throttling password guessing.

Every attempt is a row, written before the password is checked: ``failure`` until the password is
found right (then ``success``) or the attempt is refused unchecked because the account or the
address is locked (``locked``). Counting rows by id therefore also bounds guesses sent in parallel.
``username`` is what was typed (an unknown name is throttled like a known one, so the answer never
tells whether an account exists).
"""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import Index
from sqlmodel import Field, SQLModel


class AttemptOutcome:
    success = "success"     # 登录成功
    failure = "failure"     # 密码错误（或尚在核对）
    locked = "locked"       # 锁定期间的尝试：未核对密码即拒绝


class LoginAttempt(SQLModel, table=True):
    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_username_at", "username", "at"),
        Index("ix_login_attempt_client_at", "client_address", "at"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    at: datetime
    username: str = Field(max_length=64, description="as typed (trimmed, cut to 64 characters)")
    client_address: str = Field(max_length=64)
    outcome: str = Field(max_length=16, description="an AttemptOutcome value")
