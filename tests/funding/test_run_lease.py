"""A disbursement run killed half-way (kill -9, a lost machine) never stays `running` forever.

Each run holds a lease in real wall time, renewed after every chunk of payments. The next run of
the tranche marks a dead run failed (中断) and pays exactly the missing recipients; while a run is
alive, a second run of the same tranche refuses instead of writing beside it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from models.errors import Conflict
from models.funding import DisbursementRun, Payment, RunStatus, TrancheStatus
from models.workflow_writer import SystemActor, apply
from tasks.funding.allocation_workbook import write_allocation_workbook
from tasks.funding.disbursement import (
    LeaseLost,
    mark_failed,
    payment_rows,
    prepare,
    run_disbursement,
    this_process,
    wall_now,
    write_payments,
)
from tasks.funding.plan import find_plan
from tasks.funding.tranches import get_tranche
from tests.funding.conftest import BEIJING, at

RECEIVED = at("2021-08-10 09:00")


def _runs(engine) -> list:
    with engine.connect() as c:
        return c.execute(select(DisbursementRun.id, DisbursementRun.status, DisbursementRun.error, DisbursementRun.owner,
                                DisbursementRun.payments_created).order_by(DisbursementRun.id)).all()


def _payment_count(engine) -> int:
    with engine.connect() as c:
        return c.execute(select(func.count()).select_from(Payment)).scalar()


def _half_done_run(engine, **lease) -> int:
    """A run that paid 6 of 11 recipients and then vanished without a word (as kill -9 leaves it)."""
    prepared = prepare(engine, BEIJING, 1, received_at=RECEIVED)
    rows = payment_rows(prepared.tranche.id, prepared.run_id, prepared.decision.payable)
    write_payments(engine, rows[:6], chunk_size=3, run_id=prepared.run_id)
    if lease:
        with engine.begin() as c:
            c.execute(update(DisbursementRun).where(DisbursementRun.id == prepared.run_id).values(**lease))
    return prepared.run_id


@pytest.mark.postgres
def test_a_run_whose_lease_expired_is_marked_failed_and_the_next_run_pays_the_rest(engine, approved, tmp_path, clock, db_backend):
    dead = _half_done_run(engine, heartbeat_at=wall_now() - timedelta(minutes=10),
                          lease_until=wall_now() - timedelta(minutes=8), owner="another-host:4242")
    assert _payment_count(engine) == 6
    outcome = run_disbursement(engine, BEIJING, 1, out_dir=tmp_path)
    assert (outcome.created, outcome.payments, outcome.status) == (5, 11, TrancheStatus.disbursed)
    (first, first_status, error, _, _), (_, second_status, _, owner, created) = _runs(engine)
    assert first == dead and first_status == RunStatus.failed and error.startswith("中断：租约过期（another-host:4242")
    assert (second_status, owner, created) == (RunStatus.completed, this_process(), 5)


def test_the_lease_is_real_time_so_a_frozen_srdi_clock_does_not_make_a_live_run_look_dead(engine, approved, tmp_path, clock):
    clock.set(at("2031-01-01 09:00"))        # the srdi clock years ahead of the lease's wall time
    prepare(engine, BEIJING, 1, received_at=RECEIVED)
    with engine.connect() as c:
        run = c.execute(select(DisbursementRun.heartbeat_at, DisbursementRun.lease_until)).one()
    assert abs(run.heartbeat_at - wall_now()) < timedelta(minutes=1) and run.lease_until > wall_now()
    with pytest.raises(Conflict):
        run_disbursement(engine, BEIJING, 1, out_dir=tmp_path)


def test_a_run_whose_process_is_gone_from_this_host_is_taken_over_before_its_lease_runs_out(engine, approved, tmp_path, clock):
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    owner = f"{this_process().rpartition(':')[0]}:{gone.stdout.strip()}"
    _half_done_run(engine, owner=owner)                     # lease still live for two minutes
    outcome = run_disbursement(engine, BEIJING, 1, out_dir=tmp_path)
    assert outcome.created == 5 and _payment_count(engine) == 11
    assert [(r.status, r.error) for r in _runs(engine)][0] == (RunStatus.failed, f"中断：运行进程 {owner} 已不存在")


def test_while_a_run_is_alive_a_second_run_of_the_tranche_refuses_and_writes_nothing(engine, approved, tmp_path, clock):
    prepared = prepare(engine, BEIJING, 1, received_at=RECEIVED)
    with pytest.raises(Conflict, match=r"第1笔资金正由 .+ 拨付中（运行 #\d+.*同一笔资金不能同时运行两次拨付"):
        run_disbursement(engine, BEIJING, 1, out_dir=tmp_path)
    assert [r.status for r in _runs(engine)] == [RunStatus.running] and _payment_count(engine) == 0
    rows = payment_rows(prepared.tranche.id, prepared.run_id, prepared.decision.payable)
    assert write_payments(engine, rows, run_id=prepared.run_id) == 11          # the live run is undisturbed
    # the database itself holds one running run per tranche, whatever code path inserts it
    with pytest.raises(Exception, match="(?i)unique"):
        with engine.begin() as c:
            c.execute(DisbursementRun.__table__.insert().values(tranche_id=prepared.tranche.id, started_at=wall_now(),
                                                                status=RunStatus.running, actor="rogue"))


@pytest.mark.postgres
def test_of_four_runs_started_at_the_same_moment_exactly_one_proceeds(engine, approved, tmp_path, clock, db_backend):
    start, outcomes = threading.Barrier(4), []

    def start_run() -> None:
        start.wait()
        try:
            outcomes.append(prepare(engine, BEIJING, 1, received_at=RECEIVED).run_id)
        except Conflict as refused:
            outcomes.append(refused)

    threads = [threading.Thread(target=start_run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(type(o).__name__ for o in outcomes) == ["Conflict", "Conflict", "Conflict", "int"]
    assert [r.status for r in _runs(engine)] == [RunStatus.running]


def test_a_run_declared_dead_stops_writing_once_it_wakes_up(engine, approved, tmp_path, clock):
    prepared = prepare(engine, BEIJING, 1, received_at=RECEIVED)
    with engine.begin() as c:                                # it stalled past its lease …
        c.execute(update(DisbursementRun).values(lease_until=wall_now() - timedelta(seconds=1)))
    assert run_disbursement(engine, BEIJING, 1, out_dir=tmp_path).created == 11      # … and was taken over
    rows = payment_rows(prepared.tranche.id, prepared.run_id, prepared.decision.payable)
    with pytest.raises(LeaseLost, match="租约已过期并被其他运行接管"):
        write_payments(engine, rows, run_id=prepared.run_id)
    assert [r.status for r in _runs(engine)] == [RunStatus.failed, RunStatus.completed] and _payment_count(engine) == 11


@pytest.mark.postgres
def test_a_dead_looking_run_that_fails_itself_while_the_next_run_ends_it_keeps_its_own_end(engine, approved, tmp_path, clock, db_backend):
    if db_backend != "postgres":
        pytest.skip("the race needs row locks that wait (PostgreSQL); SQLite serialises whole transactions")
    dead = _half_done_run(engine, lease_until=wall_now() - timedelta(minutes=1))     # it stalled past its lease …
    outcome = []
    with engine.connect() as stalled:
        ending = stalled.begin()                                                     # … and now fails on its own
        apply(stalled, "disbursement_run", "fail", [dead], actor=SystemActor(), at=wall_now(), values={"error": "its own end"})
        next_run = threading.Thread(target=lambda: outcome.append(prepare(engine, BEIJING, 1, received_at=RECEIVED).run_id))
        next_run.start()
        time.sleep(1.5)                                  # the next run has read it as running and waits on its row
        ending.commit()
    next_run.join(timeout=60)
    assert len(outcome) == 1
    assert [(r.status, r.error) for r in _runs(engine)] == [(RunStatus.failed, "its own end"), (RunStatus.running, None)]



@pytest.mark.postgres
def test_a_run_that_fails_while_the_next_run_declares_it_dead_keeps_the_end_it_was_given(engine, approved, tmp_path, clock, db_backend):
    if db_backend != "postgres":
        pytest.skip("the race needs row locks that wait (PostgreSQL); SQLite serialises whole transactions")
    dead = _half_done_run(engine, lease_until=wall_now() - timedelta(minutes=1))
    failed = []
    with engine.connect() as taking_over:
        ending = taking_over.begin()                                                 # the next run ends it …
        apply(taking_over, "disbursement_run", "fail", [dead], actor=SystemActor(), at=wall_now(), values={"error": "中断：租约过期"})
        waking = threading.Thread(target=lambda: failed.append(mark_failed(engine, dead, RuntimeError("stalled"))))
        waking.start()                                                               # … as it fails on its own
        time.sleep(1.5)
        ending.commit()
    waking.join(timeout=60)
    assert failed == [None] and [(r.status, r.error) for r in _runs(engine)] == [(RunStatus.failed, "中断：租约过期")]


KILLABLE_RUN = """
import sys, time
from models.db import get_engine
from models.clock import parse_instant
from tasks.funding.disbursement import run_disbursement

