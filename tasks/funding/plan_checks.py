"""Checks on a 实施方案 list (名单) before it is recorded: each finding cites its document.

Hard findings refuse the whole version (nothing is written); soft ones (原则上, 避免简单分配) are
returned as warnings and stored with the version.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import Iterable, Optional

from sqlalchemy import select
from sqlalchemy.engine import Connection

from models.enterprise import Enterprise, InvalidUSCC, normalise_uscc
from models.errors import RuleViolation
from models.funding import FundingRecipient
from models.funding_plan import ImplementationPlan, ItemType, PlanStatus, PlatformCategory
from models.profile import Funding
from tasks.recognition.titles import active_recognitions

CITE_CAP3 = "财建〔2021〕2号 二(一)（每省份每批次自主确定不超过3个平台）"
CITE_90 = "财建〔2021〕2号 三(四)（奖补资金90%以上用于直接支持重点“小巨人”企业）"
CITE_EVEN = "财建〔2021〕2号 三(四)（避免简单分配）"
CITE_200 = "合规性审核意见预通知 二(一)3（原则上支持每家服务机构不超过200万元）"
CITE_ONE_CATEGORY = "四川省第二批通知 四(一)（两种类别不得同时申报）"
CITE_RECOGNISED = "财建〔2021〕2号 二(一)（从已认定的专精特新“小巨人”企业中择优选定）"
CITE_LISTED = "财建〔2021〕2号 二(一)（不含已在上交所主板、科创板和深交所主板、中小板、创业板及境外公开发行股票的）"
CITE_EARLIER = "四川省第二批通知 一(一)（不含已申报成功第一批重点“小巨人”的企业）"

LITTLE_GIANT_TIER = "little_giant"


class PlanRejected(RuleViolation):
    """A 实施方案 version that breaks a hard rule; ``findings`` lists every problem."""

    def __init__(self, title: str, findings: list[str]):
        self.findings = findings
        super().__init__(f"{title}未通过检查（{len(findings)} 项）：\n" + "\n".join(findings))


@dataclass(frozen=True)
class Item:
    """One validated line of a 名单."""

    row: int
    item_type: ItemType
    uscc: str
    name: str
    amount_wan: Decimal
    platform_category: Optional[PlatformCategory] = None
    enterprise_id: Optional[int] = None
    recognition_id: Optional[int] = None     # the 小巨人 recognition a key enterprise is chosen on


@dataclass
class CheckResult:
    items: list[Item] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _parse_row(row: int, raw: dict, result: CheckResult) -> Optional[Item]:
    where = f"第{row}行"
    try:
        item_type = ItemType(raw.get("item_type"))
    except ValueError:
        result.errors.append(f"{where} 字段 item_type：应为 key_enterprise 或 platform，实际为 {raw.get('item_type')!r}")
        return None
    try:
        uscc = normalise_uscc(str(raw.get("uscc") or ""))
    except InvalidUSCC as exc:
        result.errors.append(f"{where} 字段 uscc：{exc}")
        return None
    try:
        amount = Decimal(str(raw.get("amount_wan")))
    except (InvalidOperation, ValueError):
        result.errors.append(f"{where} 字段 amount_wan：应为以万元计的金额，实际为 {raw.get('amount_wan')!r}")
        return None
    if not amount.is_finite() or amount <= 0:
        result.errors.append(f"{where} 字段 amount_wan：应为大于0的金额（万元），实际为 {raw.get('amount_wan')!r}")
        return None
    category = None
    if item_type == ItemType.platform:
        try:
            category = PlatformCategory(raw.get("platform_category"))
        except ValueError:
            result.errors.append(f"{where} 字段 platform_category：平台应为 key_support（重点支持）或 overall_support（统筹支持），"
                                 f"实际为 {raw.get('platform_category')!r}")
            return None
    return Item(row, item_type, uscc, str(raw.get("name") or ""), amount, category)


def parse_items(rows: Iterable[dict]) -> CheckResult:
    result = CheckResult()
    for number, raw in enumerate(rows, start=1):
        item = _parse_row(number, raw, result)
        if item:
            result.items.append(item)
    return result


def check_categories(result: CheckResult) -> None:
    """A platform in both categories is refused; the same code twice otherwise is a duplicate."""
    seen: dict[str, Item] = {}
    for item in result.items:
        first = seen.setdefault(item.uscc, item)
        if first is item:
            continue
        if {first.platform_category, item.platform_category} == set(PlatformCategory):
            result.errors.append(f"第{item.row}行 平台 {item.name or item.uscc} 同时列入重点支持类与统筹支持类（另见第{first.row}行）："
                                 f"每个平台只能选择一类 —— {CITE_ONE_CATEGORY}")
        else:
            result.errors.append(f"第{item.row}行 统一社会信用代码 {item.uscc} 与第{first.row}行重复")


def check_platform_cap(result: CheckResult, funding: Funding) -> None:
    cap = funding.max_platforms_per_batch
    platforms = [i for i in result.items if i.platform_category == PlatformCategory.key_support]
    if cap is not None and len(platforms) > cap:
        rows = "、".join(str(i.row) for i in platforms)
        result.errors.append(f"重点支持类平台 {len(platforms)} 个（第{rows}行），超过每批次上限 {cap} 个 —— {CITE_CAP3}")


def key_enterprise_share_pct(items: Iterable[Item]) -> Optional[Decimal]:
    """Σ key enterprises / Σ (key enterprises + 重点支持类 platforms) × 100.

    统筹支持类 institutions are paid from the separate 公共服务体系奖补资金 (seed 000 L15), so they
    are outside the denominator (programme-core §3.12, design default).
    """
    items = list(items)
    direct = sum((i.amount_wan for i in items if i.item_type == ItemType.key_enterprise), Decimal(0))
    stream_a = direct + sum((i.amount_wan for i in items if i.platform_category == PlatformCategory.key_support), Decimal(0))
    if stream_a == 0:
        return None
    return direct * 100 / stream_a


def shown_pct(share: Decimal) -> Decimal:
    """A share for display: two decimals, rounded down so 89.999% never shows as 90%."""
    return share.quantize(Decimal("0.01"), rounding=ROUND_DOWN)


def check_direct_share(result: CheckResult, funding: Funding) -> None:
    floor = funding.min_direct_enterprise_share_pct
    share = key_enterprise_share_pct(result.items)
    if floor is not None and share is not None and share < floor:
        result.errors.append(f"直接支持重点“小巨人”企业的资金占比 {shown_pct(share)}%，低于 {floor}% —— {CITE_90}")


def check_institution_cap(result: CheckResult, funding: Funding) -> None:
    cap = funding.max_per_institution_wan
    if cap is None:
        return
    for item in result.items:
        if item.platform_category == PlatformCategory.overall_support and item.amount_wan > cap:
            text = f"第{item.row}行 服务机构 {item.name or item.uscc} 支持金额 {item.amount_wan} 万元，超过 {cap} 万元 —— {CITE_200}"
            (result.warnings if funding.max_per_institution_soft else result.errors).append(text)


def check_even_split(result: CheckResult) -> None:
    amounts = [i.amount_wan for i in result.items if i.item_type == ItemType.key_enterprise]
    if len(amounts) > 1 and len(set(amounts)) == 1:
        result.warnings.append(f"{len(amounts)} 家重点“小巨人”企业金额完全相同（{amounts[0]} 万元） —— {CITE_EVEN}")


def active_little_giants(connection: Connection, enterprise_ids: list[int], on: date) -> dict[int, int]:
    """Enterprise id → the id of its 小巨人 recognition in force on ``on`` (the most recent, if several)."""
    if not enterprise_ids:
        return {}
    rows = sorted(active_recognitions(connection, LITTLE_GIANT_TIER, enterprise_ids, on=on), key=lambda r: (r["valid_from"], r["id"]))
    return {row["enterprise_id"]: row["id"] for row in rows}


def check_enterprises(connection: Connection, result: CheckResult, plan: ImplementationPlan, on: date) -> None:
    """Key enterprises: on file, recognised 小巨人, not listed, not funded in an earlier batch.

    Each one that passes is resolved to its enterprise and its recognition, so the recipient created
    from it points at the recognition row rather than carrying a credit code to be joined back later.
    """
    wanted = [i for i in result.items if i.item_type == ItemType.key_enterprise]
    usccs = [i.uscc for i in wanted]
    on_file = {r.uscc: r for r in connection.execute(
        select(Enterprise.id, Enterprise.uscc, Enterprise.name, Enterprise.listed_board).where(Enterprise.uscc.in_(usccs)))}
    recognised = active_little_giants(connection, [r.id for r in on_file.values()], on)
    earlier = {r.uscc: r.batch for r in connection.execute(
        select(FundingRecipient.uscc, ImplementationPlan.batch)
        .join(ImplementationPlan, ImplementationPlan.id == FundingRecipient.plan_id)
        .where(FundingRecipient.uscc.in_(usccs), FundingRecipient.item_type == ItemType.key_enterprise,
               ImplementationPlan.batch < plan.batch, ImplementationPlan.status == PlanStatus.approved,
               ImplementationPlan.profile_id == plan.profile_id))}
    resolved: dict[str, Item] = {}
    for item in wanted:
        row = on_file.get(item.uscc)
        where = f"第{item.row}行 {item.name}（{item.uscc}）" if item.name else f"第{item.row}行 {item.uscc}"
        if row is None:
            result.errors.append(f"{where}：统一社会信用代码不在企业库中")
            continue
        if row.id not in recognised:
            result.errors.append(f"{where}：不是有效的国家级专精特新“小巨人”企业（{on:%Y-%m-%d} 无有效的小巨人认定） —— {CITE_RECOGNISED}")
        if row.listed_board:
            result.errors.append(f"{where}：已在{row.listed_board}上市 —— {CITE_LISTED}")
        if item.uscc in earlier:
            result.errors.append(f"{where}：已是第{earlier[item.uscc]}批重点“小巨人”企业 —— {CITE_EARLIER}")
        resolved[item.uscc] = Item(item.row, item.item_type, item.uscc, item.name or row.name, item.amount_wan, None, row.id,
                                   recognised.get(row.id))
    result.items = [resolved.get(i.uscc, i) if i.item_type == ItemType.key_enterprise else i for i in result.items]


def check_list(connection: Connection, plan: ImplementationPlan, rows: Iterable[dict], funding: Funding, on: date) -> CheckResult:
    """All checks on one 名单 as of day ``on``; the caller refuses the version when ``errors`` is not empty."""
    result = parse_items(rows)
    if not result.items and not result.errors:
        result.errors.append("名单为空：至少应列出一家重点“小巨人”企业")
    check_categories(result)
    check_platform_cap(result, funding)
    check_enterprises(connection, result, plan, on)
    check_direct_share(result, funding)
    check_institution_cap(result, funding)
    check_even_split(result)
    if result.items and not any(i.item_type == ItemType.key_enterprise for i in result.items):
        result.errors.append("名单中没有重点“小巨人”企业")
    return result
