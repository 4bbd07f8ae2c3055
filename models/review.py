"""Level windows (审核窗口): one call × review level × deciding jurisdiction.

A window opens when the first application reaches that jurisdiction at that level (intake for the
route's entry level, a level close below for the others). It carries the level's deadline, computed
once from the profile and the statutory calendar, and is closed exactly once by the level close
(``tasks/review/level_close.py``), which records who closed it, why, and what happened to the applications.

Reviewers' decisions are rows of the transition log (``models/transition.py``); there is no separate
decision table: a decision *is* the transition it causes, with its reason and score.
"""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel, UniqueConstraint

from models.enums import ReviewLevel


class LevelWindow(SQLModel, table=True):
    """When a level of one jurisdiction reviews a call's applications.

    ``due_at`` is the deadline as the document names it (e.g. 2026-07-12 17:30 北京时间, shown to
    people and written to the deadline registry); ``late_from`` is the first instant that is late
    (``due_at`` itself for an exclusive cut-off such as "8:00前", the end of the named minute or
    second otherwise). Every comparison with "now" uses ``late_from``.
    """

    __tablename__ = "level_window"
    __table_args__ = (
        UniqueConstraint("call_id", "level", "jurisdiction_code"),
        Index("ix_level_window_open_late", "closed_at", "late_from"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    call_id: str = Field(foreign_key="call.id", index=True)
    level: ReviewLevel
    jurisdiction_code: str = Field(foreign_key="jurisdiction.code", index=True, description="审核辖区")
    opens_at: datetime
    due_at: datetime = Field(description="审核截止（文件所写时间）")
    late_from: datetime = Field(description="first late instant")
    closed_at: Optional[datetime] = None
    closed_by: Optional[str] = Field(default=None, max_length=64, description="username, or 'system'")
    close_reason: Optional[str] = Field(default=None, max_length=16, description="deadline / all_decided")
    outcome: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False),
                          description="counts: forwarded, escalated, lapsed, quota_cut, kept …")

    @property
    def deadline_key(self) -> str:
        return window_deadline_key(self.call_id, self.level, self.jurisdiction_code)


def window_deadline_key(call_id: str, level: str, jurisdiction_code: str) -> str:
    """The deadline registry key of a level window (``level:{call}:{level}:{jurisdiction}``)."""
    return f"level:{call_id}:{ReviewLevel(level).value}:{jurisdiction_code}"
