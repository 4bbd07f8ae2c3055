"""Eligibility rule trees of a programme profile (资格条件), as data.

A tree is made of nodes, each with a ``type``:

- ``criterion``: one threshold on one metric (``revenue_wan >= 1000`` over the years asked);
- ``all_of`` / ``any_of`` / ``k_of_n``: groups ("all basic + any one special" is an ``all_of`` of
  an ``all_of`` and an ``any_of``);
- ``bands``: pick the band a metric falls in (79号 classes a/b/c by revenue) and apply that
  band's own rule; the band id becomes the application's category.

Exclusions (不得申报/不予推荐), bonus points (激励/加分) and relaxations (放宽, e.g. Hebei's
fast track) sit beside the tree. The engine that evaluates them lives in tasks/eligibility.py.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


YearWindow = Literal[
    "last",            # 上年
    "each_last_2",     # 近两年每年
    "sum_last_2",      # 近两年合计
    "aggregate_last_2",  # 近两年合计之比 (Σpart / Σwhole)
    "avg_last_2",      # 近两年平均
    "each_last_3",
    "none",            # not a yearly figure (a fact of the application)
]


class Criterion(Strict):
    type: Literal["criterion"] = "criterion"
    id: str
    label: str
    metric: str
    op: Literal[">=", ">", "<=", "<", "==", "!=", "in", "is_true", "is_false"]
    value: Optional[Union[Decimal, int, str, bool, list[str]]] = None
    years: YearWindow = "none"
    cite: Optional[str] = None

    @model_validator(mode="after")
    def _value_needed(self) -> "Criterion":
        if self.op not in ("is_true", "is_false") and self.value is None:
            raise ValueError(f"criterion {self.id}: op {self.op} needs a value")
        return self


class Group(Strict):
    type: Literal["all_of", "any_of", "k_of_n"]
    id: str
    label: str
    k: Optional[int] = Field(default=None, ge=1)
    items: list["RuleNode"] = Field(min_length=1)
    cite: Optional[str] = None

    @model_validator(mode="after")
    def _k_fits(self) -> "Group":
        if self.type == "k_of_n" and (self.k is None or self.k > len(self.items)):
            raise ValueError(f"group {self.id}: k_of_n needs 1 ≤ k ≤ {len(self.items)}")
        if self.type != "k_of_n" and self.k is not None:
            raise ValueError(f"group {self.id}: k only applies to k_of_n")
        return self


class Band(Strict):
    id: str
    label: str
    min: Optional[Decimal] = None       # inclusive
    max: Optional[Decimal] = None       # exclusive
    rule: "RuleNode"


class Bands(Strict):
    type: Literal["bands"] = "bands"
    id: str
    label: str
    metric: str
    years: YearWindow = "last"
    bands: list[Band] = Field(min_length=1)
    cite: Optional[str] = None


RuleNode = Annotated[Union[Criterion, Group, Bands], Field(discriminator="type")]


class Exclusion(Strict):
    """不得申报 / 不予推荐: one reason an enterprise is excluded whatever its figures."""

    id: str
    label: str
    kind: Literal[
        "listed_on_board",          # 已在上市板块上市
        "serious_dishonesty",       # 严重失信
        "accident_within_years",    # N年内发生重大安全、质量、环境事故
        "holds_title",              # 已获更高称号 (e.g. 单项冠军)
        "earlier_batch_recipient",  # 已获前批次支持
        "banned",                   # 因虚假材料处于禁止申报期
        "fact_true",                # any other yes/no fact that excludes
    ]
    boards: list[str] = Field(default_factory=list)
    years: Optional[int] = Field(default=None, ge=1)
    title: Optional[str] = None
    fact: Optional[str] = None
    cite: Optional[str] = None


class Bonus(Strict):
    """激励条件 / 加分项: points for a criterion that holds."""

    id: str
    label: str
    points: Decimal = Field(gt=0)
    when: RuleNode
    cite: Optional[str] = None


class Relaxation(Strict):
    """放宽条件: when ``when`` holds, the listed criteria are waived."""

    id: str
    label: str
    when: RuleNode
    waives: list[str] = Field(min_length=1)
    cite: Optional[str] = None


class EligibilityRules(Strict):
    reference_year: Literal["previous", "current"] = "previous"
    rule: RuleNode
    exclusions: list[Exclusion] = Field(default_factory=list)
    bonus: list[Bonus] = Field(default_factory=list)
    relaxations: list[Relaxation] = Field(default_factory=list)


Group.model_rebuild()
Band.model_rebuild()
Bands.model_rebuild()
