"""Funded recipients, tranches (分年度奖补资金), payments and their deductions.

财建〔2021〕2号 三(四) (seed 001 L49): after the 备案版 is approved, MOF arranges the funds 于批复当年、
实施期满1年及满2年时, linked to the annual performance review, as a block to provincial finance,
which decides the 分配方案 (≥90% directly to 重点"小巨人") and reports it within 30 days.

One payment per tranche per recipient is enforced by the database (``uq_payment_tranche_recipient``),
so a disbursement run that is retried, run twice or killed half-way can never pay anyone twice.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Optional

from sqlalchemy import CheckConstraint, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from models.append_only import append_only
from models.exact import exact
from models.funding_plan import ItemType, PlatformCategory

MONEY = exact(16, 4)
FACTOR = exact(7, 4)


class RecipientStatus(StrEnum):
    active = "active"                # 实施中
    discontinued = "discontinued"    # 停止支持（考核不合格或未列入继续支持名单）

    @property
    def label(self) -> str:
        return {"active": "实施中", "discontinued": "停止支持"}[self.value]


class FundingRecipient(SQLModel, table=True):
    """An approved key enterprise or platform of one plan (批复名单中的一行).

    A key enterprise points at the 小巨人 recognition it was chosen on (财建〔2021〕2号 二(一):
    "从已认定的专精特新'小巨人'企业中择优"), resolved once when the plan is approved; a platform has none.
    """

    __tablename__ = "funding_recipient"
    __table_args__ = (
        UniqueConstraint("plan_id", "uscc", name="uq_recipient_plan_uscc"),
        Index("ix_recipient_plan_status", "plan_id", "status"),
        CheckConstraint("item_type != 'key_enterprise' OR recognition_id IS NOT NULL", name="ck_recipient_key_enterprise_recognised"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="implementation_plan.id")
    item_type: ItemType
    enterprise_id: Optional[int] = Field(default=None, foreign_key="enterprise.id", index=True)
    recognition_id: Optional[int] = Field(default=None, foreign_key="recognition.id", index=True,
                                          description="所依据的国家级专精特新“小巨人”认定（重点企业必填，平台为空）")
    name: str = Field(max_length=128)
    uscc: str = Field(max_length=18, index=True)
    platform_category: Optional[PlatformCategory] = None
    approved_amount_wan: Decimal = Field(**MONEY, description="批复支持金额（万元，实施期合计）")
    status: RecipientStatus = RecipientStatus.active
    discontinued_year: Optional[int] = Field(default=None, description="停止支持所依据的考核年度（实施期第N年）")
    discontinued_reason: Optional[str] = None
    created_at: Optional[datetime] = None


class TrancheStatus(StrEnum):
    scheduled = "scheduled"            # 待下达
    received = "received"              # 省级财政已接到中央直达资金指标发文
    disbursed = "disbursed"            # 已按分配方案拨付（每个应拨对象一笔）
    reported = "reported"              # 分配方案已上报财政部（抄送当地监管局）

    @property
    def label(self) -> str:
        return {"scheduled": "待下达", "received": "指标已接收", "disbursed": "已拨付", "reported": "分配方案已上报"}[self.value]


class FundTranche(SQLModel, table=True):
    """One annual tranche of a plan: 批复当年 / 实施期满1年 / 满2年 (per the profile)."""

    __tablename__ = "fund_tranche"
    __table_args__ = (UniqueConstraint("plan_id", "tranche_index", name="uq_tranche_plan_index"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="implementation_plan.id", index=True)
    tranche_index: int = Field(ge=1)
    label: str = Field(max_length=64)
    years_after_approval: int = Field(ge=0)
    share_pct: Decimal = Field(**exact(7, 4))
    requires_review: bool
    scheduled_on: date = Field(description="计划下达日")
    indicator_doc_no: Optional[str] = Field(default=None, max_length=64, description="中央直达资金指标发文文号")
    received_at: Optional[datetime] = Field(default=None, description="省级财政接到指标发文时间")
    allocation_plan_due_at: Optional[datetime] = Field(default=None, description="分配方案上报截止")
    allocation_reported_at: Optional[datetime] = None
    status: TrancheStatus = TrancheStatus.scheduled


class Payment(SQLModel, table=True):
    """The amount one recipient receives from one tranche (分配方案中的一行)."""

    __tablename__ = "payment"
    __table_args__ = (UniqueConstraint("tranche_id", "recipient_id", name="uq_payment_tranche_recipient"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    tranche_id: int = Field(foreign_key="fund_tranche.id", index=True)
    recipient_id: int = Field(foreign_key="funding_recipient.id", index=True)
    base_amount_wan: Decimal = Field(**MONEY, description="批复金额 × 本批比例")
    grade: Optional[str] = Field(default=None, max_length=16, description="所依据的上年度考核等次")
    factor: Decimal = Field(**FACTOR, description="等次系数")
    amount_wan: Decimal = Field(**MONEY, description="本批拨付金额（万元）")
    run_id: Optional[int] = Field(default=None, foreign_key="disbursement_run.id")
    created_at: Optional[datetime] = None


class AdjustmentKind(StrEnum):
    deduction = "deduction"   # 酌情扣减
    clawback = "clawback"     # 追回

    @property
    def label(self) -> str:
        return {"deduction": "扣减", "clawback": "追回"}[self.value]


class AdjustmentReason(StrEnum):
    """Why money is taken back (seed 001 L61; 津财规〔2021〕8号 for recovery)."""

    platform_budget_balancing = "platform_budget_balancing"
    platform_self_construction = "platform_self_construction"
    platform_working_expenses = "platform_working_expenses"
    enterprise_fraud = "enterprise_fraud"
    assessment_result = "assessment_result"
    objection_upheld = "objection_upheld"

    @property
    def label(self) -> str:
        return {
            "platform_budget_balancing": "用于平衡本级财政预算",
            "platform_self_construction": "用于示范平台自身建设",
            "platform_working_expenses": "用于工作经费",
            "enterprise_fraud": "以虚报、冒领等手段骗取财政资金",
            "assessment_result": "绩效考核结果",
            "objection_upheld": "公示异议成立",
        }[self.value]


class PaymentAdjustment(SQLModel, table=True):
    """A deduction or clawback recorded against one payment; the payment row itself never changes."""

    __tablename__ = "payment_adjustment"

    id: Optional[int] = Field(default=None, primary_key=True)
    payment_id: int = Field(foreign_key="payment.id", index=True)
    kind: AdjustmentKind
    amount_wan: Decimal = Field(**MONEY)
    reason: AdjustmentReason
    legal_basis: Optional[str] = Field(default=None, max_length=128, description="e.g. 《财政违法行为处罚处分条例》")
    decided_by: str = Field(max_length=64)
    decided_at: datetime


# A payment never changes once written: a correction is a PaymentAdjustment (扣减 / 追回) against it.
append_only(Payment.__table__, "payment is immutable: record a deduction or clawback instead")
append_only(PaymentAdjustment.__table__, "payment_adjustment is append-only")


class RunStatus(StrEnum):
    running = "running"
    completed = "completed"
    failed = "failed"


RUNNING_ONLY = text("status = 'running'")


class DisbursementRun(SQLModel, table=True):
    """Operational record of one disbursement run; the payments are the legal record.

    A running run holds a lease: its ``owner`` (host:pid) renews ``heartbeat_at`` and
    ``lease_until`` (real wall time, not the srdi clock) after every chunk of payments. A
    ``running`` row whose lease has expired, or whose owner process is gone from this host, was
    killed; the next run of the tranche marks it failed (中断) and takes over. The database holds at
    most one running run per tranche (``uq_run_tranche_running``): two runs never write side by side.
    """

    __tablename__ = "disbursement_run"
    __table_args__ = (
        Index("uq_run_tranche_running", "tranche_id", unique=True, sqlite_where=RUNNING_ONLY, postgresql_where=RUNNING_ONLY),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    tranche_id: int = Field(foreign_key="fund_tranche.id", index=True)
    started_at: datetime
    finished_at: Optional[datetime] = None
    status: RunStatus = RunStatus.running
    payments_created: int = 0
    workbook_path: Optional[str] = Field(default=None, max_length=512)
    actor: str = Field(max_length=64, default="system")
    error: Optional[str] = None
    owner: Optional[str] = Field(default=None, max_length=128, description="host:pid of the process running it")
    heartbeat_at: Optional[datetime] = Field(default=None, description="last sign of life (real wall time)")
    lease_until: Optional[datetime] = Field(default=None, description="real wall time; still running after it = killed")
