"""Tranches (分年度奖补资金) and who may receive each one.

财建〔2021〕2号 三(四) (seed 001 L49): 财政部于批复当年、实施期满1年及满2年时，按照预算管理规定、分年度
绩效考核结果及工业和信息化部建议，滚动安排奖补资金. 三(三) (seed 001 L47): the annual review fixes a
grade and the 继续支持 list, and the result is linked to later funds. So a tranche after the first goes
to a recipient only when the previous year's review exists, its grade earns a non-zero factor (the
profile's ``grade_factors``) and — for a key enterprise — it is on the ministry's continuation list.
A recipient stopped once stays stopped (T29, 停止支持).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Iterable, Optional

from sqlalchemy import select
from sqlalchemy.engine import Connection

from models.clock import SHANGHAI, clock, local
from models.deadline import DeadlineState
from models.errors import NotFound, RuleViolation
from models.funding import FundingRecipient, FundTranche, RecipientStatus, TrancheStatus
from models.funding_plan import ImplementationPlan, ItemType, PlanStatus, PlatformCategory
from models.performance import ContinuationEntry, ContinuationList, PerformanceReview
from models.profile import Funding, Profile
from models.workflow_writer import SystemActor, apply, initial, record_created
from tasks.funding.rules import funding_of, grade_factor
from tasks.insert_once import insert_new
from tasks.reminders.deadlines import close_deadlines, register_deadlines

WAN = Decimal("0.0001")
END_OF_DAY = time(23, 59, 59)
CITE_LINK = "财建〔2021〕2号 三(三)（考核结果与后续奖补资金安排挂钩）"


def add_years(day: date, years: int) -> date:
    """满N年: the same month and day N years on (29 Feb → 28 Feb)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def schedule_tranches(connection: Connection, plan_id: int, profile: Profile, *, approved_on: date,
                      implementation_start: date) -> int:
    """One tranche row per profile tranche, with its due date in the deadline registry."""
    funding = funding_of(profile)
    plan = connection.execute(select(ImplementationPlan).where(ImplementationPlan.id == plan_id)).one()
    rows = []
    for t in funding.tranches:
        due = approved_on if t.years_after_approval == 0 else add_years(implementation_start, t.years_after_approval)
        rows.append({"plan_id": plan_id, "tranche_index": t.index, "label": t.label, "years_after_approval": t.years_after_approval,
                     "share_pct": t.share_pct, "requires_review": t.requires_review, "scheduled_on": due,
                     **initial("tranche", "schedule")})
    created = insert_new(connection, FundTranche.__table__, rows, ["plan_id", "tranche_index"])
    record_created(connection, "tranche", "schedule", created, actor=SystemActor(plan.province_code), at=clock.now())
    register_deadlines(connection, [
        {"key": tranche_deadline_key(plan_id, r["tranche_index"]), "kind": "tranche",
         "title": f"{plan.title} 第{r['tranche_index']}笔奖补资金（{r['label']}）应下达",
         "due_at": datetime.combine(r["scheduled_on"], END_OF_DAY, tzinfo=SHANGHAI),
         "jurisdiction_code": plan.province_code, "subject": f"plan:{plan_id}"} for r in rows])
    return len(created)


def get_tranche(connection: Connection, plan_id: int, index: int) -> FundTranche:
    row = connection.execute(select(FundTranche).where(FundTranche.plan_id == plan_id, FundTranche.tranche_index == index)).first()
    if row is None:
        raise NotFound(f"实施方案 {plan_id} 没有第{index}笔资金（方案尚未批复，或资金规则只有更少的笔数）")
    return FundTranche.model_validate(row._mapping)


def allocation_plan_due(received_at: datetime, funding: Funding) -> datetime:
    """接到中央直达资金指标发文后30日内 (seed 001 L49): natural days unless the profile says otherwise."""
    days = funding.allocation_plan_days
    if days is None:
        raise RuleViolation("资金规则未配置 allocation_plan_days（分配方案上报期限）")
    start = local(received_at).date()
    if funding.allocation_plan_unit == "working_days":
        from models.calendar import statutory_calendar

        due = statutory_calendar().add_workdays(start, days)
    else:
        due = start + timedelta(days=days)
    return datetime.combine(due, END_OF_DAY, tzinfo=SHANGHAI)


def tranche_deadline_key(plan_id: int, index: int) -> str:
    return f"tranche:{plan_id}:{index}"


