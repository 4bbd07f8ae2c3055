"""Eligibility rule trees of a programme profile (资格条件), as data.

A tree is made of nodes, each with a ``type``:

- ``criterion``: one threshold on one metric (``revenue_wan >= 1000`` over the years asked);
- ``all_of`` / ``any_of`` / ``k_of_n``: groups ("all basic + any one special" is an ``all_of`` of
  an ``all_of`` and an ``any_of``);
- ``bands``: pick the band a metric falls in (79号 classes a/b/c by revenue) and apply that
  band's own rule; the band id becomes the application's category.

Exclusions (不得申报/不予推荐), bonus points (激励/加分) and relaxations (放宽, e.g. Hebei's
fast track) sit beside the tree. The engine that evaluates them lives in tasks/eligibility/engine.py.

Every metric a rule names must be in the vocabulary of models/metrics.py, used with a year window
that fits it (a yearly financial figure needs one, a fact of the application must not have one)
and an operator that fits its unit; a profile that breaks this does not load. A node with
``gating: false`` is judged and recorded but does not decide eligibility (e.g. Sichuan batch 2's
成长性, "不作为第二批申报条件").
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from models.metrics import Metric, UnknownMetric, get_metric


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

NUMERIC_OPS = {">=", ">", "<=", "<", "==", "!="}
BOOL_OPS = {"is_true", "is_false"}
ENUM_OPS = {"in", "==", "!="}


def _known_metric(name: str) -> str:
    try:
        get_metric(name)
    except UnknownMetric as exc:
        raise ValueError(str(exc)) from None
    return name


def _check_window(owner: str, metric: Metric, years: str) -> None:
    if metric.yearly and years == "none":
        raise ValueError(f"@years: {owner}: 指标 {metric.name}（{metric.label}）按年度取值，"
                         "years 应为 last/each_last_2/avg_last_2 等年度口径")
    if not metric.yearly and years != "none":
        raise ValueError(f"@years: {owner}: 指标 {metric.name}（{metric.label}）不按年度取值，years 应为 none，实际为 {years}")
    if years == "aggregate_last_2" and metric.ratio_of is None:
        raise ValueError(f"@years: {owner}: years=aggregate_last_2（两年合计之比）只适用于比率指标，{metric.name} 不是比率")
    if years == "sum_last_2" and metric.unit == "%":
        raise ValueError(f"@years: {owner}: 百分比指标 {metric.name} 不能两年相加（sum_last_2），应为 aggregate_last_2 或 avg_last_2")


class Criterion(Strict):
    type: Literal["criterion"] = "criterion"
    id: str
    label: str
    metric: str
    op: Literal[">=", ">", "<=", "<", "==", "!=", "in", "is_true", "is_false"]
    value: Optional[Union[Decimal, int, str, bool, list[str]]] = None
    years: YearWindow = "none"
    gating: bool = True          # false: judged and recorded, never decides eligibility
    cite: Optional[str] = None
    note: Optional[str] = None

    _metric_known = field_validator("metric")(_known_metric)

    @model_validator(mode="after")
    def _fits_metric(self) -> "Criterion":
        owner = f"条件 {self.id}"
        metric = get_metric(self.metric)
        _check_window(owner, metric, self.years)
        if metric.unit == "bool":
            if self.op not in BOOL_OPS:
                raise ValueError(f"@op: {owner}: 是/否指标 {metric.name} 只能用 is_true/is_false，实际为 {self.op}")
            return self
        if self.value is None:
            raise ValueError(f"@value: {owner}: 运算符 {self.op} 需要 value")
        if metric.unit == "enum":
            values = self.value if isinstance(self.value, list) else [self.value]
            bad = [v for v in values if str(v) not in metric.choices]
            if self.op not in ENUM_OPS or bad:
                raise ValueError(f"@op: {owner}: 枚举指标 {metric.name} 只能用 in/==/!=，取值须在 {list(metric.choices)} 中")
            return self
        if self.op not in NUMERIC_OPS or not isinstance(self.value, (Decimal, int)) or isinstance(self.value, bool):
            raise ValueError(f"@op: {owner}: 数值指标 {metric.name}（{metric.unit}）应使用 >=、>、<=、<、==、!= 与一个数值，"
                             f"实际为 {self.op} {self.value!r}")
        return self


class Group(Strict):
    type: Literal["all_of", "any_of", "k_of_n"]
    id: str
    label: str
    k: Optional[int] = Field(default=None, ge=1)
    items: list["RuleNode"] = Field(min_length=1)
    gating: bool = True
    cite: Optional[str] = None
    note: Optional[str] = None

    @model_validator(mode="after")
    def _k_fits(self) -> "Group":
        if self.type == "k_of_n" and (self.k is None or self.k > len(self.items)):
            raise ValueError(f"@k: 组 {self.id}: k_of_n 需要 1 ≤ k ≤ {len(self.items)}")
        if self.type != "k_of_n" and self.k is not None:
            raise ValueError(f"@k: 组 {self.id}: k 只适用于 k_of_n")
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
    note: Optional[str] = None

    _metric_known = field_validator("metric")(_known_metric)

    @model_validator(mode="after")
    def _ordered(self) -> "Bands":
        metric = get_metric(self.metric)
        _check_window(f"分档 {self.id}", metric, self.years)
        if not metric.numeric:
            raise ValueError(f"@metric: 分档 {self.id}: 指标 {metric.name} 不是数值，不能分档")
        ids = [band.id for band in self.bands]
        if len(set(ids)) != len(ids):
            raise ValueError(f"@bands: 分档 {self.id}: 档位 id 重复 {ids}")
        for band in self.bands:
            if band.min is not None and band.max is not None and band.min >= band.max:
                raise ValueError(f"@bands: 分档 {self.id}: 档位 {band.id} 的 min 应小于 max")
        spans = sorted(self.bands, key=lambda b: Decimal("-Infinity") if b.min is None else b.min)
        for lower, upper in zip(spans, spans[1:]):
            if lower.max is None or upper.min is None or lower.max > upper.min:
                raise ValueError(f"@bands: 分档 {self.id}: 档位 {lower.id} 与 {upper.id} 区间重叠")
        return self


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
    severity: Literal["major", "any"] = "major"   # 重大事故 only, or any accident
    title: Optional[str] = None
    fact: Optional[str] = None
    cite: Optional[str] = None
    note: Optional[str] = None

    @model_validator(mode="after")
    def _has_what_kind_needs(self) -> "Exclusion":
        needs = {"listed_on_board": "boards", "accident_within_years": "years", "holds_title": "title", "fact_true": "fact"}
        field = needs.get(self.kind)
        if field and not getattr(self, field):
            raise ValueError(f"@{field}: 排除条件 {self.id}: kind={self.kind} 需要字段 {field}")
        if self.fact is not None and get_metric(self.fact).unit != "bool":
            raise ValueError(f"@fact: 排除条件 {self.id} 的 fact 应为是/否指标，{self.fact} 不是")
        return self

    @field_validator("fact")
    @classmethod
    def _fact_known(cls, value: Optional[str]) -> Optional[str]:
        return value if value is None else _known_metric(value)


class Bonus(Strict):
    """激励条件 / 加分项: points for a criterion that holds."""

    id: str
    label: str
    points: Decimal = Field(gt=0)
    when: RuleNode
    cite: Optional[str] = None
    note: Optional[str] = None


class Relaxation(Strict):
    """放宽条件: when ``when`` holds (and the call's batch is listed, if any), the listed rule
    nodes are waived — all of them, or at most ``max_waived`` of them (Qinghai: "不超过2项量化指标",
    the engine waives the failing ones up to that number)."""

    id: str
    label: str
    when: Optional[RuleNode] = None                      # None: no condition on the enterprise
    call_batches: list[int] = Field(default_factory=list)  # only in calls of these 批次
    waives: list[str] = Field(min_length=1)
    max_waived: Optional[int] = Field(default=None, ge=1)
    cite: Optional[str] = None
    note: Optional[str] = None

    @model_validator(mode="after")
    def _has_a_condition(self) -> "Relaxation":
        if self.when is None and not self.call_batches:
            raise ValueError(f"@when: 放宽条件 {self.id}: 需要 when 或 call_batches")
        if self.max_waived is not None and self.max_waived > len(self.waives):
            raise ValueError(f"@max_waived: 放宽条件 {self.id}: max_waived 不能大于 waives 的个数 {len(self.waives)}")
        return self


class EligibilityRules(Strict):
    reference_year: Literal["previous", "current"] = "previous"
    rule: RuleNode
    exclusions: list[Exclusion] = Field(default_factory=list)
    bonus: list[Bonus] = Field(default_factory=list)
    relaxations: list[Relaxation] = Field(default_factory=list)

    @model_validator(mode="after")
    def _ids_resolve(self) -> "EligibilityRules":
        ids = node_ids(self.rule)
        for extra in [b.when for b in self.bonus] + [r.when for r in self.relaxations if r.when is not None]:
            ids += node_ids(extra)
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"@rule: 规则节点 id 重复 {duplicates}")
        tree = set(node_ids(self.rule))
        for relaxation in self.relaxations:
            unknown = [w for w in relaxation.waives if w not in tree]
            if unknown:
                raise ValueError(f"@relaxations: 放宽条件 {relaxation.id}: waives 引用了不存在的条件 {unknown}")
        return self

    def band_ids(self) -> list[str]:
        return [band.id for node in walk(self.rule) if isinstance(node, Bands) for band in node.bands]


def walk(node: "RuleNode"):
    """Every node of a tree, parents before children (bands' rules included)."""
    yield node
    if isinstance(node, Group):
        for item in node.items:
            yield from walk(item)
    elif isinstance(node, Bands):
        for band in node.bands:
            yield from walk(band.rule)


def node_ids(node: "RuleNode") -> list[str]:
    return [n.id for n in walk(node)]


Group.model_rebuild()
Band.model_rebuild()
Bands.model_rebuild()
