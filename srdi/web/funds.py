"""资金 page: 实施方案 (plans), tranches, recipients with what was paid, performance reviews.

A plan is visible to users inside its province's subtree and to those above it; recipients are
listed only when their enterprise sits inside the user's subtree (platforms without an enterprise
row only for users covering the whole province). This page reads; the forms it shows post to
srdi/web/funds_actions.py (plan steps, reviews) and srdi/web/funds_run.py (tranche runs), each only
to the users srdi/web/funds_access.py lets act.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy import func, or_, select
from sqlmodel import Session

from models.enterprise import Enterprise
from models.enums import JurisdictionLevel
from models.errors import NotFound
from models.funding import FundingRecipient, FundTranche, Payment
from models.funding_plan import ImplementationPlan, OpinionStage, VersionKind
from models.jurisdiction import Jurisdiction
from models.performance import PerformanceReview
from srdi.web.auth import current_user, db_session
from srdi.web.bounds import OptionalId
from srdi.web.pages import render
from tasks.people.actors import Actor

router = APIRouter(include_in_schema=False)


def _province_covered(scope: Actor):
    """Plans whose province is inside the subtree (province, ministry users)."""
    return ImplementationPlan.province_code.in_(scope.codes())


def _province_above(scope: Actor):
    """Plans of the province the user's own node belongs to (city, county users)."""
    parts = scope.path.split("/")
    return ImplementationPlan.province_code == (parts[1] if len(parts) > 1 else "")


def recipients_in_scope(scope: Actor):
    """Recipients whose enterprise is in the subtree, or all of a plan whose province is."""
    ours = select(Enterprise.id).where(Enterprise.jurisdiction_code.in_(scope.codes()))
    return or_(FundingRecipient.enterprise_id.in_(ours), FundingRecipient.plan_id.in_(
        select(ImplementationPlan.id).where(_province_covered(scope))))


def visible_plans(session: Session, scope: Actor) -> list[dict[str, Any]]:
    stmt = (select(ImplementationPlan.id, ImplementationPlan.title, ImplementationPlan.province_code,
                   ImplementationPlan.batch, ImplementationPlan.status, ImplementationPlan.approved_at,
                   ImplementationPlan.approval_doc_no, Jurisdiction.name.label("province_name"))
            .join(Jurisdiction, Jurisdiction.code == ImplementationPlan.province_code)
            .where(or_(_province_covered(scope), _province_above(scope)))
            .order_by(ImplementationPlan.province_code, ImplementationPlan.batch))
    return [dict(r) for r in session.execute(stmt).mappings()]


def plan_funds(session: Session, scope: Actor, plan_id: int) -> dict[str, Any]:
    """Tranches with the in-scope payments, and recipients with paid totals and review grades."""
    in_scope = recipients_in_scope(scope)
    paid = dict(session.execute(
        select(Payment.tranche_id, func.sum(Payment.amount_wan))
        .join(FundingRecipient, FundingRecipient.id == Payment.recipient_id)
        .where(FundingRecipient.plan_id == plan_id, in_scope).group_by(Payment.tranche_id)).all())
    counts = dict(session.execute(
        select(Payment.tranche_id, func.count()).join(FundingRecipient, FundingRecipient.id == Payment.recipient_id)
        .where(FundingRecipient.plan_id == plan_id, in_scope).group_by(Payment.tranche_id)).all())
    tranches = [
        {**dict(t), "paid_wan": Decimal(str(paid.get(t["id"]) or 0)), "payments": counts.get(t["id"], 0)}
        for t in session.execute(
            select(FundTranche.id, FundTranche.tranche_index, FundTranche.label, FundTranche.share_pct,
                   FundTranche.scheduled_on, FundTranche.status, FundTranche.allocation_plan_due_at,
                   FundTranche.allocation_reported_at)
            .where(FundTranche.plan_id == plan_id).order_by(FundTranche.tranche_index)).mappings()
    ]
    paid_by = func.coalesce(func.sum(Payment.amount_wan), 0)
    recipients = [dict(r) for r in session.execute(
        select(FundingRecipient.id, FundingRecipient.name, FundingRecipient.uscc, FundingRecipient.item_type,
               FundingRecipient.approved_amount_wan, FundingRecipient.status, FundingRecipient.discontinued_reason,
               paid_by.label("paid_wan"))
        .outerjoin(Payment, Payment.recipient_id == FundingRecipient.id)
        .where(FundingRecipient.plan_id == plan_id, in_scope)
        .group_by(FundingRecipient.id).order_by(FundingRecipient.id)).mappings()]
    grades: dict[int, dict[int, str]] = defaultdict(dict)
    for row in session.execute(
            select(PerformanceReview.recipient_id, PerformanceReview.year_index, PerformanceReview.grade)
            .join(FundingRecipient, FundingRecipient.id == PerformanceReview.recipient_id)
            .where(PerformanceReview.plan_id == plan_id, in_scope)):
        grades[row.recipient_id][row.year_index] = row.grade
    years = sorted({year for per in grades.values() for year in per})
    for r in recipients:
        r["paid_wan"] = Decimal(str(r["paid_wan"]))
        r["grades"] = [grades[r["id"]].get(year, "") for year in years]
    return {"tranches": tranches, "recipients": recipients, "review_years": years}


@router.get("/funds")
def funds_page(request: Request, plan: OptionalId = None, scope: Actor = Depends(current_user),
               session: Session = Depends(db_session)):
    plans = visible_plans(session, scope)
    chosen = next((p for p in plans if p["id"] == plan), None) if plan else (plans[0] if plans else None)
    if plan and chosen is None:
        raise NotFound(f"实施方案 {plan} 不存在或不在您的辖区范围内")
    from srdi.web import funds_access, funds_plan

    data = plan_funds(session, scope, chosen["id"]) if chosen else {"tranches": [], "recipients": [], "review_years": []}
    if chosen:
        gates = funds_plan.tranche_gates(session, scope, chosen["id"])
        for t in data["tranches"]:
            t.update(gates.get(t["id"], {}))
    own_province = scope.jurisdiction_code if scope.jurisdiction_level == JurisdictionLevel.province else None
    return render(request, "funds.html", scope, plans=plans, plan=chosen, **data,
                  versions=funds_plan.versions(session, chosen["id"]) if chosen else [],
                  may=funds_access.allowed(scope, chosen["province_code"]) if chosen else {},
                  own_province=own_province, opinion_stages=list(OpinionStage), version_kinds=list(VersionKind))
