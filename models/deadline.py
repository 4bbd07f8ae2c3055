"""The deadline registry (期限登记): every due item in one table.

Level deadlines, 公示 closing, re-review due, name-change filing, annual data reporting, the
province's allocation plan, tranche dates — each row names who is responsible and whether the
item is open, met or missed. Reminders (notifications/) are planned from this table alone.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Optional

from sqlalchemy import Index
from sqlmodel import Field, SQLModel


class DeadlineState(StrEnum):
    open = "open"
    met = "met"
    missed = "missed"
    cancelled = "cancelled"


class Deadline(SQLModel, table=True):
    __tablename__ = "deadline"
    __table_args__ = (Index("ix_deadline_state_due", "state", "due_at"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    key: str = Field(max_length=160, unique=True, description="deterministic key, e.g. level:CALL:county:130102")
    kind: str = Field(max_length=32, index=True,
                      description="level_decision / notice_close / re_review / name_change / annual_report / allocation_plan / tranche …")
    title: str = Field(max_length=256, description="what is due, in Chinese")
    due_at: datetime
    jurisdiction_code: str = Field(foreign_key="jurisdiction.code", index=True, description="the responsible jurisdiction")
    enterprise_id: Optional[int] = Field(default=None, foreign_key="enterprise.id", description="when an enterprise must act")
    call_id: Optional[str] = Field(default=None, foreign_key="call.id", index=True)
    subject: Optional[str] = Field(default=None, max_length=128, description="what it is about, e.g. notice:12")
    state: DeadlineState = DeadlineState.open
    closed_at: Optional[datetime] = None
    created_at: Optional[datetime] = None
