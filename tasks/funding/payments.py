"""After the run: reporting the 分配方案, deductions and clawbacks, and where the money stands.

Seed 001 L49: the allocation plan goes to MOF within 30 days of receipt (closing the registry deadline).
Seed 001 L61: platform money used to balance a budget or for the platform itself is 酌情扣减; fraud by
an enterprise is handled under 《财政违法行为处罚处分条例》 — both are recorded against the payment,
which itself never changes.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Optional

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from models.clock import clock
from models.deadline import Deadline, DeadlineState
from models.errors import NotFound, RuleViolation
from models.funding import (
    AdjustmentKind,
    AdjustmentReason,
    FundingRecipient,
    FundTranche,
    Payment,
    PaymentAdjustment,
    RecipientStatus,
    TrancheStatus,
)
from models.funding_plan import ImplementationPlan
from models.workflow_writer import SystemActor, apply
from tasks.funding.plan import find_plan
from tasks.funding.tranches import allocation_deadline_key, get_tranche
from tasks.reminders.deadlines import close_deadlines


def report_allocation_plan(connection: Connection, province_code: str, tranche_index: int, *, batch: Optional[int] = None,
                           reported_at: Optional[datetime] = None) -> bool:
    """分配方案已上报财政部（抄送当地监管局）: closes the 30-day deadline. False if already reported."""
    plan = find_plan(connection, province_code, batch)
    tranche = get_tranche(connection, plan.id, tranche_index)
    if tranche.status == TrancheStatus.reported:
        return False
    if tranche.status != TrancheStatus.disbursed:
        raise RuleViolation(f"第{tranche_index}笔资金当前为“{tranche.status.label}”，分配方案完成（全部对象已分配）后才能登记上报")
    reported_at = reported_at or clock.now()
    apply(connection, "tranche", "report", [tranche.id], actor=SystemActor(plan.province_code), at=reported_at,
          values={"allocation_reported_at": reported_at}, skip_others=True)     # reported meanwhile: that report stands
    state = DeadlineState.met if reported_at <= tranche.allocation_plan_due_at else DeadlineState.missed
    close_deadlines(connection, [allocation_deadline_key(plan.id, tranche_index)], state, reported_at)
    return True


def find_payment(connection: Connection, province_code: str, tranche_index: int, uscc: str, batch: Optional[int] = None) -> int:
    plan = find_plan(connection, province_code, batch)
    payment_id = connection.execute(select(Payment.id).join(FundTranche, FundTranche.id == Payment.tranche_id)
                                    .join(FundingRecipient, FundingRecipient.id == Payment.recipient_id)
                                    .where(FundTranche.plan_id == plan.id, FundTranche.tranche_index == tranche_index,
                                           FundingRecipient.uscc == uscc)).scalar()
    if payment_id is None:
        raise NotFound(f"{uscc} 没有第{tranche_index}笔资金的拨付记录")
    return payment_id


def record_adjustment(connection: Connection, payment_id: int, kind: AdjustmentKind, amount_wan: Decimal,
                      reason: AdjustmentReason, *, decided_by: str, legal_basis: Optional[str] = None,
                      decided_at: Optional[datetime] = None) -> int:
    """扣减 or 追回 against one payment; the total taken back can never exceed what was paid."""
    try:
        amount = Decimal(str(amount_wan))
    except Exception:
        raise RuleViolation(f"金额应为万元数，实际为 {amount_wan!r}") from None
    if not amount.is_finite() or amount <= 0:
        raise RuleViolation(f"扣减或追回金额应大于0（万元），实际为 {amount_wan!r}")
    paid = connection.execute(select(Payment.amount_wan).where(Payment.id == payment_id)).scalar()
    if paid is None:
        raise NotFound(f"拨付记录 {payment_id} 不存在")
    taken = connection.execute(select(func.coalesce(func.sum(PaymentAdjustment.amount_wan), 0))
                               .where(PaymentAdjustment.payment_id == payment_id)).scalar()
    remaining = Decimal(str(paid)) - Decimal(str(taken))
    if amount > remaining:
        raise RuleViolation(f"{AdjustmentKind(kind).label} {amount} 万元超过该笔拨付尚余的 {remaining} 万元（已拨 {paid}，已扣回 {taken}）")
    return connection.execute(PaymentAdjustment.__table__.insert().values(
        payment_id=payment_id, kind=kind, amount_wan=amount, reason=reason, legal_basis=legal_basis,
        decided_by=decided_by, decided_at=decided_at or clock.now())).inserted_primary_key[0]


def funds_status(connection: Connection, province_code: Optional[str] = None) -> list[dict]:
    """Per plan: recipients, and per tranche payments, amounts, adjustments and the 30-day deadline."""
    query = select(ImplementationPlan).order_by(ImplementationPlan.province_code, ImplementationPlan.batch)
    if province_code:
        query = query.where(ImplementationPlan.province_code == province_code)
    plans = connection.execute(query).all()
    plan_ids = [p.id for p in plans]
    recipients = defaultdict(lambda: defaultdict(int))
    for plan_id, status, count in connection.execute(select(FundingRecipient.plan_id, FundingRecipient.status, func.count())
                                                     .where(FundingRecipient.plan_id.in_(plan_ids))
                                                     .group_by(FundingRecipient.plan_id, FundingRecipient.status)):
        recipients[plan_id][RecipientStatus(status).value] = count
    paid = {r.tranche_id: r for r in connection.execute(
        select(Payment.tranche_id, func.count().label("n"), func.sum(Payment.amount_wan).label("amount"))
        .group_by(Payment.tranche_id))}
    taken = dict(connection.execute(select(Payment.tranche_id, func.sum(PaymentAdjustment.amount_wan))
                                    .join(Payment, Payment.id == PaymentAdjustment.payment_id).group_by(Payment.tranche_id)).all())
    deadlines = {d.key: d for d in connection.execute(select(Deadline.key, Deadline.state, Deadline.due_at)
                                                      .where(Deadline.kind == "allocation_plan"))}
    tranches = defaultdict(list)
    for t in connection.execute(select(FundTranche).where(FundTranche.plan_id.in_(plan_ids)).order_by(FundTranche.tranche_index)):
        amount = Decimal(str(paid[t.id].amount)) if t.id in paid else Decimal(0)
        adjusted = Decimal(str(taken.get(t.id) or 0))
        deadline = deadlines.get(allocation_deadline_key(t.plan_id, t.tranche_index))
        tranches[t.plan_id].append({
            "tranche": t.tranche_index, "label": t.label, "scheduled_on": t.scheduled_on, "status": t.status,
            "payments": paid[t.id].n if t.id in paid else 0, "amount_wan": amount, "adjustments_wan": adjusted,
            "net_wan": amount - adjusted, "allocation_plan_due_at": t.allocation_plan_due_at,
            "allocation_plan_deadline": deadline.state if deadline else None})
    return [{"plan_id": p.id, "province": p.province_code, "batch": p.batch, "title": p.title, "status": p.status,
             "approved_at": p.approved_at, "recipients": dict(recipients[p.id]), "tranches": tranches[p.id]} for p in plans]
