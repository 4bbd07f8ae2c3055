"""复核 (re-review): one case per recognition of the cohort whose validity ends in a given year.

The case is opened with the re-review call; it links the recognition under review to the re-review
application once the enterprise applies (the application runs the profile's re-review route), and
its outcome says whether the title was renewed or revoked and why.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Optional

from sqlalchemy import Index
from sqlmodel import Field, SQLModel, UniqueConstraint


class ReReviewOutcome(StrEnum):
    pending = "pending"      # 复核中（或尚未申请）
    passed = "passed"        # 复核通过，换发证书
    failed = "failed"        # 复核不合格，撤销称号
    absent = "absent"        # 逾期未申请复核


class ReReviewCase(SQLModel, table=True):
    __tablename__ = "re_review_case"
    __table_args__ = (
        UniqueConstraint("recognition_id", "call_id"),
        Index("ix_re_review_case_call_outcome", "call_id", "outcome"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    recognition_id: int = Field(foreign_key="recognition.id", index=True, description="被复核的认定")
    call_id: str = Field(foreign_key="call.id", description="复核批次")
    application_id: Optional[int] = Field(default=None, foreign_key="application.id", unique=True,
                                          description="复核申请（企业申请复核后才有）")
    enterprise_id: int = Field(foreign_key="enterprise.id", index=True)
    outcome: ReReviewOutcome = ReReviewOutcome.pending
    renewed_recognition_id: Optional[int] = Field(default=None, foreign_key="recognition.id")
    decided_at: Optional[datetime] = None
    created_at: Optional[datetime] = None