def allocation_deadline_key(plan_id: int, index: int) -> str:
    return f"allocation_plan:{plan_id}:{index}"


def record_receipt(connection: Connection, plan: ImplementationPlan, tranche: FundTranche, funding: Funding, *,
                   received_at: Optional[datetime] = None, doc_no: Optional[str] = None) -> FundTranche:
    """Provincial finance received the 指标发文: the 30-day clock starts (first receipt wins)."""
    if tranche.received_at is None:
        received_at = received_at or clock.now()
        due = allocation_plan_due(received_at, funding)
        apply(connection, "tranche", "receive", [tranche.id], actor=SystemActor(plan.province_code), at=received_at,
              guard={"received_at": None}, values={"received_at": received_at, "allocation_plan_due_at": due, "indicator_doc_no": doc_no},
              skip_others=True)                   # received meanwhile by another run: the first receipt stands
        tranche = get_tranche(connection, plan.id, tranche.tranche_index)
    close_deadlines(connection, [tranche_deadline_key(plan.id, tranche.tranche_index)], DeadlineState.met, tranche.received_at)
    register_deadlines(connection, [{
        "key": allocation_deadline_key(plan.id, tranche.tranche_index), "kind": "allocation_plan",
        "title": f"{plan.title} 第{tranche.tranche_index}笔资金分配方案报财政部（抄送当地监管局）",
        "due_at": tranche.allocation_plan_due_at, "jurisdiction_code": plan.province_code,
        "subject": f"tranche:{tranche.id}"}])
    return tranche


@dataclass(frozen=True)
class Entitlement:
    recipient_id: int
    item_type: ItemType
    platform_category: Optional[PlatformCategory]
    name: str
    uscc: str
    approved_amount_wan: Decimal
    base_amount_wan: Decimal
    grade: Optional[str]
    factor: Decimal
    amount_wan: Decimal


@dataclass
class TrancheDecision:
    """Who is paid from a tranche, who waits for a review, and who is stopped (with why)."""

    payable: list[Entitlement] = field(default_factory=list)
    pending: list[tuple[int, str, str]] = field(default_factory=list)     # (recipient id, name, reason)
    stopped: list[tuple[int, str, str]] = field(default_factory=list)
    newly_stopped: list[tuple[int, str]] = field(default_factory=list)    # (recipient id, reason) to record


def _entitlement(r, share_pct: Decimal, grade: Optional[str], factor: Decimal) -> Entitlement:
    base = (Decimal(r.approved_amount_wan) * Decimal(share_pct) / 100).quantize(WAN, rounding=ROUND_HALF_UP)
    return Entitlement(r.id, r.item_type, r.platform_category, r.name, r.uscc, Decimal(r.approved_amount_wan), base, grade, factor,
                       (base * factor).quantize(WAN, rounding=ROUND_HALF_UP))


def continuation_ids(connection: Connection, plan_id: int, year_index: int) -> set[int]:
    """Recipients on the continuation list after ``year_index``; refuses when none is recorded yet."""
    list_id = connection.execute(select(ContinuationList.id).where(
        ContinuationList.plan_id == plan_id, ContinuationList.year_index == year_index)).scalar()
    if list_id is None:
        raise RuleViolation(f"尚未录入实施期第{year_index}年度继续支持的重点“小巨人”企业名单，不能拨付后续资金 —— {CITE_LINK}")
    return set(connection.execute(select(ContinuationEntry.recipient_id).where(ContinuationEntry.list_id == list_id)).scalars())


