"""The provincial and platform 绩效目标表 checks, and rectification (整改) items.

Seed 000 L55 (合规性审核意见预通知 二(二)3): 政策服务、创新和技术服务、管理咨询服务、培训服务应100%覆盖国家级
专精特新"小巨人"企业 (a requirement); R&D ratio, cloud adoption and digital design-tool penetration
原则上分别达到8%、65%和80% (soft: reported, not refused). Seed 001 L37: key 小巨人 must get 点对点
service — a 重点支持 platform's point-to-point count must cover every active key enterprise.
Seed 001 L47: problems found in the annual review are rectified (整改) — each item has a deadline in
the registry.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Iterable, Literal, Optional

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from models.clock import clock
from models.deadline import DeadlineState
from models.errors import NotFound, RuleViolation
from models.funding import FundingRecipient, RecipientStatus
from models.funding_plan import ItemType, PlatformCategory
from models.performance import PerformanceActual, ProvincialTargetValue, Rectification, RectificationStatus
from models.workflow_writer import SystemActor, apply, initial, record_created
from tasks.funding.performance import year_window
from tasks.funding.plan import get_plan
from tasks.funding.rules import PerformanceRules, performance_rules
from tasks.insert_once import insert_new
from tasks.reminders.deadlines import close_deadlines, register_deadlines

PCT = Decimal("0.01")
CITE_COVERAGE = "合规性审核意见预通知 二(二)3（应100%覆盖国家级专精特新“小巨人”企业）"
CITE_SOFT = "合规性审核意见预通知 二(二)3（原则上分别达到8%、65%和80%）"
CITE_P2P = "财建〔2021〕2号 二(二)（对于重点“小巨人”企业，应提供“点对点”服务）"
NATIONAL = "national_giant"


@dataclass(frozen=True)
class Finding:
    check: str
    label: str
    value: Optional[Decimal]
    threshold: Decimal
    ok: bool
    soft: bool
    cite: str

    def as_dict(self) -> dict:
        return asdict(self)


def _table_value(number: int, name: str, raw) -> Optional[Decimal]:
    if raw is None:
        return None
    try:
        value = Decimal(str(raw))
    except (InvalidOperation, ValueError):
        value = None
    if value is None or not value.is_finite():
        raise RuleViolation(f"第{number}行 字段 {name}：应为数值，实际为 {raw!r}")
    return value


def record_provincial_table(connection: Connection, province_code: str, year: int, rows: Iterable[dict]) -> int:
    """绩效目标表 rows {indicator, segment, initial_value, target_y1, actual_y1}; new rows only.
    A row without an indicator or with a value that is not a number refuses the table."""
    values = []
    for number, r in enumerate(rows, start=1):
        if not str(r.get("indicator") or "").strip():
            raise RuleViolation(f"第{number}行 字段 indicator：指标不能为空")
        values.append({"province_code": province_code, "year": year, "indicator": r["indicator"], "segment": r.get("segment") or "all",
                       **{k: _table_value(number, k, r.get(k)) for k in ("initial_value", "target_y1", "actual_y1")}})
    return len(insert_new(connection, ProvincialTargetValue.__table__, values, ["province_code", "year", "indicator", "segment"]))


def check_provincial_table(connection: Connection, province_code: str, year: int,
                           column: Literal["target_y1", "actual_y1"] = "target_y1",
                           rules: Optional[PerformanceRules] = None) -> list[Finding]:
    """Check the targets (when the table is submitted) or the actuals (at the annual review)."""
    rules = rules or performance_rules()
    checks = rules.provincial_checks
    table = {(r.indicator, r.segment): getattr(r, column) for r in connection.execute(
        select(ProvincialTargetValue).where(ProvincialTargetValue.province_code == province_code,
                                            ProvincialTargetValue.year == year))}
    if not table:
        raise NotFound(f"{province_code} {year} 年的绩效目标表尚未录入")

    def value(indicator: str, segment: str = NATIONAL) -> Optional[Decimal]:
        found = table.get((indicator, segment), table.get((indicator, "all")))
        return None if found is None else Decimal(found)

    def share(part: Optional[Decimal], whole: Optional[Decimal]) -> Optional[Decimal]:
        return None if part is None or not whole else (part * 100 / whole).quantize(PCT, rounding=ROUND_HALF_UP)

    giants = value("national_giant_count")
    findings = []
    for indicator, label in checks.coverage_services.items():
        covered = share(value(indicator), giants)
        findings.append(Finding(f"coverage:{indicator}", f"{label}覆盖国家级“小巨人”比例（%）", covered, checks.coverage_pct,
                                covered is not None and covered >= checks.coverage_pct, False, CITE_COVERAGE))
    derived = {"cloud_ratio_pct": share(value("cloud_enterprise_count"), giants)}
    for indicator, target in checks.soft_targets.items():
        current = derived[indicator] if indicator in derived else value(indicator)
        findings.append(Finding(f"soft:{indicator}", f"{target.label}（%）", current, target.min,
                                current is not None and current >= target.min, True, CITE_SOFT))
    return findings


def check_platform_p2p(connection: Connection, plan_id: int, year_index: int) -> list[Finding]:
    """Each 重点支持 platform's 点对点 count in the year must reach the plan's active key enterprises."""
    plan = get_plan(connection, plan_id)
    start, end = year_window(plan.approved_at, year_index)
    keys = connection.execute(select(func.count()).select_from(FundingRecipient).where(
        FundingRecipient.plan_id == plan_id, FundingRecipient.item_type == ItemType.key_enterprise,
        FundingRecipient.status == RecipientStatus.active)).scalar()
    platforms = connection.execute(select(FundingRecipient.id, FundingRecipient.name).where(
        FundingRecipient.plan_id == plan_id, FundingRecipient.platform_category == PlatformCategory.key_support)).all()
    served = dict(connection.execute(select(PerformanceActual.recipient_id, func.sum(PerformanceActual.value)).where(
        PerformanceActual.recipient_id.in_([p.id for p in platforms]), PerformanceActual.indicator == "p2p_served_giant_count",
        PerformanceActual.period_end >= start, PerformanceActual.period_end <= end).group_by(PerformanceActual.recipient_id)).all())
    counts = {rid: Decimal(str(n)) for rid, n in served.items() if n is not None}
    return [Finding(f"p2p:{p.id}", f"{p.name} 点对点服务重点“小巨人”企业户数", counts.get(p.id), Decimal(keys),
                    p.id in counts and counts[p.id] >= keys, False, CITE_P2P)
            for p in platforms]


def rectification_key(plan_id: int, year_index: int, recipient_id: Optional[int], seq: int) -> str:
    return f"rectification:{plan_id}:{year_index}:{recipient_id or 'plan'}:{seq}"


def open_rectifications(connection: Connection, plan_id: int, year_index: int, items: Iterable[dict], *,
                        due_at: datetime) -> int:
    """整改 items {issue, required_action, uscc?}; each gets a registry deadline. Re-opening the
    same numbered item of the same year creates nothing new."""
    plan = get_plan(connection, plan_id)
    by_uscc = dict(connection.execute(select(FundingRecipient.uscc, FundingRecipient.id).where(FundingRecipient.plan_id == plan_id)).all())
    rows, now = [], clock.now()
    for number, item in enumerate(items, start=1):
        if not str(item.get("issue") or "").strip() or not str(item.get("required_action") or "").strip():
            raise RuleViolation(f"第{number}项 整改须写明发现的问题（issue）和整改要求（required_action）")
        recipient_id = None
        if item.get("uscc"):
            recipient_id = by_uscc.get(item["uscc"])
            if recipient_id is None:
                raise RuleViolation(f"第{number}项 字段 uscc：{item['uscc']!r} 不是本方案的批复对象")
        rows.append({"plan_id": plan_id, "recipient_id": recipient_id, "year_index": year_index, "issue": item["issue"],
                     "required_action": item["required_action"], "due_at": due_at, **initial("rectification", "open"),
                     "deadline_key": rectification_key(plan_id, year_index, recipient_id, number), "created_at": now})
    created = insert_new(connection, Rectification.__table__, rows, ["deadline_key"])
    record_created(connection, "rectification", "open", created, actor=SystemActor(plan.province_code), at=now)
    register_deadlines(connection, [{"key": r["deadline_key"], "kind": "rectification", "due_at": due_at,
                                     "title": f"{plan.title} 第{year_index}年度考核整改：{r['issue'][:60]}",
                                     "jurisdiction_code": plan.province_code, "subject": f"plan:{plan_id}"} for r in rows])
    return len(created)


def close_rectification(connection: Connection, rectification_id: int, *, at: Optional[datetime] = None) -> None:
    """整改到位: the item and its deadline are closed together."""
    row = connection.execute(select(Rectification.deadline_key, Rectification.status).where(Rectification.id == rectification_id)).first()
    if row is None:
        raise NotFound(f"整改事项 {rectification_id} 不存在")
    if row.status == RectificationStatus.done:
        return
    at = at or clock.now()
    apply(connection, "rectification", "close", [rectification_id], actor=SystemActor(), at=at, values={"closed_at": at},
          skip_others=True)                     # closed meanwhile by another clerk: that closing stands
    close_deadlines(connection, [row.deadline_key], DeadlineState.met, at)
