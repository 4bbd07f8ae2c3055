"""What the 资金 pages read beyond the overview (srdi/web/funds.py): the 实施方案's versions and
合规性审核意见, each tranche's gate (绩效考核 done? 继续支持名单 recorded?), the 目标表 and review results
per recipient, and the payments of one tranche. Read-only; recipients are scoped as on the overview.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from models.funding import FundingRecipient, FundTranche, Payment, PaymentAdjustment, RecipientStatus
from models.funding_plan import ComplianceOpinion, PlanItem, PlanVersion
from models.performance import ContinuationList, PerformanceReview, PerformanceTarget
from srdi.web.funds import recipients_in_scope
from tasks.funding.rules import performance_rules
from tasks.people.actors import Actor


def versions(session: Session, plan_id: int) -> list[dict[str, Any]]:
    """报送版 / 备案版 in order, with their 名单 size and total, and the opinions given on each."""
    rows = [dict(r) for r in session.execute(
        select(PlanVersion.id, PlanVersion.version_no, PlanVersion.kind, PlanVersion.submitted_at, PlanVersion.document_ref,
               PlanVersion.actor, PlanVersion.warnings, func.count(PlanItem.id).label("item_count"),
               func.coalesce(func.sum(PlanItem.amount_wan), 0).label("amount_wan"))
        .outerjoin(PlanItem, PlanItem.version_id == PlanVersion.id)
        .where(PlanVersion.plan_id == plan_id).group_by(PlanVersion.id).order_by(PlanVersion.version_no)).mappings()]
    opinions: dict[int, list[dict]] = defaultdict(list)
    for o in session.execute(select(ComplianceOpinion.version_id, ComplianceOpinion.stage, ComplianceOpinion.issued_at,
                                    ComplianceOpinion.issued_by, ComplianceOpinion.doc_ref)
                             .where(ComplianceOpinion.plan_id == plan_id).order_by(ComplianceOpinion.issued_at)).mappings():
        opinions[o["version_id"]].append(dict(o))
    for v in rows:
        v["amount_wan"] = Decimal(str(v["amount_wan"]))
        v["opinions"] = opinions[v["id"]]
    return rows


def tranche_gates(session: Session, scope: Actor, plan_id: int) -> dict[int, dict[str, Any]]:
    """Per tranche id: the planned amount (批复额度 × 比例, in scope) and whether its review gate is open.

    A tranche after the first waits for the previous year's 绩效考核 of every active recipient and the
    ministry's 继续支持名单 (财建〔2021〕2号 三(三)); the run itself decides who is paid."""
    tranches = session.execute(select(FundTranche.id, FundTranche.share_pct, FundTranche.requires_review,
                                      FundTranche.years_after_approval).where(FundTranche.plan_id == plan_id)).all()
    approved = Decimal(str(session.execute(
        select(func.coalesce(func.sum(FundingRecipient.approved_amount_wan), 0))
        .where(FundingRecipient.plan_id == plan_id, recipients_in_scope(scope))).scalar()))
    active = session.execute(select(func.count()).where(FundingRecipient.plan_id == plan_id,
                                                        FundingRecipient.status == RecipientStatus.active)).scalar()
    reviewed = dict(session.execute(
        select(PerformanceReview.year_index, func.count()).join(FundingRecipient, FundingRecipient.id == PerformanceReview.recipient_id)
        .where(PerformanceReview.plan_id == plan_id, FundingRecipient.status == RecipientStatus.active)
        .group_by(PerformanceReview.year_index)).all())
    listed = set(session.execute(select(ContinuationList.year_index).where(ContinuationList.plan_id == plan_id)).scalars())
    gates = {}
    for t in tranches:
        year = t.years_after_approval
        done = reviewed.get(year, 0)
        if not t.requires_review:
            state, ok = "无需考核", True
        else:
            ok = done >= active and year in listed
            state = (f"第{year}年度考核 {done}/{active}；继续支持名单" + ("已录入" if year in listed else "未录入"))
        gates[t.id] = {"planned_wan": approved * Decimal(t.share_pct) / 100, "gate": state, "gate_ok": ok}
    return gates


def performance(session: Session, scope: Actor, plan_id: int) -> dict[str, Any]:
    """目标表 and 绩效考核 per in-scope recipient: each indicator's initial value and targets, each year's result."""
    rules = performance_rules()
    recipients = [dict(r) for r in session.execute(
        select(FundingRecipient.id, FundingRecipient.name, FundingRecipient.uscc, FundingRecipient.item_type, FundingRecipient.status)
        .where(FundingRecipient.plan_id == plan_id, recipients_in_scope(scope)).order_by(FundingRecipient.id)).mappings()]
    ids = [r["id"] for r in recipients]
    targets: dict[int, list] = defaultdict(list)
    for t in session.execute(select(PerformanceTarget).where(PerformanceTarget.recipient_id.in_(ids))
                             .order_by(PerformanceTarget.recipient_id, PerformanceTarget.indicator)).scalars():
        rule = rules.indicators.get(t.indicator)
        targets[t.recipient_id].append({"label": rule.label if rule else t.indicator, "unit": rule.unit if rule else "",
                                        "initial": t.initial_value, "y1": t.target_y1, "y2": t.target_y2})
    reviews: dict[int, dict[int, dict]] = defaultdict(dict)
    for r in session.execute(select(PerformanceReview.recipient_id, PerformanceReview.year_index, PerformanceReview.score,
                                    PerformanceReview.grade, PerformanceReview.indicators_met, PerformanceReview.indicators_total,
                                    PerformanceReview.grade_source, PerformanceReview.reason)
                             .where(PerformanceReview.plan_id == plan_id, PerformanceReview.recipient_id.in_(ids))).mappings():
        reviews[r["recipient_id"]][r["year_index"]] = dict(r)
    years = sorted({y for per in reviews.values() for y in per})
    for r in recipients:
        r["targets"] = targets[r["id"]]
        r["reviews"] = [reviews[r["id"]].get(y) for y in years]
    return {"recipients": recipients, "years": years, "grades": rules.grade_names}


def tranche_payments(session: Session, scope: Actor, tranche_id: int) -> list[dict[str, Any]]:
    """The in-scope payments of a tranche with what was taken back from each."""
    taken = (select(PaymentAdjustment.payment_id, func.sum(PaymentAdjustment.amount_wan).label("taken"))
             .group_by(PaymentAdjustment.payment_id).subquery())
    rows = [dict(r) for r in session.execute(
        select(Payment.id, FundingRecipient.name, FundingRecipient.uscc, FundingRecipient.item_type, Payment.base_amount_wan,
               Payment.grade, Payment.factor, Payment.amount_wan, Payment.created_at, func.coalesce(taken.c.taken, 0).label("taken_wan"))
        .join(FundingRecipient, FundingRecipient.id == Payment.recipient_id)
        .outerjoin(taken, taken.c.payment_id == Payment.id)
        .where(Payment.tranche_id == tranche_id, recipients_in_scope(scope))
        .order_by(FundingRecipient.item_type, FundingRecipient.id)).mappings()]
    for r in rows:
        r["taken_wan"] = Decimal(str(r["taken_wan"]))
    return rows
