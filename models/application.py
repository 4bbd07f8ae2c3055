"""Applications (申报): enterprise × call, with the current level and status."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Optional

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel, UniqueConstraint

from models.enums import ApplicationStatus, ReviewLevel
from models.exact import exact


class Application(SQLModel, table=True):
    """One enterprise's application to one call.

    ``level`` is the review level it currently sits at and ``status`` where it stands there.
    ``version`` increases with every transition: a decision names the version it saw, so of
    two reviewers deciding at once exactly one succeeds.
    """

    __table_args__ = (
        UniqueConstraint("call_id", "enterprise_id"),
        Index("ix_application_call_level_status", "call_id", "level", "status"),
        Index("ix_application_review_desk", "call_id", "level", "review_jurisdiction_code", "status"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    ref: str = Field(max_length=32, unique=True, description="申报编号")
    call_id: str = Field(foreign_key="call.id")
    enterprise_id: int = Field(foreign_key="enterprise.id", index=True)
    jurisdiction_code: str = Field(foreign_key="jurisdiction.code", index=True, description="所在区（县）")
    level: ReviewLevel
    review_jurisdiction_code: Optional[str] = Field(
        default=None, foreign_key="jurisdiction.code",
        description="审核辖区: the applicant's ancestor at ``level`` whose bureau decides "
                    "(set by tasks/intake/applications.py, moved by the level close)",
    )
    status: ApplicationStatus
    version: int = 1
    score: Optional[Decimal] = Field(default=None, **exact(7, 2))
    category: Optional[str] = Field(default=None, max_length=16, description="分类 e.g. 79号 a/b/c 类")
    eligible: Optional[bool] = None
    eligibility_override: Optional[str] = Field(
        default=None, max_length=500,
        description="推荐理由: why a reviewer recommended although the eligibility check said 不符合 (flagged in lists and exports)")
    facts: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    submitted_at: Optional[datetime] = None
    updated_at: Optional[datetime] = None
