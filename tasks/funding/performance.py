"""Annual performance review (绩效考核) of a plan's recipients: automatic comparison of the 目标表.

For implementation year N (aligned to calendar year 批复年 + N − 1, as the Beijing 目标表 columns
满一年 = 2021, 满两年 = 2022 do; provinces-A §8.6) each indicator's actual is the year-end stock for a
★ (cumulative) indicator and the sum of the year's reports for a flow indicator (seed 000 附件3 L100–137).
Each indicator earns an attainment in [0, 1] (1 when the target is reached; otherwise progress from the
initial value toward the target, direction-aware); the weighted mean × 100 is the score, and the grade
follows ``programmes/performance/*.yaml``. Reviews are written once per recipient and year.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Iterable, Optional

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from models.clock import clock, local
from models.errors import NotFound, RuleViolation
from models.funding import FundingRecipient, FundTranche, Payment, RecipientStatus
from models.funding_plan import PlanStatus
from models.performance import Direction, GradeSource, PerformanceActual, PerformanceReview, PerformanceTarget
from tasks.funding.plan import get_plan, profile_for
from tasks.funding.rules import IndicatorRule, PerformanceRules, check_consistent, funding_of, performance_rules
from tasks.insert_once import insert_new

SCORE = Decimal("0.01")
RATIO = Decimal("0.0001")


def plain(value: Decimal) -> str:
    """5.0000 → "5", 5.5000 → "5.5", 50 → "50" (no exponent)."""
    return format(Decimal(value).normalize(), "f")


def year_window(approved_at: datetime, year_index: int) -> tuple[date, date]:
    year = local(approved_at).year + year_index - 1
    return date(year, 1, 1), date(year, 12, 31)


def attainment(direction: Direction, initial: Decimal, target: Decimal, actual: Optional[Decimal]) -> Decimal:
    """1 when the target is reached; otherwise the share of the way from initial to target (≥ 0)."""
    if actual is None:
        return Decimal(0)
    reached = actual >= target if direction == Direction.higher_better else actual <= target
    if reached:
        return Decimal(1)
    gap = target - initial if direction == Direction.higher_better else initial - target
    if gap <= 0:
        return Decimal(0)
    progress = (actual - initial) if direction == Direction.higher_better else (initial - actual)
    return max(Decimal(0), min(Decimal(1), progress / gap)).quantize(RATIO, rounding=ROUND_HALF_UP)


def year_actual(rule: IndicatorRule, reports: list[tuple[date, Decimal]]) -> Optional[Decimal]:
    """★: the last report of the year (year-end stock); otherwise the year's total (flow)."""
    if not reports:
        return None
    if rule.cumulative:
        return max(reports)[1]
    return sum((value for _, value in reports), Decimal(0))


def score_targets(targets: list, reports: dict[str, list[tuple[date, Decimal]]], rules: PerformanceRules,
                  year_index: int) -> tuple[Decimal, int, list[dict]]:
    """Score one recipient's 目标表 for a year: (score, indicators met, per-indicator detail)."""
    weighted = total_weight = Decimal(0)
    met, detail = 0, []
    for t in targets:
        rule = rules.indicators[t.indicator]
        target = Decimal(t.target_y1 if year_index == 1 else t.target_y2)
        actual = year_actual(rule, reports.get(t.indicator, []))
        share = attainment(rule.direction, Decimal(t.initial_value), target, actual)
        weighted += share * rule.weight
        total_weight += rule.weight
        met += share == 1
        detail.append({"indicator": t.indicator, "label": rule.label, "unit": rule.unit, "cumulative": rule.cumulative,
                       "target": plain(target), "actual": None if actual is None else plain(actual),
                       "attainment": str(share), "met": share == 1})
    score = (weighted * 100 / total_weight).quantize(SCORE, rounding=ROUND_HALF_UP) if total_weight else Decimal(0)
    return score, met, detail


@dataclass(frozen=True)
class ReviewSummary:
    plan_id: int
    year_index: int
    created: int
    grades: dict[str, int]
    without_targets: list[str]


