"""The disbursement run of one tranche for one province (按分配方案拨付), idempotent and resumable.

Steps (each a whole-set operation; flows/funds.py runs the same steps as Prefect tasks):
1. ``prepare``: the approved plan and its tranche; record receipt of the 指标发文 (the 30-day
   allocation-plan deadline goes into the registry); sort recipients into payable / pending review /
   stopped (tasks/funding/tranches.py) and record new stops; check the ≥90% rule on what will be paid.
2. ``write_payments``: INSERT … ON CONFLICT DO NOTHING in chunks, each chunk its own transaction. The
   unique constraint (tranche × recipient) makes a re-run, a retry or a run killed half-way safe: the
   next run inserts exactly the missing rows.
3. ``write_allocation_workbook`` from the payment rows; 4. ``finish``: mark the tranche disbursed when
   no one is left waiting for a review.

A run holds a lease (``DisbursementRun.owner``, ``heartbeat_at``, ``lease_until``; real wall time,
never the srdi clock, which tests and the demo freeze or move) and renews it with every chunk. A run
killed with kill -9 leaves a ``running`` row behind: the next run of the tranche sees that its lease
has run out, or that its process is gone from this host, marks it failed (中断) and takes over. A run
whose lease is still live makes the next one refuse (``Conflict``): two runs never write side by side.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Callable, Optional

from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from models.clock import clock, local
from models.errors import Conflict, IllegalMove, RuleViolation
from models.funding import DisbursementRun, FundTranche, Payment, RunStatus, TrancheStatus
from models.funding_plan import ImplementationPlan, PlanStatus
from models.profile import Funding, Profile
from models.settings import setting
from models.workflow_writer import SystemActor, apply, create
from tasks.funding.allocation_workbook import default_directory, workbook_path, write_allocation_workbook
from tasks.funding.plan import find_plan, profile_for
from tasks.funding.plan_checks import CITE_90, key_enterprise_share_pct, shown_pct
from tasks.funding.rules import funding_of
from tasks.funding.tranches import Entitlement, TrancheDecision, decide_tranche, discontinue, get_tranche, record_receipt
from tasks.insert_once import insert_new

CHUNK = 500
LEASE_SECONDS = 120      # SRDI_DISBURSEMENT_LEASE_SECONDS; a chunk takes milliseconds, Prefect's stalls seconds


class LeaseLost(Conflict):
    """This run was declared dead (its lease ran out) and another run took over: it must stop writing."""


class PlanChanged(Conflict):
    """The payments a run would make are no longer those of the preview the user confirmed."""


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


@dataclass(frozen=True)
class RunPreview:
    """拨付预览: what a run of the tranche would do now (nothing written). ``prepare`` decides from the same preview."""

    plan: ImplementationPlan
    tranche: FundTranche
    decision: TrancheDecision
    paid_ids: frozenset[int]                 # recipients this tranche already paid (a run leaves them as they are)
    key_share_pct: Optional[Decimal]

    @property
    def new_payments(self) -> list[Entitlement]:
        return [e for e in self.decision.payable if e.recipient_id not in self.paid_ids]

    @property
    def new_amount_wan(self) -> Decimal:
        return sum((e.amount_wan for e in self.new_payments), Decimal(0))

    @property
    def fingerprint(self) -> str:
        """A digest of who would be paid how much and who is held back why: equal digests, equal runs."""
        d = self.decision
        content = {"tranche": self.tranche.id, "paid": sorted(self.paid_ids),
                   "new": [[e.recipient_id, str(e.amount_wan), e.grade, str(e.factor)] for e in self.new_payments],
                   "pending": [[i, why] for i, _, why in d.pending], "stopped": [[i, why] for i, _, why in d.stopped],
                   "newly_stopped": [[i, why] for i, why in d.newly_stopped]}
        return hashlib.sha256(json.dumps(content, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def _preview(connection: Connection, plan: ImplementationPlan, tranche: FundTranche, funding: Funding) -> RunPreview:
    decision = decide_tranche(connection, plan, tranche, funding)
    share = check_direct_share(decision.payable, funding)
    paid = frozenset(connection.execute(select(Payment.recipient_id).where(Payment.tranche_id == tranche.id)).scalars())
    return RunPreview(plan, tranche, decision, paid, _shown(share))


def preview_run(connection: Connection, province_code: str, tranche_index: int, *, batch: Optional[int] = None,
                profile: Optional[Profile] = None) -> RunPreview:
    """The dry run of ``run_disbursement`` (read-only): the same refusals, the same payable / pending / stopped sets."""
    plan, tranche = _approved_tranche(connection, province_code, tranche_index, batch)
    return _preview(connection, plan, tranche, funding_of(profile_for(plan, profile)))


# ---- the run's lease ------------------------------------------------------------------------------

def wall_now() -> datetime:
    """Real time for leases: a frozen or simulated srdi clock must not make a live run look dead."""
    return datetime.now(timezone.utc)


def lease_length() -> timedelta:
    return timedelta(seconds=float(setting("SRDI_DISBURSEMENT_LEASE_SECONDS") or LEASE_SECONDS))


def this_process() -> str:
    """``host:pid``, the owner written on a run."""
    return f"{socket.gethostname()}:{os.getpid()}"


def process_gone(owner: Optional[str]) -> bool:
    """True when ``owner`` names a process of this host that no longer exists (or is a zombie)."""
    host, _, pid = (owner or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False                                  # another host: only its lease can tell
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False                                  # alive, another user's
    try:                                              # killed but not yet reaped by its parent
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def _shown_time(when: Optional[datetime]) -> str:
    return f"{local(when):%Y-%m-%d %H:%M:%S}" if when else "—"


def why_dead(run, now: datetime) -> Optional[str]:
    """The reason a ``running`` run is in fact dead, or None while it is alive."""
    if run.lease_until is None:
        return "中断：租约过期（未记录租约）"
    if run.lease_until <= now:
        return f"中断：租约过期（{run.owner}，最后心跳 {_shown_time(run.heartbeat_at)}）"
    if process_gone(run.owner):
        return f"中断：运行进程 {run.owner} 已不存在"
    return None


def end_dead_runs(connection: Connection, tranche: FundTranche) -> list[int]:
    """Mark failed each ``running`` run of the tranche that is dead; refuse while one is alive.

    Locks the tranche first (a row lock on PostgreSQL, the write lock on SQLite), so two runs
    starting at once are taken one after the other: the second finds the first and refuses."""
    connection.execute(update(FundTranche).where(FundTranche.id == tranche.id).values(label=FundTranche.label))   # the lock
    now, dead = wall_now(), {}
    running = connection.execute(select(DisbursementRun.id, DisbursementRun.owner, DisbursementRun.heartbeat_at,
                                        DisbursementRun.lease_until)
                                 .where(DisbursementRun.tranche_id == tranche.id, DisbursementRun.status == RunStatus.running)).all()
    for run in running:
        reason = why_dead(run, now)
        if reason is None:
            raise Conflict(f"第{tranche.tranche_index}笔资金正由 {run.owner} 拨付中（运行 #{run.id}，最后心跳 "
                           f"{_shown_time(run.heartbeat_at)}，租约至 {_shown_time(run.lease_until)}）；"
                           "同一笔资金不能同时运行两次拨付，请待其结束后再运行")
        dead[run.id] = reason
    if not dead:
        return []
    ended_at = clock.now()
    return apply(connection, "disbursement_run", "fail", dead, actor=SystemActor(), at=ended_at, reasons=dead,
                 row_values={run_id: {"finished_at": ended_at, "error": reason} for run_id, reason in dead.items()},
                 skip_others=True).ids           # one that ended itself meanwhile (mark_failed) stays as it ended


def renew_lease(connection: Connection, run_id: int) -> None:
    """Heartbeat; raises ``LeaseLost`` when another run has meanwhile declared this one dead."""
    now = wall_now()
    renewed = connection.execute(update(DisbursementRun)
                                 .where(DisbursementRun.id == run_id, DisbursementRun.status == RunStatus.running)
                                 .values(heartbeat_at=now, lease_until=now + lease_length())).rowcount
    if not renewed:
        raise LeaseLost(f"拨付运行 #{run_id} 的租约已过期并被其他运行接管，本运行停止写入")


# ---- the steps ----------------------------------------------------------------------------------

def _approved_tranche(connection: Connection, province_code: str, tranche_index: int,
                      batch: Optional[int]) -> tuple[ImplementationPlan, FundTranche]:
    plan = find_plan(connection, province_code, batch)
    if plan.status != PlanStatus.approved:
        raise RuleViolation(f"{plan.title} 当前为“{plan.status.label}”，批复后才能拨付")
    return plan, get_tranche(connection, plan.id, tranche_index)


def prepare(engine: Engine, province_code: str, tranche_index: int, *, batch: Optional[int] = None,
            profile: Optional[Profile] = None, received_at: Optional[datetime] = None, doc_no: Optional[str] = None,
            actor: str = "system", expected: Optional[str] = None) -> Prepared:
    """Everything before the payments, in one transaction; a refusal changes nothing but the end of a dead run.

    ``expected``: the fingerprint of the preview the user confirmed; a run that would differ refuses."""
    try:
        with engine.begin() as connection:          # a killed run is recorded as such even if this one is refused
            _, tranche = _approved_tranche(connection, province_code, tranche_index, batch)
            end_dead_runs(connection, tranche)
    except IllegalMove:                             # the "dead" run ended itself meanwhile (mark_failed): its end stands
        pass
    with engine.begin() as connection:
        plan, tranche = _approved_tranche(connection, province_code, tranche_index, batch)
        end_dead_runs(connection, tranche)
        funding = funding_of(profile_for(plan, profile))
        preview = _preview(connection, plan, tranche, funding)
        if expected is not None and preview.fingerprint != expected:
            raise PlanChanged("方案已变化，请重新预览（预览之后有人拨付、考核或停止支持了对象）")
        decision = preview.decision
        tranche = record_receipt(connection, plan, tranche, funding, received_at=received_at, doc_no=doc_no)
        discontinue(connection, decision.newly_stopped, tranche.years_after_approval, plan.province_code)
        now, started_at = wall_now(), clock.now()
        try:
            [run_id] = create(connection, "disbursement_run", "start", [dict(
                tranche_id=tranche.id, started_at=started_at, actor=actor, owner=this_process(),
                heartbeat_at=now, lease_until=now + lease_length())], actor=SystemActor(plan.province_code, actor), at=started_at)
        except IntegrityError:                      # uq_run_tranche_running: another run got in first
            raise Conflict(f"第{tranche_index}笔资金已有一个拨付运行在进行，同一笔资金不能同时运行两次拨付，请待其结束后再运行") from None
    return Prepared(plan, tranche, decision, run_id)


def payment_rows(tranche_id: int, run_id: int, payable: list[Entitlement]) -> list[dict]:
    now = clock.now()
    return [{"tranche_id": tranche_id, "recipient_id": e.recipient_id, "base_amount_wan": e.base_amount_wan, "grade": e.grade,
             "factor": e.factor, "amount_wan": e.amount_wan, "run_id": run_id, "created_at": now} for e in payable]


def write_payments(engine: Engine, rows: list[dict], *, chunk_size: int = CHUNK, run_id: Optional[int] = None,
                   after_chunk: Optional[Callable[[int], None]] = None) -> int:
    """Insert the payments chunk by chunk (one transaction each); returns how many were new.

    Each chunk first renews the lease of run ``run_id``, so a run declared dead writes nothing more.
    ``after_chunk(created_so_far)`` runs after each committed chunk — the hook a test uses to kill
    the run part-way."""
    created = 0
    for start in range(0, len(rows), chunk_size):
        with engine.begin() as connection:
            if run_id is not None:
                renew_lease(connection, run_id)
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
        renew_lease(connection, prepared.run_id)      # a run declared dead meanwhile completes nothing
        status, now, who = tranche.status, clock.now(), SystemActor(plan.province_code)
        if not decision.pending and tranche.status == TrancheStatus.received:
            status = TrancheStatus.disbursed
            apply(connection, "tranche", "disburse", [tranche.id], actor=who, at=now, skip_others=True)
        apply(connection, "disbursement_run", "complete", [prepared.run_id], actor=who, at=now,
              values={"finished_at": now, "payments_created": created, "workbook_path": str(workbook)})
    amount = sum((e.amount_wan for e in decision.payable), Decimal(0))
    return RunOutcome(plan.province_code, plan.batch, tranche.tranche_index, tranche.id, created, paid[0], len(decision.payable),
                      amount, _shown(key_enterprise_share_pct(decision.payable)), decision.pending, decision.stopped, workbook,
                      tranche.allocation_plan_due_at, status)


def mark_failed(engine: Engine, run_id: int, error: BaseException) -> None:
    message, now = f"{type(error).__name__}: {error}"[:2000], clock.now()
    try:
        with engine.begin() as connection:
            apply(connection, "disbursement_run", "fail", [run_id], actor=SystemActor(), at=now, reason=message,
                  values={"finished_at": now, "error": message}, skip_others=True)
    except IllegalMove:                           # another run declared this one dead and ended it meanwhile: that end stands
        pass


def run_disbursement(engine: Engine, province_code: str, tranche_index: int, *, batch: Optional[int] = None,
                     profile: Optional[Profile] = None, received_at: Optional[datetime] = None, doc_no: Optional[str] = None,
                     out_dir: Optional[Path] = None, chunk_size: int = CHUNK,
                     after_chunk: Optional[Callable[[int], None]] = None, actor: str = "system",
                     expected: Optional[str] = None) -> RunOutcome:
    """One disbursement run of tranche ``tranche_index`` for a province; safe to repeat.

    ``expected``: the fingerprint of a confirmed preview (``preview_run``); the run refuses if it would differ."""
    prepared = prepare(engine, province_code, tranche_index, batch=batch, profile=profile, received_at=received_at,
                       doc_no=doc_no, actor=actor, expected=expected)
    try:
        rows = payment_rows(prepared.tranche.id, prepared.run_id, prepared.decision.payable)
        created = write_payments(engine, rows, chunk_size=chunk_size, run_id=prepared.run_id, after_chunk=after_chunk)
        return finish(engine, prepared, created, out_dir)
    except BaseException as exc:
        mark_failed(engine, prepared.run_id, exc)
        raise
