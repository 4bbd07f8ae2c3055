"""Reading one metric of one application over a year window, and saying it in Chinese.

Financial metrics are computed from the raw yearly figures (EnterpriseFinancialYear) relative to
the call's reference year R (上年 = call.year − 1, 近两年 = R−1 and R, a growth rate of year Y needs
Y−1 as its base); facts come from Application.facts. Ratios are compared exactly and shown
rounded, so 3.9999% reads "3.9999% < 4%", never "4% < 4%". Values are memoised per application,
because many criteria read the same figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, Optional

from models.metrics import Metric, get_metric

HUNDRED = Decimal(100)
ZERO = Decimal(0)
SYMBOL = {">=": "≥", ">": ">", "<=": "≤", "<": "<", "==": "=", "!=": "≠"}
NEGATED = {">=": "<", ">": "≤", "<=": ">", "<": "≥", "==": "≠", "!=": "="}
DEPTH = {"last": 1, "each_last_2": 2, "sum_last_2": 2, "aggregate_last_2": 2, "avg_last_2": 2, "each_last_3": 3}


@dataclass
class Subject:
    """What the engine knows about one application."""

    application_id: int
    reference_year: int
    years: dict[int, dict[str, Any]] = field(default_factory=dict)     # fiscal year → raw column → value
    facts: dict[str, Any] = field(default_factory=dict)


def as_decimal(value: Any) -> Optional[Decimal]:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def fmt(value: Any, unit: str = "", places: int = 2) -> str:
    """A number as a clerk reads it: 3.2%, 1200万元, 2个; 是/否 for booleans."""
    if value.__class__ is Decimal:
        number = value
    elif isinstance(value, bool):
        return "是" if value else "否"
    else:
        number = as_decimal(value)
    if number is None:
        return str(value)
    text = f"{number:.{places}f}" if number != number.to_integral_value() else f"{number:.0f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text + ("" if unit in ("bool", "enum", "") else unit)


@lru_cache(maxsize=4096)
def fmt_fixed(value: Any, unit: str = "", places: int = 2) -> str:
    """``fmt`` of a rule's threshold, which every application's sentence repeats."""
    return fmt(value, unit, places)


def fmt_against(value: Decimal, threshold: Decimal, unit: str) -> str:
    """``value`` with enough decimals that it never looks equal to a threshold it differs from."""
    for places in (2, 4, 6, 10):
        shown = fmt(value, unit, places)
        if value == threshold or shown != fmt_fixed(threshold, unit, places):
            return shown
    return fmt(value, unit, 12)


def window_years(window: str, reference: int) -> list[int]:
    return list(range(reference - DEPTH[window] + 1, reference + 1)) if window in DEPTH else []


def scope_text(window: str, reference: int) -> str:
    years = window_years(window, reference)
    if window == "last":
        return f"上年（{reference}年）"
    if window in ("each_last_2", "each_last_3"):
        return f"近{'两' if len(years) == 2 else '三'}年（{years[0]}—{years[-1]}年）每年"
    if window == "sum_last_2":
        return f"近两年（{years[0]}—{years[-1]}年）合计"
    if window == "avg_last_2":
        return f"近两年（{years[0]}—{years[-1]}年）平均"
    if window == "aggregate_last_2":
        return f"近两年（{years[0]}—{years[-1]}年）"
    return ""


def raw_columns(metric: Metric) -> list[tuple[str, int]]:
    """(raw column, year offset) a metric of year Y reads: a ratio both parts, a growth Y and Y−1."""
    if metric.column:
        return [(metric.column, 0)]
    if metric.ratio_of:
        return raw_columns(get_metric(metric.ratio_of[0])) + raw_columns(get_metric(metric.ratio_of[1]))
    if metric.growth_of:
        base = raw_columns(get_metric(metric.growth_of))
        return base + [(column, offset - 1) for column, offset in base]
    return []


class YearValues:
    """Memoised yearly metric values of one application."""

    __slots__ = ("years", "memo", "notes")

    def __init__(self, years: dict[int, dict[str, Any]]):
        self.years = years
        self.memo: dict[tuple[str, int], Optional[Decimal]] = {}
        self.notes: dict[tuple[str, int], str] = {}     # why a computed value is undefined

    def value(self, metric: Metric, year: int) -> Optional[Decimal]:
        key = (metric.name, year)
        if key in self.memo:
            return self.memo[key]
        result = None
        if metric.column:
            result = as_decimal(self.years.get(year, {}).get(metric.column))
        elif metric.ratio_of:
            part = self.value(get_metric(metric.ratio_of[0]), year)
            whole = self.value(get_metric(metric.ratio_of[1]), year)
            if part is not None and whole is not None:
                if whole == 0:
                    self.notes[key] = f"{year}年{get_metric(metric.ratio_of[1]).label}为0"
                else:
                    result = part * HUNDRED / whole
        elif metric.growth_of:
            base = get_metric(metric.growth_of)
            current, previous = self.value(base, year), self.value(base, year - 1)
            if current is not None and previous is not None:
                if previous <= 0:
                    self.notes[key] = f"{year - 1}年{base.label}不为正，增长率无法计算"
                else:
                    result = (current - previous) * HUNDRED / previous
        self.memo[key] = result
        return result

    def summed(self, metric: Metric, years: list[int]) -> Optional[Decimal]:
        total = ZERO
        for year in years:
            value = self.value(metric, year)
            if value is None:
                return None
            total += value
        return total

    def missing(self, metric: Metric, years: list[int]) -> list[str]:
        """What keeps ``metric`` undefined in ``years``, in Chinese ("2024年研发经费总额")."""
        found = []
        for year in years:
            if self.value(metric, year) is not None:
                continue
            note = self.notes.get((metric.name, year))
            if note:
                found.append(note)
            for column, offset in raw_columns(metric):
                if self.years.get(year + offset, {}).get(column) is None:
                    found.append(f"{year + offset}年{get_metric(column).label}")
        return list(dict.fromkeys(found))

    def figures(self, metric: Metric, years: list[int]) -> dict[str, dict[str, str]]:
        """The raw figures behind ``metric`` in ``years``, by fiscal year (strings, as stored)."""
        used: dict[str, dict[str, str]] = {}
        for year in years:
            for column, offset in raw_columns(metric):
                raw = self.years.get(year + offset, {}).get(column)
                if raw is not None:
                    used.setdefault(str(year + offset), {})[column] = str(raw)
        return used


def window_values(metric: Metric, window: str, years: list[int], values: YearValues) -> list[tuple[Optional[int], Optional[Decimal]]]:
    """The value(s) a criterion compares: one per year for "each", else one for the window."""
    if window in ("each_last_2", "each_last_3"):
        return [(year, values.value(metric, year)) for year in years]
    if window == "last":
        return [(None, values.value(metric, years[-1]))]
    if window == "avg_last_2":
        total = values.summed(metric, years)
        return [(None, None if total is None else total / len(years))]
    if metric.ratio_of:  # aggregate_last_2 (and sum_last_2 of a ratio): Σ part / Σ whole
        part = values.summed(get_metric(metric.ratio_of[0]), years)
        whole = values.summed(get_metric(metric.ratio_of[1]), years)
        return [(None, None if part is None or not whole else part * HUNDRED / whole)]
    return [(None, values.summed(metric, years))]


def compare(op: str, actual: Any, expected: Any) -> Optional[bool]:
    if actual is None:
        return None
    if op == "is_true":
        return bool(actual) is True
    if op == "is_false":
        return bool(actual) is False
    if op == "in":
        options = expected if isinstance(expected, list) else [expected]
        return str(actual) in {str(o) for o in options}
    left, right = as_decimal(actual), as_decimal(expected)
    if left is None or right is None:
        if op in ("==", "!="):
            return (str(actual) == str(expected)) == (op == "==")
        return None
    if op == ">=":
        return left >= right
    if op == ">":
        return left > right
    if op == "<=":
        return left <= right
    if op == "<":
        return left < right
    return (left == right) == (op == "==")


def comparator(op: str, expected: Any):
    """``compare`` specialised once per criterion: a function of the actual value only."""
    if op in ("is_true", "is_false"):
        wanted = op == "is_true"
        return lambda actual: None if actual is None else bool(actual) is wanted
    if op == "in" or as_decimal(expected) is None:
        return lambda actual: compare(op, actual, expected)
    bound = as_decimal(expected)
    test = {">=": bound.__le__, ">": bound.__lt__, "<=": bound.__ge__, "<": bound.__gt__,
            "==": bound.__eq__, "!=": bound.__ne__}[op]

    def numeric(actual: Any) -> Optional[bool]:
        if actual is None:
            return None
        number = actual if actual.__class__ is Decimal else as_decimal(actual)
        return None if number is None else test(number)
    return numeric


def clause(metric: Metric, op: str, threshold: Any, where: str, value: Any, passed: Optional[bool]) -> str:
    """One clause: "近两年（2024—2025年）研发经费占营业收入比重 3.2% < 4%"."""
    if op in ("is_true", "is_false"):
        shown = fmt(value) if value is not None else "未填"
        return f"{metric.label}：{shown}" + ("" if passed else f"（要求：{'是' if op == 'is_true' else '否'}）")
    if op == "in":
        options = "/".join(str(o) for o in (threshold if isinstance(threshold, list) else [threshold]))
        return f"{where}{metric.label} {value}，{'属于' if passed else '不属于'} {options}"
    number = value if value.__class__ is Decimal else as_decimal(value)
    bound = threshold if threshold.__class__ is Decimal else as_decimal(threshold)
    unit = metric.unit
    shown = fmt_against(number, bound, unit) if number is not None and bound is not None else fmt(value, unit)
    limit = fmt_fixed(threshold, unit) if threshold.__class__ is Decimal else fmt(threshold, unit)
    return f"{where}{metric.label} {shown} {SYMBOL[op] if passed else NEGATED[op]} {limit}"