def review_year(connection: Connection, plan_id: int, year_index: int, *, reviewed_at: Optional[datetime] = None,
                rules: Optional[PerformanceRules] = None) -> ReviewSummary:
    """Score and grade every active recipient of a plan for implementation year ``year_index``."""
    rules = rules or performance_rules()
    plan = get_plan(connection, plan_id)
    if plan.status != PlanStatus.approved:
        raise RuleViolation(f"实施方案当前为“{plan.status.label}”，批复后才能开展绩效考核")
    check_consistent(funding_of(profile_for(plan, None)), rules)
    reviewed_at = reviewed_at or clock.now()
    start, end = year_window(plan.approved_at, year_index)
    if local(reviewed_at).date() <= end:
        raise RuleViolation(f"实施期第{year_index}年度（{start:%Y}年）尚未结束（{end} 截止），不能考核")
    recipients = {r.id: r for r in connection.execute(select(FundingRecipient.id, FundingRecipient.name).where(
        FundingRecipient.plan_id == plan_id, FundingRecipient.status == RecipientStatus.active))}
    targets: dict[int, list] = defaultdict(list)
    for t in connection.execute(select(PerformanceTarget).where(PerformanceTarget.recipient_id.in_(list(recipients))
                                                               ).order_by(PerformanceTarget.indicator)):
        targets[t.recipient_id].append(t)
    reports: dict[int, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for a in connection.execute(select(PerformanceActual.recipient_id, PerformanceActual.indicator,
                                       PerformanceActual.period_end, PerformanceActual.value).where(
            PerformanceActual.recipient_id.in_(list(recipients)),
            PerformanceActual.period_end >= start, PerformanceActual.period_end <= end)):
        reports[a.recipient_id][a.indicator].append((a.period_end, Decimal(a.value)))
    rows, grades = [], defaultdict(int)
    for rid in recipients:
        if not targets[rid]:
            continue
        score, met, detail = score_targets(targets[rid], reports[rid], rules, year_index)
        grade = rules.grade_for(score)
        grades[grade] += 1
        rows.append({"plan_id": plan_id, "recipient_id": rid, "year_index": year_index, "score": score, "grade": grade,
                     "indicators_met": met, "indicators_total": len(detail), "detail": detail,
                     "grade_source": GradeSource.computed, "decided_by": "system", "reviewed_at": reviewed_at})
    created = insert_new(connection, PerformanceReview.__table__, rows, ["recipient_id", "year_index"])
    missing = [recipients[rid].name for rid in recipients if not targets[rid]]
    return ReviewSummary(plan_id, year_index, len(created), dict(grades), missing)


def set_ministry_grade(connection: Connection, plan_id: int, uscc: str, year_index: int, grade: str, *,
                       decided_by: str, reason: str, rules: Optional[PerformanceRules] = None) -> None:
    """工业和信息化部商财政部明确绩效考核等次: the ministry's grade replaces the computed one,
    until the tranche that depends on it has been paid."""
    rules = rules or performance_rules()
    if grade not in rules.grade_names:
        raise RuleViolation(f"等次应为 {'、'.join(rules.grade_names)} 之一，实际为 {grade!r}")
    if not reason.strip():
        raise RuleViolation("改定等次须写明理由")
    review = connection.execute(select(PerformanceReview.id, PerformanceReview.recipient_id)
                                .join(FundingRecipient, FundingRecipient.id == PerformanceReview.recipient_id)
                                .where(PerformanceReview.plan_id == plan_id, FundingRecipient.uscc == uscc,
                                       PerformanceReview.year_index == year_index)).first()
    if review is None:
        raise NotFound(f"{uscc} 没有实施期第{year_index}年度的考核记录")
    paid = connection.execute(select(Payment.id).join(FundTranche, FundTranche.id == Payment.tranche_id).where(
        Payment.recipient_id == review.recipient_id, FundTranche.years_after_approval == year_index,
        FundTranche.requires_review.is_(True))).first()
    if paid:
        raise RuleViolation(f"依据第{year_index}年度考核结果的资金已拨付，不能再改定等次；如需追回请登记扣减或追回")
    connection.execute(update(PerformanceReview).where(PerformanceReview.id == review.id).values(
        grade=grade, grade_source=GradeSource.ministry, decided_by=decided_by, reason=reason))


def _recipients_by_uscc(connection: Connection, plan_id: int) -> dict:
    return {r.uscc: r for r in connection.execute(select(FundingRecipient.id, FundingRecipient.uscc,
                                                         FundingRecipient.item_type).where(FundingRecipient.plan_id == plan_id))}


def _number(row: int, name: str, value) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        number = None
    if number is None or not number.is_finite():
        raise RuleViolation(f"第{row}行 字段 {name}：应为数值，实际为 {value!r}")
    return number


def _resolve(row: int, raw: dict, known: dict, rules: PerformanceRules):
    recipient = known.get(raw.get("uscc"))
    if recipient is None:
        raise RuleViolation(f"第{row}行 字段 uscc：{raw.get('uscc')!r} 不是本方案的批复对象")
    rule = rules.indicators.get(raw.get("indicator"))
    if rule is None:
        raise RuleViolation(f"第{row}行 字段 indicator：未知指标 {raw.get('indicator')!r}（见 programmes/performance/{rules.id}.yaml）")
    if rule.applies_to != recipient.item_type:
        kind = "平台" if recipient.item_type == "platform" else "企业"
        raise RuleViolation(f"第{row}行 指标 {raw['indicator']}（{rule.label}）不适用于{kind}")
    return recipient


def record_targets(connection: Connection, plan_id: int, rows: Iterable[dict], rules: Optional[PerformanceRules] = None) -> int:
    """目标表 rows {uscc, indicator, initial_value, target_y1, target_y2}; all checked before any is written."""
    rules = rules or performance_rules()
    known = _recipients_by_uscc(connection, plan_id)
    values = []
    for number, raw in enumerate(rows, start=1):
        recipient = _resolve(number, raw, known, rules)
        values.append({"recipient_id": recipient.id, "indicator": raw["indicator"],
                       **{k: _number(number, k, raw.get(k)) for k in ("initial_value", "target_y1", "target_y2")}})
    return len(insert_new(connection, PerformanceTarget.__table__, values, ["recipient_id", "indicator"]))


def record_actuals(connection: Connection, plan_id: int, rows: Iterable[dict], rules: Optional[PerformanceRules] = None) -> int:
    """Reported figures {uscc, indicator, period_end, value}; a period already reported is kept as it was."""
    rules = rules or performance_rules()
    known = _recipients_by_uscc(connection, plan_id)
    values, now = [], clock.now()
    for number, raw in enumerate(rows, start=1):
        recipient = _resolve(number, raw, known, rules)
        period_end = raw.get("period_end")
        if not isinstance(period_end, date):
            try:
                period_end = date.fromisoformat(str(period_end))
            except ValueError:
                raise RuleViolation(f"第{number}行 字段 period_end：应为 YYYY-MM-DD，实际为 {raw.get('period_end')!r}") from None
        values.append({"recipient_id": recipient.id, "indicator": raw["indicator"], "period_end": period_end,
                       "value": _number(number, "value", raw.get("value")), "reported_at": now})
    return len(insert_new(connection, PerformanceActual.__table__, values, ["recipient_id", "indicator", "period_end"]))
