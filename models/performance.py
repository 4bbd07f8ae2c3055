"""Performance review (绩效考核): target tables, yearly actuals, reviews, continuation lists, 整改.

财建〔2021〕2号 三(三) (seed 001 L47): MIIT 商 MOF assess each year, fix a grade (绩效考核等次) and the
重点"小巨人" that continue to be supported; the result is linked to later funds; problems found are
rectified (整改). Targets come from the 目标表 (initial value, 满一年 and 满两年 targets per indicator;
seed 004 附件3, Beijing 目标表 provinces-A §8.6). ★ indicators are year-end cumulative figures, the
others full-year flows (seed 000 附件3, L100–137).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Optional

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.exact import exact

VALUE = exact(18, 4)


class Direction(StrEnum):
    higher_better = "higher_better"
    lower_better = "lower_better"


class PerformanceTarget(SQLModel, table=True):
    """One row of a recipient's 目标表 (enterprise 目标表 or platform 绩效目标表)."""

    __tablename__ = "performance_target"
    __table_args__ = (UniqueConstraint("recipient_id", "indicator", name="uq_target_recipient_indicator"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    recipient_id: int = Field(foreign_key="funding_recipient.id", index=True)
    indicator: str = Field(max_length=64, description="code from programmes/performance/*.yaml")
    initial_value: Decimal = Field(**VALUE, description="实施期初始值")
    target_y1: Decimal = Field(**VALUE, description="实施期满一年目标")
    target_y2: Decimal = Field(**VALUE, description="实施期满两年目标")


class PerformanceActual(SQLModel, table=True):
    """A reported figure for one indicator and period (half-yearly or yearly reports)."""

    __tablename__ = "performance_actual"
    __table_args__ = (UniqueConstraint("recipient_id", "indicator", "period_end", name="uq_actual_recipient_indicator_period"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    recipient_id: int = Field(foreign_key="funding_recipient.id", index=True)
    indicator: str = Field(max_length=64)
    period_end: date = Field(description="报告期末; a ★ figure is the stock on this day, others the flow of the period")
    value: Decimal = Field(**VALUE)
    reported_at: Optional[datetime] = None


class GradeSource(StrEnum):
    computed = "computed"    # 按目标表自动比对计算
    ministry = "ministry"    # 工业和信息化部商财政部确定


class PerformanceReview(SQLModel, table=True):
    """The annual review of one recipient for implementation year ``year_index`` (实施期第N年)."""

    __tablename__ = "performance_review"
    __table_args__ = (
        UniqueConstraint("recipient_id", "year_index", name="uq_review_recipient_year"),
        Index("ix_review_plan_year", "plan_id", "year_index"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="implementation_plan.id")
    recipient_id: int = Field(foreign_key="funding_recipient.id")
    year_index: int = Field(ge=1)
    score: Decimal = Field(**exact(7, 2))
    grade: str = Field(max_length=16)
    indicators_met: int
    indicators_total: int
    detail: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False),
                         description="[{indicator, label, target, actual, attainment, met}]")
    grade_source: GradeSource = GradeSource.computed
    decided_by: str = Field(max_length=64, default="system")
    reason: Optional[str] = None
    reviewed_at: datetime


class ContinuationList(SQLModel, table=True):
    """继续支持的重点"小巨人"名单 published by MIIT 商 MOF after year ``year_index``."""

    __tablename__ = "continuation_list"
    __table_args__ = (UniqueConstraint("plan_id", "year_index", name="uq_continuation_plan_year"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="implementation_plan.id")
    year_index: int = Field(ge=1)
    doc_ref: Optional[str] = Field(default=None, max_length=128)
    published_at: datetime


class ContinuationEntry(SQLModel, table=True):
    __tablename__ = "continuation_entry"
    __table_args__ = (UniqueConstraint("list_id", "recipient_id", name="uq_continuation_entry"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    list_id: int = Field(foreign_key="continuation_list.id", index=True)
    recipient_id: int = Field(foreign_key="funding_recipient.id", index=True)


class RectificationStatus(StrEnum):
    open = "open"          # 整改中
    done = "done"          # 整改到位


class Rectification(SQLModel, table=True):
    """整改 item from an annual review; its deadline is in the deadline registry."""

    __tablename__ = "rectification"

    id: Optional[int] = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="implementation_plan.id", index=True)
    recipient_id: Optional[int] = Field(default=None, foreign_key="funding_recipient.id")
    year_index: int = Field(ge=1)
    issue: str = Field(description="发现的问题")
    required_action: str = Field(description="整改要求")
    due_at: datetime
    status: RectificationStatus = RectificationStatus.open
    closed_at: Optional[datetime] = None
    deadline_key: str = Field(max_length=160, unique=True)
    created_at: Optional[datetime] = None


class ProvincialTargetValue(SQLModel, table=True):
    """A row of a province's 绩效目标表 (seed 000 附件3): initial, 满一年 target and actual."""

    __tablename__ = "provincial_target_value"
    __table_args__ = (
        UniqueConstraint("province_code", "year", "indicator", "segment", name="uq_provincial_target_row"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    province_code: str = Field(foreign_key="jurisdiction.code", index=True)
    year: int = Field(description="工作安排年度")
    indicator: str = Field(max_length=64)
    segment: str = Field(default="all", max_length=16, description="all / provincial_sme / national_giant")
    initial_value: Optional[Decimal] = Field(default=None, **VALUE)
    target_y1: Optional[Decimal] = Field(default=None, **VALUE)
    actual_y1: Optional[Decimal] = Field(default=None, **VALUE)