def stop_here(created):
    print(created, flush=True)
    time.sleep(600)          # killed here, with 3 of 11 payments committed

run_disbursement(get_engine(), sys.argv[1], 1, received_at=parse_instant(sys.argv[2]), chunk_size=3,
                 out_dir=sys.argv[3], after_chunk=stop_here, actor="killed")
"""


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["kill-9", "sigterm"])
def test_a_real_process_killed_mid_run_leaves_a_run_the_next_one_ends_and_completes(engine, approved, tmp_path, clock, sig):
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    child = subprocess.Popen([sys.executable, "-c", KILLABLE_RUN, BEIJING, RECEIVED.isoformat(), str(tmp_path)], cwd=root,
                             env={**os.environ, "PYTHONPATH": root}, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "3"
        child.send_signal(sig)
        child.wait(timeout=30)
    finally:
        child.kill()
    [(_, status, _, owner, _)] = _runs(engine)
    assert status == RunStatus.running and owner.endswith(f":{child.pid}") and _payment_count(engine) == 3
    outcome = run_disbursement(engine, BEIJING, 1, out_dir=tmp_path)
    assert (outcome.created, outcome.payments, outcome.status) == (8, 11, TrancheStatus.disbursed)
    assert [(r.status, r.error) for r in _runs(engine)] == [(RunStatus.failed, f"中断：运行进程 {owner} 已不存在"),
                                                            (RunStatus.completed, None)]


def test_two_workbook_writers_at_once_do_not_trip_over_one_temporary_file(engine, approved, tmp_path, clock, monkeypatch):
    import tasks.funding.allocation_workbook as module

    out = tmp_path / "plans"
    run_disbursement(engine, BEIJING, 1, received_at=RECEIVED, out_dir=out)
    with engine.connect() as c:
        plan = find_plan(c, BEIJING)
        tranche = get_tranche(c, plan.id, 1)
    real_replace, moves = os.replace, []

    def replace_after_another_writer(source, target):        # the second run writes while the first is saving
        moves.append(os.path.basename(source))
        if len(moves) == 1:
            with engine.connect() as c:
                write_allocation_workbook(c, plan, tranche, [], out)
        real_replace(source, target)

    monkeypatch.setattr(module.os, "replace", replace_after_another_writer)
    with engine.connect() as c:
        path = write_allocation_workbook(c, plan, tranche, [], out)
    assert len(set(moves)) == 2 and path.exists()
    assert [p.name for p in out.iterdir()] == [path.name]          # no .partial left behind
