"""The disbursement run of one tranche for one province (按分配方案拨付), idempotent and resumable.

Steps (each a whole-set operation; flows/funds.py runs the same steps as Prefect tasks):
1. ``prepare``: the approved plan and its tranche; record receipt of the 指标发文 (the 30-day
   allocation-plan deadline goes into the registry); sort recipients into payable / pending review /
   stopped (tasks/tranches.py) and record new stops; check the ≥90% rule on what will be paid.
2. ``write_payments``: INSERT … ON CONFLICT DO NOTHING in chunks, each chunk its own transaction. The
   unique constraint (tranche × recipient) makes a re-run, a retry or a run killed half-way safe: the
   next run inserts exactly the missing rows.
3. ``write_allocation_workbook`` from the payment rows; 4. ``finish``: mark the tranche disbursed when
   no one is left waiting for a review.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Callable, Optional

from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine

from models.errors import RuleViolation
from models.funding import DisbursementRun, FundTranche, Payment, RunStatus, TrancheStatus
from models.funding_plan import ImplementationPlan, PlanStatus
from models.profile import Funding, Profile
from srdi.clock import clock
from tasks.allocation_workbook import default_directory, workbook_path, write_allocation_workbook
from tasks.funding_checks import CITE_90, key_enterprise_share_pct, shown_pct
from tasks.funding_plan import find_plan, profile_for
from tasks.funding_rules import funding_of
from tasks.insert_once import insert_new
from tasks.tranches import Entitlement, TrancheDecision, decide_tranche, discontinue, get_tranche, record_receipt

CHUNK = 500


@dataclass
class Prepared:
    plan: ImplementationPlan
    tranche: FundTranche
    decision: TrancheDecision
    run_id: int


@dataclass(frozen=True)
class RunOutcome:
    province_code: str
    batch: int
    tranche_index: int
    tranche_id: int
    created: int
    payments: int
    payable: int
    amount_wan: Decimal
    key_share_pct: Optional[Decimal]
    pending: list[tuple[int, str, str]]
    stopped: list[tuple[int, str, str]]
    workbook: Path
    allocation_plan_due_at: datetime
    status: TrancheStatus

    def as_dict(self) -> dict:
        return {"province": self.province_code, "batch": self.batch, "tranche": self.tranche_index, "created": self.created,
                "payments": self.payments, "payable": self.payable, "amount_wan": self.amount_wan,
                "key_share_pct": self.key_share_pct, "pending": [{"name": n, "reason": r} for _, n, r in self.pending],
                "stopped": [{"name": n, "reason": r} for _, n, r in self.stopped], "workbook": str(self.workbook),
                "allocation_plan_due_at": self.allocation_plan_due_at, "status": self.status}


def _shown(share: Optional[Decimal]) -> Optional[Decimal]:
    return None if share is None else shown_pct(share)


def check_direct_share(payable: list[Entitlement], funding: Funding) -> Optional[Decimal]:
    share = key_enterprise_share_pct(payable)
    floor = funding.min_direct_enterprise_share_pct
    if floor is not None and share is not None and share < floor:
        raise RuleViolation(f"本笔分配方案直接支持重点“小巨人”企业的资金占比 {shown_pct(share)}%，低于 {floor}%，不能拨付 —— {CITE_90}")
    return share


def prepare(engine: Engine, province_code: str, tranche_index: int, *, batch: Optional[int] = None,
            profile: Optional[Profile] = None, received_at: Optional[datetime] = None, doc_no: Optional[str] = None,
            actor: str = "system") -> Prepared:
    """Everything before the payments, in one transaction; a refusal leaves the database unchanged."""
    with engine.begin() as connection:
        plan = find_plan(connection, province_code, batch)
        if plan.status != PlanStatus.approved:
            raise RuleViolation(f"{plan.title} 当前为“{plan.status.label}”，批复后才能拨付")
        funding = funding_of(profile_for(plan, profile))
        tranche = get_tranche(connection, plan.id, tranche_index)
        decision = decide_tranche(connection, plan, tranche, funding)
        check_direct_share(decision.payable, funding)
        tranche = record_receipt(connection, plan, tranche, funding, received_at=received_at, doc_no=doc_no)
        discontinue(connection, decision.newly_stopped, tranche.years_after_approval)
        run_id = connection.execute(DisbursementRun.__table__.insert().values(
            tranche_id=tranche.id, started_at=clock.now(), status=RunStatus.running, actor=actor)).inserted_primary_key[0]
    return Prepared(plan, tranche, decision, run_id)


def payment_rows(tranche_id: int, run_id: int, payable: list[Entitlement]) -> list[dict]:
    now = clock.now()
    return [{"tranche_id": tranche_id, "recipient_id": e.recipient_id, "base_amount_wan": e.base_amount_wan, "grade": e.grade,
             "factor": e.factor, "amount_wan": e.amount_wan, "run_id": run_id, "created_at": now} for e in payable]


def write_payments(engine: Engine, rows: list[dict], *, chunk_size: int = CHUNK,
                   after_chunk: Optional[Callable[[int], None]] = None) -> int:
    """Insert the payments chunk by chunk (one transaction each); returns how many were new.

    ``after_chunk(created_so_far)`` runs after each committed chunk — the hook a test uses to kill
    the run part-way."""
    created = 0
    for start in range(0, len(rows), chunk_size):
        with engine.begin() as connection:
            created += len(insert_new(connection, Payment.__table__, rows[start:start + chunk_size], ["tranche_id", "recipient_id"]))
        if after_chunk:
            after_chunk(created)
    return created


def finish(engine: Engine, prepared: Prepared, created: int, out_dir: Optional[Path] = None) -> RunOutcome:
    plan, tranche, decision = prepared.plan, prepared.tranche, prepared.decision
    with engine.begin() as connection:
        paid = connection.execute(select(func.count(), func.coalesce(func.sum(Payment.amount_wan), 0))
                                  .where(Payment.tranche_id == tranche.id)).one()
        not_paid = [(name, why) for _, name, why in decision.pending + decision.stopped]
        workbook = workbook_path(out_dir or default_directory(), plan, tranche)
        if created or decision.newly_stopped or not workbook.exists():    # an unchanged re-run keeps the file
            workbook = write_allocation_workbook(connection, plan, tranche, not_paid, out_dir)
        status = tranche.status
        if not decision.pending and tranche.status == TrancheStatus.received:
            status = TrancheStatus.disbursed
            connection.execute(update(FundTranche).where(FundTranche.id == tranche.id, FundTranche.status == TrancheStatus.received)
                               .values(status=status))
        connection.execute(update(DisbursementRun).where(DisbursementRun.id == prepared.run_id).values(
            status=RunStatus.completed, finished_at=clock.now(), payments_created=created, workbook_path=str(workbook)))
    amount = sum((e.amount_wan for e in decision.payable), Decimal(0))
    return RunOutcome(plan.province_code, plan.batch, tranche.tranche_index, tranche.id, created, paid[0], len(decision.payable),
                      amount, _shown(key_enterprise_share_pct(decision.payable)), decision.pending, decision.stopped, workbook,
                      tranche.allocation_plan_due_at, status)


def mark_failed(engine: Engine, run_id: int, error: BaseException) -> None:
    with engine.begin() as connection:
        connection.execute(update(DisbursementRun).where(DisbursementRun.id == run_id).values(
            status=RunStatus.failed, finished_at=clock.now(), error=f"{type(error).__name__}: {error}"[:2000]))


def run_disbursement(engine: Engine, province_code: str, tranche_index: int, *, batch: Optional[int] = None,
                     profile: Optional[Profile] = None, received_at: Optional[datetime] = None, doc_no: Optional[str] = None,
                     out_dir: Optional[Path] = None, chunk_size: int = CHUNK,
                     after_chunk: Optional[Callable[[int], None]] = None, actor: str = "system") -> RunOutcome:
    """One disbursement run of tranche ``tranche_index`` for a province; safe to repeat."""
    prepared = prepare(engine, province_code, tranche_index, batch=batch, profile=profile, received_at=received_at,
                       doc_no=doc_no, actor=actor)
    try:
        rows = payment_rows(prepared.tranche.id, prepared.run_id, prepared.decision.payable)
        created = write_payments(engine, rows, chunk_size=chunk_size, after_chunk=after_chunk)
        return finish(engine, prepared, created, out_dir)
    except BaseException as exc:
        mark_failed(engine, prepared.run_id, exc)
        raise
