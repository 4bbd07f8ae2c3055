"""Recognitions (认定): a title held by an enterprise for the profile's validity years."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Optional

from sqlalchemy import Index
from sqlmodel import Field, SQLModel


class RecognitionStatus(StrEnum):
    active = "active"        # 有效
    revoked = "revoked"      # 撤销 (failed/absent re-review, false information, violation, waiver)
    expired = "expired"      # 期满未复核通过


class Recognition(SQLModel, table=True):
    __tablename__ = "recognition"
    __table_args__ = (
        Index("ix_recognition_tier_status", "tier", "status"),
        Index("ix_recognition_status_valid_to", "status", "valid_to"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    certificate_no: str = Field(max_length=48, unique=True, description="证书编号")
    enterprise_id: int = Field(foreign_key="enterprise.id", index=True)
    programme_id: str = Field(foreign_key="programme.id", index=True)
    tier: str = Field(max_length=32, description="profile tier, e.g. little_giant / provincial_srdi")
    call_id: Optional[str] = Field(default=None, foreign_key="call.id")
    application_id: Optional[int] = Field(default=None, foreign_key="application.id", unique=True)
    jurisdiction_code: str = Field(foreign_key="jurisdiction.code", description="the recognising jurisdiction")
    valid_from: date
    valid_to: date
    re_review_due: Optional[date] = Field(default=None, description="复核 due")
    status: RecognitionStatus = RecognitionStatus.active
    revoked_at: Optional[datetime] = None
    revoked_reason: Optional[str] = None
    revoked_by: Optional[str] = Field(default=None, max_length=64)
    notice_id: Optional[int] = Field(default=None, foreign_key="notice.id", description="the 公示 it followed")
    renews_id: Optional[int] = Field(default=None, foreign_key="recognition.id", description="复核通过时所接续的原认定")
    created_at: Optional[datetime] = None
