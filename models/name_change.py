"""更名备案: an enterprise holding a title must file a change of name within the profile's period.

One row per (enterprise, programme, date of change): the deadline it was given, when it filed,
and the outcome — filed in time, filed late, or deemed a waiver of the title (视为自动放弃资格).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Optional

from sqlalchemy import Index
from sqlmodel import Field, SQLModel, UniqueConstraint


class NameChangeStatus(StrEnum):
    pending = "pending"      # 待备案
    filed = "filed"          # 按期备案
    late = "late"            # 逾期备案（已按规定视为放弃资格）
    waived = "waived"        # 逾期未备案，视为自动放弃资格


class NameChange(SQLModel, table=True):
    __tablename__ = "name_change"
    __table_args__ = (
        UniqueConstraint("enterprise_id", "programme_id", "changed_on"),
        Index("ix_name_change_status_due_at", "status", "due_at"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    enterprise_id: int = Field(foreign_key="enterprise.id")
    programme_id: str = Field(foreign_key="programme.id")
    recognition_id: int = Field(foreign_key="recognition.id", description="the title the rule protects")
    old_name: str = Field(max_length=128)
    new_name: str = Field(max_length=128)
    changed_on: date = Field(description="更名（核准变更登记）日期")
    due_at: datetime = Field(description="备案截止")
    status: NameChangeStatus = NameChangeStatus.pending
    filed_at: Optional[datetime] = None
    filed_by: Optional[str] = Field(default=None, max_length=64)
    settled_at: Optional[datetime] = None
    created_at: Optional[datetime] = None
