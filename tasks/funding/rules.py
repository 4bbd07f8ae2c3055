"""The rules of the funded tier, read from data: the profile's ``funding`` block and the
performance-review rules in ``programmes/performance/``.

Both are validated on load; a grade named in one file but not the other is a clear error.
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Literal, Optional

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from models.errors import SrdiError
from models.performance import Direction
from models.profile import Funding, Profile, ProfileError
from models.settings import settings
from tasks.reference.programmes import get_profile

FUNDING_PROFILE_ID = "key-little-giant-funding"
PERFORMANCE_RULES_ID = "key-little-giant"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GradeLine(_Strict):
    grade: str
    min_score: Decimal = Field(ge=0, le=100)


class IndicatorRule(_Strict):
    label: str
    unit: str
    cumulative: bool                      # ★ 年末累计数据
    direction: Direction
    applies_to: Literal["key_enterprise", "platform"]
    weight: Decimal = Field(default=Decimal(1), gt=0)


class SoftTarget(_Strict):
    label: str
    min: Decimal


class ProvincialChecks(_Strict):
    coverage_pct: Decimal = Decimal(100)
    coverage_services: dict[str, str]
    soft_targets: dict[str, SoftTarget]


class PerformanceRules(_Strict):
    id: str
    documents: list[dict]
    grades: list[GradeLine] = Field(min_length=2)
    indicators: dict[str, IndicatorRule] = Field(min_length=1)
    provincial_checks: ProvincialChecks

    @model_validator(mode="after")
    def _grades_descend(self) -> "PerformanceRules":
        scores = [line.min_score for line in self.grades]
        if scores != sorted(scores, reverse=True) or len(set(scores)) != len(scores):
            raise ValueError("grades 应按 min_score 由高到低排列且互不相同")
        if scores[-1] != 0:
            raise ValueError("最低等次的 min_score 应为 0（任何得分都须有等次）")
        return self

    def grade_for(self, score: Decimal) -> str:
        return next(line.grade for line in self.grades if score >= line.min_score)

    @property
    def grade_names(self) -> list[str]:
        return [line.grade for line in self.grades]


def performance_rules_path(rules_id: str = PERFORMANCE_RULES_ID) -> Path:
    return settings().programmes_dir / "performance" / f"{rules_id}.yaml"


@lru_cache(maxsize=8)
def _load_rules(path: Path) -> PerformanceRules:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return PerformanceRules.model_validate(data)
    except FileNotFoundError:
        raise ProfileError(f"缺少绩效考核规则文件 {path}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(顶层)"
        raise ProfileError(f"{path}: 字段 {where}: {first['msg']}") from None


def performance_rules(rules_id: str = PERFORMANCE_RULES_ID) -> PerformanceRules:
    return _load_rules(performance_rules_path(rules_id))


def funding_profile(profile_id: str = FUNDING_PROFILE_ID) -> Profile:
    """The funded tier's profile from the programme registry (programmes/, cached by file hash)."""
    return get_profile(profile_id)


def funding_of(profile: Profile) -> Funding:
    if profile.funding is None:
        raise ProfileError(f"方案 {profile.id} 未配置资金规则（funding），不能用于资金拨付")
    return profile.funding


def check_consistent(funding: Funding, rules: PerformanceRules) -> None:
    """Every grade the review can give must have a factor in the funding rules, and vice versa."""
    given, priced = set(rules.grade_names), set(funding.grade_factors)
    if given != priced:
        raise ProfileError(
            f"绩效等次不一致：考核规则 {rules.id} 的等次为 {'、'.join(rules.grade_names)}，"
            f"资金规则 grade_factors 为 {'、'.join(funding.grade_factors) or '（空）'}"
        )


def grade_factor(funding: Funding, grade: Optional[str]) -> Decimal:
    """The share of a tranche a grade earns; a tranche without review is paid in full."""
    if grade is None:
        return Decimal(1)
    try:
        return Decimal(funding.grade_factors[grade])
    except KeyError:
        raise SrdiError(f"等次 {grade!r} 未在资金规则 grade_factors 中定义系数") from None
