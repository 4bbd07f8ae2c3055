"""Benchmark: the daily reminder sweep over 1,000,000 open deadlines, most of them not due.

Due dates are spread evenly over two years starting two days before today (a working Monday), so
about 1% fall within the reminder horizon (five working days) or the escalation look-back. Timed:
the sweep's planning step (tasks/reminders/sweep.py, the selection of due deadlines and today's
stage of each) — target ≤ 1 s. Baseline, same run and same data: a per-row loop that reads every
deadline and decides in Python (the same horizon, ``plan_for`` and memoised calendar). The two must
find the same deadlines with the same stages. Then the whole sweep (no recipients registered, so
nothing is queued) for information.

    python bench/sweep.py [--deadlines 1000000] [--keep]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select  # noqa: E402
from sqlmodel import SQLModel  # noqa: E402

import models  # noqa: E402,F401
from models.calendar import CalendarYearMissing, statutory_calendar  # noqa: E402
from models.clock import SHANGHAI, clock  # noqa: E402
from models.db import make_engine  # noqa: E402
from models.deadline import Deadline, DeadlineState  # noqa: E402
from models.programme import Call  # noqa: E402
from tasks.reference.jurisdictions import load_jurisdictions  # noqa: E402
from tasks.reminders.sweep import (  # noqa: E402  (private names: the steps inside sweep())
    DEFAULT_POLICY,
    ESCALATION_LOOKBACK,
    SweepResult,
    _horizon,
    _MemoCalendar,
    _plan_deadlines,
    plan_for,
    sweep,
)

TARGET_SECONDS = 1.0
TODAY = datetime(2025, 1, 6, 9, 0, tzinfo=SHANGHAI)      # a Monday; the calendar library covers 2025–2026
SPREAD = timedelta(days=730)
FIRST_DUE = TODAY - timedelta(days=2)
KINDS = ("level_decision", "notice_close", "re_review", "name_change", "annual_report", "tranche")


def seed(engine, count: int) -> None:
    """``count`` open deadlines in one INSERT … SELECT; a stride permutation keeps id order unrelated to due order."""
    step = SPREAD.total_seconds() / count
    kinds = " ".join(f"WHEN {i} THEN '{kind}'" for i, kind in enumerate(KINDS))
    with engine.begin() as c:
        c.exec_driver_sql("PRAGMA cache_size = -262144")      # 256 MiB: five indexes take keys in random order
        c.exec_driver_sql(f"""
            WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {count - 1}),
                 county(k, code) AS (SELECT row_number() OVER (ORDER BY code) - 1, code FROM jurisdiction WHERE level = 'county'),
                 counties(total) AS (SELECT count(*) FROM county)
            INSERT INTO deadline (key, kind, title, due_at, jurisdiction_code, state, created_at)
            SELECT 'bench:' || i, CASE i % {len(KINDS)} {kinds} END, '基准期限' || i,
                   datetime(?, '+' || CAST((i * 7919 % {count}) * {step} AS INTEGER) || ' seconds') || '.000000',
                   county.code, 'open', ?
            FROM n JOIN counties JOIN county ON county.k = n.i % counties.total
        """, (FIRST_DUE.strftime("%Y-%m-%d %H:%M:%S"), TODAY.strftime("%Y-%m-%d %H:%M:%S.%f")))


def set_based(engine) -> tuple[dict, SweepResult]:
    """The sweep's own planning step: deadline id → today's stage."""
    result = SweepResult(TODAY.date())
    with engine.connect() as c:
        plans, _ = _plan_deadlines(c, TODAY, statutory_calendar(), {}, result)
    return {i: p.stage for i, p in plans.items()}, result


def per_row(engine) -> tuple[dict, int]:
    """Every open (or missed) deadline read and decided one row at a time; rows past the sweep's horizon
    are passed over on their date before any working-day count (else the calendar, not the read, dominates)."""
    d = Deadline.__table__.c
    today, oldest = TODAY.date(), TODAY - ESCALATION_LOOKBACK
    counting, horizon = _MemoCalendar(statutory_calendar()), _horizon(today, {}, statutory_calendar())
    stages, read = {}, 0
    with engine.connect() as c:
        rows = c.execute(select(d.id, d.key, d.due_at, d.state, Call.programme_id)
                         .select_from(Deadline.__table__).outerjoin(Call, Call.id == d.call_id))
        for row in rows:        # a plain scan: with a WHERE on state SQLite would walk the index and fetch rows at random
            read += 1
            if row.state not in (DeadlineState.open, DeadlineState.missed) or row.due_at < oldest:
                continue
            if row.state == DeadlineState.open and row.due_at >= horizon:
                continue
            if TODAY.time() < DEFAULT_POLICY.send_at:
                continue
            try:
                plan = plan_for(row.due_at, row.state, today, TODAY, DEFAULT_POLICY, counting)
            except CalendarYearMissing:
                continue
            if plan:
                stages[row.id] = plan.stage
    return stages, read


def timed(step):
    started = time.perf_counter()
    result = step()
    return result, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deadlines", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the working directory (the database)")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="srdi-bench-sweep-"))
    try:
        return run(args, workdir)
    finally:
        if args.keep:
            print(f"data kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def run(args, workdir: Path) -> int:
    engine = make_engine(f"sqlite:///{workdir / 'bench.db'}")
    SQLModel.metadata.create_all(engine)
    with engine.begin() as c:
        load_jurisdictions(c)
    clock.set(TODAY)
    _, seeding = timed(lambda: seed(engine, args.deadlines))
    engine.dispose()        # the timed steps get fresh connections with SQLite's default cache

    (baseline, read), loop_s = timed(lambda: per_row(engine))
    (plans, result), plan_s = timed(lambda: set_based(engine))
    whole, whole_s = timed(lambda: sweep(engine, TODAY, policies={}))
    engine.dispose()

    same = plans == baseline and not result.errors and whole.deadlines == len(plans)
    stages = ", ".join(f"{stage} {sum(1 for s in plans.values() if s == stage):,}" for stage in sorted(set(plans.values())))
    print(f"seeding {args.deadlines:,} open deadlines over {SPREAD.days} days: {seeding:.2f} s (not timed)")
    print(f"per-row loop: read {read:,} deadlines, {len(baseline):,} due, in {loop_s:.2f} s")
    print(f"whole sweep (no recipients, nothing queued; marks {whole.missed:,} missed): {whole_s:.2f} s")
    print(f"stages today: {stages}; same deadlines and stages as the per-row loop: {'yes' if same else 'NO'}")
    print(f"target ≤ {TARGET_SECONDS:.1f} s: {'OK' if plan_s <= TARGET_SECONDS else 'OVER'}")
    print(f"plan: {len(plans):,} due of {args.deadlines:,} open in {plan_s:.2f} s")
    print(f"ratio per-row/set-based: {loop_s / plan_s:.1f}×")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
