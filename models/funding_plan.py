"""The provincial implementation plan (实施方案) as versioned documents, and the 工作安排.

财建〔2021〕2号 三(一)(二) (seed 001 L41–45): the province submits a 报送版 listing the recommended
重点"小巨人" and platforms; the ministries send back 合规性审核意见 (初步 then 正式, seed 000 L7–11);
the province files the 备案版; MIIT 会同 MOF approve it (批复). Each submission is a new
``PlanVersion`` with its own ``PlanItem`` rows, so every list the province ever sent stays on record.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Optional

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.exact import exact

MONEY = exact(16, 4)


class PlanStatus(StrEnum):
    drafting = "drafting"                        # 编制中
    submitted = "submitted"                      # 报送版已报
    preliminary_opinion = "preliminary_opinion"  # 初步合规性审核意见已反馈
    formal_opinion = "formal_opinion"            # 正式合规性审核意见已反馈
    filed = "filed"                              # 备案版已报
    approved = "approved"                        # 已批复

    @property
    def label(self) -> str:
        return {
            "drafting": "编制中", "submitted": "报送版已报", "preliminary_opinion": "初步审核意见已反馈",
            "formal_opinion": "正式审核意见已反馈", "filed": "备案版已报", "approved": "已批复",
        }[self.value]


class VersionKind(StrEnum):
    submission = "submission"   # 报送版
    filed = "filed"             # 备案版

    @property
    def label(self) -> str:
        return {"submission": "报送版", "filed": "备案版"}[self.value]


class OpinionStage(StrEnum):
    preliminary = "preliminary"   # 初步合规性审核意见
    formal = "formal"             # 正式反馈的合规性审核意见

    @property
    def label(self) -> str:
        return {"preliminary": "初步合规性审核意见", "formal": "正式合规性审核意见"}[self.value]


class ItemType(StrEnum):
    key_enterprise = "key_enterprise"   # 重点"小巨人"企业
    platform = "platform"               # 公共服务示范平台 / 服务机构

    @property
    def label(self) -> str:
        return {"key_enterprise": "重点“小巨人”企业", "platform": "公共服务示范平台"}[self.value]


class PlatformCategory(StrEnum):
    """The two platform categories of the Sichuan call (seed 004 L51–53); a platform is in one only."""

    key_support = "key_support"           # 重点支持国家级专精特新"小巨人"企业公共服务示范平台
    overall_support = "overall_support"   # 统筹支持"专精特新"中小企业公共服务示范平台（服务机构）

    @property
    def label(self) -> str:
        return {"key_support": "重点支持类平台", "overall_support": "统筹支持类平台"}[self.value]


class ImplementationPlan(SQLModel, table=True):
    """《XX省份第X批支持专精特新"小巨人"企业工作实施方案》: one per province, batch and programme."""

    __tablename__ = "implementation_plan"
    __table_args__ = (UniqueConstraint("profile_id", "province_code", "batch", name="uq_plan_province_batch"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    profile_id: str = Field(max_length=64, description="programme profile, e.g. key-little-giant-funding")
    province_code: str = Field(foreign_key="jurisdiction.code", index=True)
    batch: int = Field(ge=1, description="批次")
    title: str = Field(max_length=256)
    status: PlanStatus = PlanStatus.drafting
    approved_at: Optional[datetime] = Field(default=None, description="批复时间")
    approval_doc_no: Optional[str] = Field(default=None, max_length=64, description="批复文号")
    implementation_start: Optional[date] = Field(default=None, description="实施期起算日（默认批复日）")
    created_at: Optional[datetime] = None


class PlanVersion(SQLModel, table=True):
    """One document the province sent: a 报送版 or a 备案版."""

    __tablename__ = "plan_version"
    __table_args__ = (UniqueConstraint("plan_id", "version_no", name="uq_plan_version_no"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="implementation_plan.id", index=True)
    version_no: int = Field(ge=1)
    kind: VersionKind
    submitted_at: datetime
    document_ref: Optional[str] = Field(default=None, max_length=128, description="文号或文件名")
    actor: str = Field(max_length=64)
    warnings: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class PlanItem(SQLModel, table=True):
    """One line of a version's 名单: a key enterprise or a platform, with its planned amount."""

    __tablename__ = "plan_item"
    __table_args__ = (UniqueConstraint("version_id", "uscc", name="uq_plan_item_version_uscc"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="plan_version.id", index=True)
    item_type: ItemType
    enterprise_id: Optional[int] = Field(default=None, foreign_key="enterprise.id", index=True)
    name: str = Field(max_length=128)
    uscc: str = Field(max_length=18)
    platform_category: Optional[PlatformCategory] = None
    amount_wan: Decimal = Field(**MONEY, description="计划支持金额（万元，实施期合计）")


class ComplianceOpinion(SQLModel, table=True):
    """合规性审核意见: the preliminary one (seed 000 附件1) and the formal one."""

    __tablename__ = "compliance_opinion"
    __table_args__ = (UniqueConstraint("plan_id", "stage", name="uq_opinion_plan_stage"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="implementation_plan.id", index=True)
    version_id: int = Field(foreign_key="plan_version.id", description="the version reviewed")
    stage: OpinionStage
    issued_at: datetime
    issued_by: str = Field(max_length=128, description="e.g. 工业和信息化部中小企业局 财政部经济建设司")
    doc_ref: Optional[str] = Field(default=None, max_length=128)
    items: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False),
                        description="[{issue, required_change}] 修改意见")
    institution_amounts: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False),
                                      description="正式意见确定的服务机构支持额度 {uscc: 万元}")


class WorkArrangementStatus(StrEnum):
    submitted = "submitted"                      # 已函报
    deemed_not_applied = "deemed_not_applied"    # 逾期未报送，视同不申请公共服务体系奖补资金


class WorkArrangement(SQLModel, table=True):
    """工作安排 for the 公共服务体系奖补资金 (seed 000 L13–61), one per province and year."""

    __tablename__ = "work_arrangement"
    __table_args__ = (UniqueConstraint("province_code", "year", name="uq_work_arrangement_province_year"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    province_code: str = Field(foreign_key="jurisdiction.code", index=True)
    year: int
    submitted_at: Optional[datetime] = Field(default=None, description="函报时间；截止时仍未报送则为空")
    sealed: bool = Field(default=False, description="加盖公章")
    requested_amount_wan: Optional[Decimal] = Field(default=None, **MONEY, description="申请中央财政公共服务体系奖补资金数额")
    letter_ref: Optional[str] = Field(default=None, max_length=128, description="函报文号")
    status: WorkArrangementStatus
    note: Optional[str] = None
