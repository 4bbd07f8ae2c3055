"""公示 (public notice): a published list, its window, its entries and the objections raised.

A notice is opened once for the recommended list of a call's final level in one publishing
jurisdiction; its close time is computed once (statutory working days or natural days, per the
profile) and stored. Objections (异议) are rows: who, how to reach them, the grounds, when received,
and how the investigation ended.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Optional

from sqlalchemy import Index
from sqlmodel import Field, SQLModel, UniqueConstraint

from models.enums import ReviewLevel


class NoticeStatus(StrEnum):
    open = "open"          # 公示中
    closed = "closed"      # 公示期满


class NoticeEntryStatus(StrEnum):
    listed = "listed"            # 在公示名单上
    on_hold = "on_hold"          # 被异议，调查中
    removed = "removed"          # 异议成立，移出名单
    recognised = "recognised"    # 公示无异议，已认定


class ObjectionStatus(StrEnum):
    open = "open"            # 调查中
    upheld = "upheld"        # 异议成立
    rejected = "rejected"    # 异议不成立


class Notice(SQLModel, table=True):
    """One 公示: the list a jurisdiction publishes for a call, open from ``opens_at`` until ``closes_at``."""

    __tablename__ = "notice"
    __table_args__ = (
        UniqueConstraint("call_id", "jurisdiction_code", "round"),
        Index("ix_notice_status_closes_at", "status", "closes_at"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    call_id: str = Field(foreign_key="call.id", index=True)
    programme_id: str = Field(foreign_key="programme.id")
    level: ReviewLevel = Field(description="the publishing level (profile notice.publisher)")
    jurisdiction_code: str = Field(foreign_key="jurisdiction.code", description="发布公示的辖区")
    round: int = Field(default=1, description="第几次公示（同一批次同一辖区补充名单时递增）")
    title: str = Field(max_length=256)
    opens_at: datetime
    closes_at: datetime = Field(description="公示截止（计算一次后存储）")
    length: int = Field(description="公示期长度")
    unit: str = Field(max_length=16, description="working_days / natural_days")
    opening_day_counts: bool = False
    status: NoticeStatus = NoticeStatus.open
    opened_by: str = Field(default="system", max_length=64)
    closed_at: Optional[datetime] = None
    cite: Optional[str] = Field(default=None, max_length=256)
    created_at: Optional[datetime] = None


class NoticeEntry(SQLModel, table=True):
    """One application on a notice's list (an application is published at most once)."""

    __tablename__ = "notice_entry"
    __table_args__ = (Index("ix_notice_entry_notice_status", "notice_id", "status"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    notice_id: int = Field(foreign_key="notice.id")
    application_id: int = Field(foreign_key="application.id", unique=True)
    enterprise_id: int = Field(foreign_key="enterprise.id", index=True)
    position: int = Field(description="名单中的序号")
    status: NoticeEntryStatus = NoticeEntryStatus.listed
    updated_at: Optional[datetime] = None


class Objection(SQLModel, table=True):
    """异议: raised by anyone during the window against one listed application."""

    __tablename__ = "objection"
    __table_args__ = (Index("ix_objection_application_status", "application_id", "status"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    notice_id: int = Field(foreign_key="notice.id", index=True)
    application_id: int = Field(foreign_key="application.id")
    objector: str = Field(max_length=128, description="异议人（单位或个人）")
    contact: str = Field(max_length=128, description="联系方式")
    grounds: str = Field(description="异议理由")
    received_at: datetime
    recorded_by: str = Field(max_length=64)
    status: ObjectionStatus = ObjectionStatus.open
    finding: Optional[str] = Field(default=None, description="调查结论")
    decided_by: Optional[str] = Field(default=None, max_length=64)
    decided_at: Optional[datetime] = None
