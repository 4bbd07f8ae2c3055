"""Who changed which user (用户变更记录) and who ran which command (操作记录): two append-only logs.

``user_change``: one row per change of an account — created, disabled, enabled, role changed,
password set or reset — by whom and when; never the password or its hash. ``operator_log``: one row
per CLI command run ``--as`` a user, with the operating-system account that ran it. Both are chained
(models/audit_chain.py) and the database refuses UPDATE, DELETE and TRUNCATE on them.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Optional

from sqlmodel import Field, SQLModel

from models.append_only import append_only


class UserChangeKind(StrEnum):
    created = "created"
    disabled = "disabled"
    enabled = "enabled"
    role_changed = "role_changed"
    password_set = "password_set"

    @property
    def label(self) -> str:
        return {"created": "创建", "disabled": "停用", "enabled": "启用", "role_changed": "变更角色",
                "password_set": "设置密码"}[self.value]


class UserChange(SQLModel, table=True):
    """用户变更记录: one change of one account."""

    __tablename__ = "user_change"

    id: Optional[int] = Field(default=None, primary_key=True)
    at: datetime = Field(index=True)
    username: str = Field(max_length=64, index=True, description="the account changed")
    kind: str = Field(max_length=32, description="created / disabled / enabled / role_changed / password_set")
    detail: Optional[str] = Field(default=None, max_length=256, description="e.g. role and jurisdiction; never a password")
    changed_by: str = Field(max_length=64, description="username, 'system', or os:<account> for the command line")


class OperatorLog(SQLModel, table=True):
    """操作记录: one CLI command run as a srdi user, and the operating-system account that ran it."""

    __tablename__ = "operator_log"

    id: Optional[int] = Field(default=None, primary_key=True)
    at: datetime = Field(index=True)
    as_user: str = Field(max_length=64, description="the --as user, or 'system'")
    os_user: str = Field(max_length=64, description="getpass.getuser() of the process")
    command: str = Field(max_length=512, description="the command line, e.g. 'review decide 12 --decision recommend'")


append_only(UserChange.__table__, "user_change log is append-only")
append_only(OperatorLog.__table__, "operator_log is append-only")