def decide_tranche(connection: Connection, plan: ImplementationPlan, tranche: FundTranche, funding: Funding) -> TrancheDecision:
    """The whole recipient set of a plan, sorted into payable / pending review / stopped."""
    recipients = connection.execute(select(FundingRecipient).where(FundingRecipient.plan_id == plan.id)
                                    .order_by(FundingRecipient.id)).all()
    decision = TrancheDecision()
    if not tranche.requires_review:
        for r in recipients:
            if r.status == RecipientStatus.active:
                decision.payable.append(_entitlement(r, tranche.share_pct, None, Decimal(1)))
            else:
                decision.stopped.append((r.id, r.name, r.discontinued_reason or "已停止支持"))
        return decision
    year = tranche.years_after_approval
    grades = dict(connection.execute(select(PerformanceReview.recipient_id, PerformanceReview.grade).where(
        PerformanceReview.plan_id == plan.id, PerformanceReview.year_index == year)).all())
    listed = continuation_ids(connection, plan.id, year)
    for r in recipients:
        grade = grades.get(r.id)
        if r.status != RecipientStatus.active:
            decision.stopped.append((r.id, r.name, r.discontinued_reason or "已停止支持"))
        elif grade is None:
            decision.pending.append((r.id, r.name, f"尚无实施期第{year}年度绩效考核结果"))
        elif grade_factor(funding, grade) == 0:
            reason = f"实施期第{year}年度绩效考核为“{grade}”，停止后续资金 —— {CITE_LINK}"
            decision.stopped.append((r.id, r.name, reason))
            decision.newly_stopped.append((r.id, reason))
        elif r.item_type == ItemType.key_enterprise and r.id not in listed:
            reason = f"未列入实施期第{year}年度继续支持名单，停止后续资金 —— {CITE_LINK}"
            decision.stopped.append((r.id, r.name, reason))
            decision.newly_stopped.append((r.id, reason))
        else:
            decision.payable.append(_entitlement(r, tranche.share_pct, grade, grade_factor(funding, grade)))
    return decision


def discontinue(connection: Connection, stops: Iterable[tuple[int, str]], year_index: int,
                jurisdiction_code: Optional[str] = None) -> int:
    """Mark recipients 停止支持 (one statement for the set); already stopped ones stay as they are."""
    reasons = dict(stops)
    if not reasons:
        return 0
    return apply(connection, "recipient", "discontinue", reasons, actor=SystemActor(jurisdiction_code), at=clock.now(),
                 row_values={rid: {"discontinued_year": year_index, "discontinued_reason": why} for rid, why in reasons.items()},
                 reasons=reasons, skip_others=True).count


def record_continuation_list(connection: Connection, plan_id: int, year_index: int, usccs: Iterable[str], *,
                             published_at: datetime, doc_ref: Optional[str] = None) -> int:
    """The ministry's 继续支持名单 after year ``year_index``; every code must be a recipient of the plan."""
    wanted = list(dict.fromkeys(usccs))
    by_uscc = {r.uscc: r for r in connection.execute(select(
        FundingRecipient.id, FundingRecipient.uscc, FundingRecipient.item_type, FundingRecipient.status)
        .where(FundingRecipient.plan_id == plan_id))}
    unknown = [u for u in wanted if u not in by_uscc]
    if unknown:
        raise RuleViolation(f"继续支持名单中有 {len(unknown)} 个代码不是本方案的批复对象：{'、'.join(unknown[:10])}")
    stopped = [u for u in wanted if by_uscc[u].status != RecipientStatus.active]
    if stopped:
        raise RuleViolation(f"继续支持名单中的 {'、'.join(stopped[:10])} 已停止支持，不能恢复")
    if connection.execute(select(ContinuationList.id).where(ContinuationList.plan_id == plan_id,
                                                           ContinuationList.year_index == year_index)).scalar():
        raise RuleViolation(f"实施期第{year_index}年度继续支持名单已录入，不能重复录入")
    list_id = connection.execute(ContinuationList.__table__.insert().values(
        plan_id=plan_id, year_index=year_index, doc_ref=doc_ref, published_at=published_at)).inserted_primary_key[0]
    if wanted:
        connection.execute(ContinuationEntry.__table__.insert(),
                           [{"list_id": list_id, "recipient_id": by_uscc[u].id} for u in wanted])
    return len(wanted)


def due_tranches(connection: Connection, today: date) -> list:
    """Tranches of approved plans whose 计划下达日 has come and that are not paid out yet, oldest first.

    The scheduled disbursement run takes each of them; one still waiting for reviews stays due.
    """
    return connection.execute(
        select(FundTranche.id, FundTranche.tranche_index, FundTranche.label, FundTranche.scheduled_on,
               ImplementationPlan.province_code, ImplementationPlan.batch, ImplementationPlan.title)
        .join(ImplementationPlan, ImplementationPlan.id == FundTranche.plan_id)
        .where(ImplementationPlan.status == PlanStatus.approved, FundTranche.scheduled_on <= today,
               FundTranche.status.in_([TrancheStatus.scheduled, TrancheStatus.received]))
        .order_by(FundTranche.scheduled_on, ImplementationPlan.province_code, FundTranche.tranche_index)
    ).all()
