"""Programme profiles: one YAML file in programmes/ states how one programme runs.

Route, per-level deadlines, notice (公示) rules, quotas, validity and re-review, bans, eligibility
rules and, for funded tiers, the tranche schedule. Every rule carries a ``cite`` naming the
document and seed lines it encodes. Unknown fields are errors: a typo must not silently
become a default.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Literal, Optional

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from models.clock import SHANGHAI, local
from models.enums import JurisdictionLevel, ReviewLevel
from models.profile_base import DayUnit, DeadlineRule, Document, ProfileError, Strict
from models.reminder_policy import ReminderPolicy
from models.rules import EligibilityRules
from models.validation_errors import describe_error


class SubCap(Strict):
    """Of the quota, at most ``max`` may be of ``category`` (79号: ≤10 of class c)."""

    category: str
    max: int = Field(ge=0)
    label: str
    cite: Optional[str] = None


class QuotaRule(Strict):
    """名额: how many a jurisdiction at this level may recommend, chosen by score (择优)."""

    max: Optional[int] = Field(default=None, ge=0)              # per deciding jurisdiction
    per_jurisdiction: dict[str, int] = Field(default_factory=dict)  # GB/T 2260 code → cap
    sub_caps: list[SubCap] = Field(default_factory=list)
    soft: bool = False                                           # 建议名额: warn, do not cut
    rank_by: list[Literal["score_desc", "submitted_at_asc", "ref_asc"]] = ["score_desc", "submitted_at_asc", "ref_asc"]
    cite: Optional[str] = None
    note: Optional[str] = None

    @field_validator("per_jurisdiction")
    @classmethod
    def _codes(cls, value: dict[str, int]) -> dict[str, int]:
        bad = [code for code, cap in value.items() if len(code) != 6 or not code.isdigit() or cap < 0]
        if bad:
            raise ValueError(f"per_jurisdiction 的键应为6位行政区划代码、值为非负整数，不符合的有 {bad}")
        return value

    @model_validator(mode="after")
    def _sub_caps_fit(self) -> "QuotaRule":
        for cap in self.sub_caps:
            if self.max is not None and cap.max > self.max:
                raise ValueError(f"sub_caps {cap.category}: 分项上限 {cap.max} 超过总名额 {self.max}")
        return self


class Level(Strict):
    """One rung of the route."""

    level: ReviewLevel
    label: str                       # e.g. 县级工信部门审核
    deadline: DeadlineRule
    on_missed: Literal["lapse", "escalate"] = "escalate"   # undecided at the deadline
    quota: Optional[QuotaRule] = None
    third_party_evaluation: bool = False
    co_sign_finance: bool = False
    optional: bool = False           # a level applicants may skip (四川: "按程序报当地中小企业主管部门")
    cite: Optional[str] = None
    note: Optional[str] = None


class NoticeRule(Strict):
    """公示: length and unit, whether the opening day counts, who publishes."""

    length: int = Field(gt=0)
    unit: DayUnit
    opening_day_counts: bool = False
    publisher: ReviewLevel
    close_time: time = time(17, 30)
    assumed: bool = False
    cite: Optional[str] = None
    note: Optional[str] = None

    @model_validator(mode="after")
    def _assumption_explained(self) -> "NoticeRule":
        if self.assumed and not self.note:
            raise ValueError("@note: 标为 assumed 的公示期需要 note 说明取值理由")
        return self


class ReReview(Strict):
    """复核: after ``every_years`` the cohort re-applies through ``route``."""

    every_years: int = Field(gt=0)
    route: list[ReviewLevel] = Field(min_length=1)
    missing_revokes: bool = True
    cite: Optional[str] = None
    note: Optional[str] = None


class Validity(Strict):
    years: int = Field(gt=0)
    re_review: Optional[ReReview] = None
    name_change_within_days: Optional[int] = Field(default=None, gt=0)
    name_change_unit: DayUnit = "natural_days"
    name_change_within_months: Optional[int] = Field(default=None, gt=0)   # "一个月内" is a month, not 30 days
    cite: Optional[str] = None
    note: Optional[str] = None

    @model_validator(mode="after")
    def _one_name_change_period(self) -> "Validity":
        if self.name_change_within_days and self.name_change_within_months:
            raise ValueError("@name_change_within_months: 更名期限只能填 name_change_within_days 或 name_change_within_months 之一")
        return self


class Ban(Strict):
    """禁止申报 after false information (提供虚假材料)."""

    years: int = Field(gt=0)
    cite: Optional[str] = None


# Today's rules where a profile states none: 报送省级前可撤回; a score of 0–99999.99 with two decimals.
CITE_VOLUNTARY = "财建〔2021〕2号 001_29593a7c351fc6b7.txt L41；004_003bf4f7a3377d33.txt L77（自愿申报）"
SCORE_COLUMN_MAX = Decimal("99999.99")   # application.score: NUMERIC(7, 2)
SCORE_COLUMN_DECIMALS = 2


class Withdrawal(Strict):
    """撤回申报: the levels at which the applicant may still withdraw (自愿申报).

    No document sets a limit; the default — while the application is below the provincial level —
    is a design value (programme-core.md T08).
    """

    levels: list[ReviewLevel] = Field(default_factory=lambda: [ReviewLevel.county, ReviewLevel.municipal])
    assumed: bool = True
    cite: Optional[str] = CITE_VOLUNTARY
    note: Optional[str] = "文件未规定撤回期限；报送省级前（区县、市（州）审核阶段）可撤回为设计取值（programme-core.md T08）。"

    @model_validator(mode="after")
    def _levels(self) -> "Withdrawal":
        order = list(ReviewLevel)
        if self.levels != sorted(self.levels, key=order.index) or len(set(self.levels)) != len(self.levels):
            raise ValueError("@levels: 可撤回的层级应自下而上、不重复（county → municipal → provincial → ministry）")
        if self.assumed and not self.note:
            raise ValueError("@note: 标为 assumed 的撤回规则需要 note 说明取值理由")
        return self

    def allows(self, level: ReviewLevel) -> bool:
        return level in self.levels

    @property
    def closes_at(self) -> Optional[ReviewLevel]:
        """The lowest level above every withdrawable one (报送该级后不能撤回)."""
        order = list(ReviewLevel)
        above = order[order.index(self.levels[-1]) + 1:] if self.levels else order
        return above[0] if above else None


class Scoring(Strict):
    """评分: the range and precision of a reviewer's score (e.g. 专家评分 0–100 where a document says so).

    Where the documents state no range the default is the widest the record holds (0–99999.99).
    """

    min: Decimal = Decimal(0)
    max: Decimal = SCORE_COLUMN_MAX
    decimals: int = Field(default=SCORE_COLUMN_DECIMALS, ge=0, le=SCORE_COLUMN_DECIMALS)
    assumed: bool = True
    cite: Optional[str] = None
    note: Optional[str] = "文件未规定评分区间；取记录可容纳的最大范围（0–99999.99，两位小数）。"

    @model_validator(mode="after")
    def _range(self) -> "Scoring":
        if self.min < 0:
            raise ValueError(f"@min: 评分下限不能为负，实际为 {self.min}")
        if self.max > SCORE_COLUMN_MAX:
            raise ValueError(f"@max: 评分上限不能超过 {SCORE_COLUMN_MAX}（记录的精度），实际为 {self.max}")
        if self.min >= self.max:
            raise ValueError(f"@max: 评分上限应大于下限 {self.min}，实际为 {self.max}")
        step = Decimal(1).scaleb(-self.decimals)
        for name, bound in (("min", self.min), ("max", self.max)):
            if bound != bound.quantize(step):
                raise ValueError(f"@{name}: 应最多 {self.decimals} 位小数，实际为 {bound}")
        if self.assumed and not self.note:
            raise ValueError("@note: 标为 assumed 的评分区间需要 note 说明取值理由")
        return self

    def accepts(self, value: Decimal) -> bool:
        return self.min <= value <= self.max and value == value.quantize(Decimal(1).scaleb(-self.decimals))

    @property
    def text(self) -> str:
        precision = {0: "为整数", 1: "最多一位小数", 2: "最多两位小数"}[self.decimals]
        return f"{self.min}–{self.max} 之间、{precision}"


class Tranche(Strict):
    """One instalment of a funded tier (批复当年 / 实施期满1年 / 满2年)."""

    index: int = Field(ge=1)
    label: str
    years_after_approval: int = Field(ge=0)
    share_pct: Decimal = Field(gt=0, le=100)
    requires_review: bool
    assumed: bool = False
    cite: Optional[str] = None
    note: Optional[str] = None


# 合规性审核意见预通知 三 (seed 000 L61): the 2021 工作安排 cut-off, the only year a document has fixed so far.
CITE_PRE_NOTICE_2021 = ("无文号（工业和信息化部中小企业局 财政部经济建设司 预通知）000_44edbe0ec2e74b35.txt L61"
                        "（于5月12日（周三）上午8:00前函报，逾期未报送视同不申请公共服务体系奖补资金）")


def _work_arrangement_2021() -> dict[int, DeadlineRule]:
    return {2021: DeadlineRule(kind="fixed", at=datetime(2021, 5, 12, 8, 0, tzinfo=SHANGHAI), exclusive=True,
                               cite=CITE_PRE_NOTICE_2021)}


class Funding(Strict):
    tranches: list[Tranche] = Field(min_length=1)
    # 工作安排 (公共服务体系奖补资金): each year's pre-notice fixes its own cut-off, by call year.
    work_arrangement_deadlines: dict[int, DeadlineRule] = Field(default_factory=_work_arrangement_2021)
    grade_factors: dict[str, Decimal] = Field(default_factory=dict)   # 优秀/良好/合格/不合格 → factor
    min_direct_enterprise_share_pct: Optional[Decimal] = Field(default=None, ge=0, le=100)
    max_platforms_per_batch: Optional[int] = Field(default=None, ge=0)
    max_per_institution_wan: Optional[Decimal] = Field(default=None, gt=0)
    max_per_institution_soft: bool = False          # "原则上": warn, do not refuse
    allocation_plan_days: Optional[int] = Field(default=None, gt=0)
    allocation_plan_unit: DayUnit = "natural_days"
    grade_factors_assumed: bool = False
    cite: Optional[str] = None
    note: Optional[str] = None

    @model_validator(mode="after")
    def _shares_sum(self) -> "Funding":
        total = sum(t.share_pct for t in self.tranches)
        if total != 100:
            raise ValueError(f"@tranches: 各期 share_pct 合计应为 100，实际为 {total}")
        if [t.index for t in self.tranches] != list(range(1, len(self.tranches) + 1)):
            raise ValueError("@tranches: index 应依次为 1、2、3 …")
        years = [t.years_after_approval for t in self.tranches]
        if years != sorted(years):
            raise ValueError("@tranches: 应按 years_after_approval 先后排列")
        negative = [grade for grade, factor in self.grade_factors.items() if factor < 0]
        if negative:
            raise ValueError(f"@grade_factors: 系数不能为负，不符合的有 {negative}")
        for year, rule in self.work_arrangement_deadlines.items():
            where = f"@work_arrangement_deadlines.{year}"
            if rule.kind == "after_event":
                raise ValueError(f"{where}.kind: 工作安排截止应为 fixed（预通知写明的日期时间）或 annual，不能以事件起算")
            if rule.kind == "fixed" and local(rule.at).year != year:
                raise ValueError(f"{where}.at: 应在 {year} 年内，实际为 {local(rule.at):%Y-%m-%d %H:%M}")
            if not rule.cite:
                raise ValueError(f"{where}.cite: 工作安排截止须注明所依据的预通知或文件")
        return self

    def work_arrangement_deadline(self, year: int) -> DeadlineRule:
        """The 工作安排 cut-off of ``year``; a year no document has fixed is refused, not guessed."""
        try:
            return self.work_arrangement_deadlines[year]
        except KeyError:
            known = "、".join(str(y) for y in sorted(self.work_arrangement_deadlines)) or "（无）"
            raise ProfileError(f"资金规则 funding.work_arrangement_deadlines 未载明 {year} 年工作安排的报送截止"
                               f"（已载明：{known}）；请按当年预通知补充") from None


class Profile(Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str
    tier: Literal["provincial_srdi", "little_giant", "key_little_giant", "service_platform", "municipal_srdi"]
    jurisdiction: str = Field(pattern=r"^\d{6}$")     # 000000 for a national programme
    documents: list[Document] = Field(min_length=1)
    route: list[Level] = Field(min_length=1)
    applicant_deadline: Optional[DeadlineRule] = None   # 企业申报截止 (the call's intake window)
    notice: Optional[NoticeRule] = None
    validity: Optional[Validity] = None
    ban: Optional[Ban] = None
    eligibility: Optional[EligibilityRules] = None
    funding: Optional[Funding] = None
    reminders: ReminderPolicy = Field(default_factory=ReminderPolicy)
    withdrawal: Withdrawal = Field(default_factory=Withdrawal)
    scoring: Scoring = Field(default_factory=Scoring)
    notes: Optional[str] = None

    @model_validator(mode="after")
    def _route_order(self) -> "Profile":
        order = list(ReviewLevel)
        levels = [step.level for step in self.route]
        if levels != sorted(levels, key=order.index) or len(set(levels)) != len(levels):
            raise ValueError("@route: 审核路径应自下而上、不重复（county → municipal → provincial → ministry）")
        if self.route[-1].optional:
            raise ValueError(f"@route.{len(levels) - 1}.optional: 最后一级作出决定，不能为可选")
        if self.notice and self.notice.publisher not in levels:
            raise ValueError(f"@notice.publisher: 发布公示的层级应在审核路径 {[level.value for level in levels]} 中，"
                             f"实际为 {self.notice.publisher.value}")
        if self.validity and self.validity.re_review:
            stray = [level.value for level in self.validity.re_review.route if level not in levels]
            if stray:
                raise ValueError(f"@validity.re_review.route: 复核层级应在审核路径中，多出 {stray}")
        if "withdrawal" in self.model_fields_set:
            stray = [level.value for level in self.withdrawal.levels if level not in levels]
            if stray:
                raise ValueError(f"@withdrawal.levels: 可撤回的层级应在审核路径 {[level.value for level in levels]} 中，多出 {stray}")
        bands = set(self.eligibility.band_ids()) if self.eligibility else set()
        for i, step in enumerate(self.route):
            for j, cap in enumerate(step.quota.sub_caps if step.quota else []):
                if bands and cap.category not in bands:
                    raise ValueError(f"@route.{i}.quota.sub_caps.{j}.category: 应为资格条件的分档之一 {sorted(bands)}，"
                                     f"实际为 {cap.category!r}")
        return self

    def step(self, level: ReviewLevel) -> Level:
        return next(s for s in self.route if s.level == level)

    def next_level(self, level: ReviewLevel) -> Optional[ReviewLevel]:
        levels = [s.level for s in self.route]
        i = levels.index(level)
        return levels[i + 1] if i + 1 < len(levels) else None

    @property
    def final_level(self) -> ReviewLevel:
        return self.route[-1].level


def parse_profile(text: str, source: str) -> Profile:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ProfileError(f"{source}: YAML 语法错误: {exc}") from None
    if not isinstance(data, dict):
        raise ProfileError(f"{source}: 应为一个映射（key: value），实际为 {type(data).__name__}")
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        raise ProfileError(describe_error(exc, source)) from None


def load_profile(path: Path) -> Profile:
    return parse_profile(path.read_text(encoding="utf-8"), str(path))


def profile_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def profile_paths(directory: Path) -> list[Path]:
    return sorted(p for p in directory.glob("*.yaml") if p.is_file())


def load_profiles(directory: Path) -> dict[str, Profile]:
    profiles: dict[str, Profile] = {}
    for path in profile_paths(directory):
        profile = load_profile(path)
        if profile.id != path.stem:
            raise ProfileError(f"{path}: 字段 id: 应与文件名一致（{path.stem}），实际为 {profile.id!r}")
        profiles[profile.id] = profile
    return profiles


__all__ = ["DeadlineRule", "Profile", "ProfileError", "load_profile", "load_profiles", "parse_profile", "JurisdictionLevel"]
