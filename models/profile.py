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
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from models.enums import JurisdictionLevel, ReviewLevel
from models.errors import SrdiError
from models.reminder_policy import ReminderPolicy
from models.rules import EligibilityRules
from srdi.clock import aware

DayUnit = Literal["working_days", "natural_days"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Document(Strict):
    """A policy document the profile encodes."""

    number: str                      # 文号, e.g. 工信厅企业函〔2021〕79号
    title: str
    issuer: Optional[str] = None
    date: Optional[str] = None
    seed: Optional[str] = None       # file in shared/seeds
    lines: Optional[str] = None      # e.g. "816-1539"


class DeadlineRule(Strict):
    """When a level must have decided: a fixed date-time or N days after an event.

    ``cutoff`` is the wall-clock time in Beijing; ``exclusive`` means "before" (8:00前: a decision
    at 08:00:00 is late), otherwise the whole minute/second named is still in time.
    """

    kind: Literal["fixed", "after_event"]
    at: Optional[datetime] = None
    event: Optional[Literal["call_opens", "call_closes", "level_opens"]] = None
    days: Optional[int] = Field(default=None, ge=0)
    unit: DayUnit = "working_days"
    cutoff: time = time(23, 59, 59)
    exclusive: bool = False
    cite: Optional[str] = None

    @field_validator("at")
    @classmethod
    def _aware(cls, value: Optional[datetime]) -> Optional[datetime]:
        return aware(value) if value else value

    @model_validator(mode="after")
    def _shape(self) -> "DeadlineRule":
        if self.kind == "fixed" and self.at is None:
            raise ValueError("a fixed deadline needs 'at'")
        if self.kind == "after_event" and (self.event is None or self.days is None):
            raise ValueError("an after_event deadline needs 'event' and 'days'")
        return self


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


class Level(Strict):
    """One rung of the route."""

    level: ReviewLevel
    label: str                       # e.g. 县级工信部门审核
    deadline: DeadlineRule
    on_missed: Literal["lapse", "escalate"] = "escalate"   # undecided at the deadline
    quota: Optional[QuotaRule] = None
    third_party_evaluation: bool = False
    co_sign_finance: bool = False
    cite: Optional[str] = None


class NoticeRule(Strict):
    """公示: length and unit, whether the opening day counts, who publishes."""

    length: int = Field(gt=0)
    unit: DayUnit
    opening_day_counts: bool = False
    publisher: ReviewLevel
    close_time: time = time(17, 30)
    cite: Optional[str] = None


class ReReview(Strict):
    """复核: after ``every_years`` the cohort re-applies through ``route``."""

    every_years: int = Field(gt=0)
    route: list[ReviewLevel] = Field(min_length=1)
    missing_revokes: bool = True
    cite: Optional[str] = None


class Validity(Strict):
    years: int = Field(gt=0)
    re_review: Optional[ReReview] = None
    name_change_within_days: Optional[int] = Field(default=None, gt=0)
    name_change_unit: DayUnit = "natural_days"
    cite: Optional[str] = None


class Ban(Strict):
    """禁止申报 after false information (提供虚假材料)."""

    years: int = Field(gt=0)
    cite: Optional[str] = None


class Tranche(Strict):
    """One instalment of a funded tier (批复当年 / 实施期满1年 / 满2年)."""

    index: int = Field(ge=1)
    label: str
    years_after_approval: int = Field(ge=0)
    share_pct: Decimal = Field(gt=0, le=100)
    requires_review: bool
    cite: Optional[str] = None


class Funding(Strict):
    tranches: list[Tranche] = Field(min_length=1)
    grade_factors: dict[str, Decimal] = Field(default_factory=dict)   # 优秀/良好/合格/不合格 → factor
    min_direct_enterprise_share_pct: Optional[Decimal] = Field(default=None, ge=0, le=100)
    max_platforms_per_batch: Optional[int] = Field(default=None, ge=0)
    max_per_institution_wan: Optional[Decimal] = Field(default=None, gt=0)
    allocation_plan_days: Optional[int] = Field(default=None, gt=0)
    cite: Optional[str] = None

    @model_validator(mode="after")
    def _shares_sum(self) -> "Funding":
        total = sum(t.share_pct for t in self.tranches)
        if total != 100:
            raise ValueError(f"tranche shares must add up to 100, got {total}")
        return self


class Profile(Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str
    tier: Literal["provincial_srdi", "little_giant", "key_little_giant", "service_platform", "municipal_srdi"]
    jurisdiction: str = Field(pattern=r"^\d{6}$")     # 000000 for a national programme
    documents: list[Document] = Field(min_length=1)
    route: list[Level] = Field(min_length=1)
    notice: Optional[NoticeRule] = None
    validity: Optional[Validity] = None
    ban: Optional[Ban] = None
    eligibility: Optional[EligibilityRules] = None
    funding: Optional[Funding] = None
    reminders: ReminderPolicy = Field(default_factory=ReminderPolicy)
    notes: Optional[str] = None

    @model_validator(mode="after")
    def _route_order(self) -> "Profile":
        order = list(ReviewLevel)
        levels = [step.level for step in self.route]
        if levels != sorted(levels, key=order.index) or len(set(levels)) != len(levels):
            raise ValueError("route must list levels bottom-up without repeats (county → municipal → provincial → ministry)")
        return self

    def step(self, level: ReviewLevel) -> Level:
        return next(s for s in self.route if s.level == level)

    def next_level(self, level: ReviewLevel) -> Optional[ReviewLevel]:
        levels = [s.level for s in self.route]
        i = levels.index(level)
        return levels[i + 1] if i + 1 < len(levels) else None

    @property
    def entry_level(self) -> ReviewLevel:
        return self.route[0].level

    @property
    def final_level(self) -> ReviewLevel:
        return self.route[-1].level


class ProfileError(SrdiError, ValueError):
    """A profile that does not load: one line naming the file, the field and what was expected."""


def _field_path(loc: tuple) -> str:
    return ".".join(str(part) for part in loc if not (isinstance(part, str) and part in {"criterion", "all_of", "any_of", "k_of_n", "bands"}))


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
        first = exc.errors()[0]
        got = first.get("input")
        got_text = "" if isinstance(got, (dict, list)) else f"（实际为 {got!r}）"
        raise ProfileError(f"{source}: 字段 {_field_path(first['loc']) or '(顶层)'}: {first['msg']}{got_text}") from None


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


__all__ = ["Profile", "ProfileError", "load_profile", "load_profiles", "parse_profile", "JurisdictionLevel"]
