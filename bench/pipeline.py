"""Benchmark: a national round of N applications through four review levels, 公示 and 认定.

Every county of the country takes in its applicants (``create_applications``); at each level every
bureau's reviewer records its decisions as one batch (``decide_many``: ~90% recommend — with a score
at the provincial and ministry levels, which rank for the quota —, 5% reject, 0.2% returned and resubmitted,
0.5% of desks leave some undecided so the deadline escalates them; the decisions are fixed in advance by
bench/plan.py, a function of the seed, the level and the application); then ``srdi pipeline advance`` (the
Prefect flow, one task per due step) closes the levels, applies the provincial quota, forwards the lists, and
runs the other due steps of tasks/pipeline/due.py (公示 open and close with recognition, 复核, …). Prints wall
time, applications/s, Prefect task runs, peak RSS, and the ratio against a baseline that runs one Prefect task
per application per level (run at a small size and scaled linearly).

--compare plays the same round (same applicants, same decisions) in the same process with the set-based floor
(bench/floor.py, stdlib sqlite3) at the bench size and SpiffWorkflow 3.2 (bench/spiff_round.py, needs the
``bench`` extra) at --spiff-size, checks that every contender reaches the same final counts (a mismatch fails
the bench) and ends with ``ratio srdi/floor: N×`` and ``ratio spiff/srdi: M× (at SIZE)``.
--url postgresql://… runs the srdi round on PostgreSQL in a throw-away schema (dropped at the end); with
--also-sqlite the same round also runs on SQLite in a child process, for the PG/SQLite ratio.
--prefect-server runs each advance as a run of a deployment on ``prefect server start`` with a process worker.

    python bench/pipeline.py [--size 100000] [--baseline-size 100] [--compare [--spiff-size 10000]]
                             [--url postgresql://USER@HOST:PORT/DB [--also-sqlite]] [--prefect-server] [--keep]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import tempfile
import time
from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from pathlib import Path


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--baseline-size", type=int, default=100, help="0: no per-application baseline")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--compare", action="store_true", help="also the set-based floor and SpiffWorkflow, same round")
    parser.add_argument("--spiff-size", type=int, default=10_000, help="SpiffWorkflow's round size (scaled linearly)")
    parser.add_argument("--url", help="run srdi on this PostgreSQL server (postgresql://…), in a throw-away schema")
    parser.add_argument("--also-sqlite", action="store_true", help="with --url: the same srdi round on SQLite too (child process)")
    parser.add_argument("--prefect-server", action="store_true", help="advance through a deployment on prefect server + worker")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark's database directory")
    return parser.parse_args()


ARGS = parse_args()
signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))     # run the clean-up at the end on kill, too
ROOT = Path(__file__).resolve().parents[1]
WORK = Path(tempfile.mkdtemp(prefix="srdi-bench-pipeline-"))
sys.path.insert(0, str(ROOT))
DROP_SCHEMA = None
if ARGS.url:
    from bench.pg_schema import fresh_schema

    os.environ["SRDI_DATABASE_URL"], DROP_SCHEMA = fresh_schema(ARGS.url)
else:
    os.environ["SRDI_DATABASE_URL"] = f"sqlite:///{WORK / 'srdi.db'}"
os.environ["SRDI_PROGRAMMES_DIR"] = str(WORK / "programmes")
os.environ.setdefault("PREFECT_HOME", str(WORK / "prefect"))
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
SERVER = None
if ARGS.prefect_server:
    from bench.prefect_server import PrefectServer

    SERVER = PrefectServer(WORK / "prefect-server")
    SERVER.start()                   # before Prefect is imported: PREFECT_API_URL is read once

from srdi import prefect_runtime  # noqa: E402

prefect_runtime.install()        # before Prefect is imported: its settings read the environment once

import yaml  # noqa: E402
from sqlalchemy import func, select, update  # noqa: E402
from sqlmodel import SQLModel  # noqa: E402
from stdnum.cn import uscc as stdnum_uscc  # noqa: E402

import models  # noqa: E402,F401
from bench.peers import PEAKS, compare, end_phase, sqlite_twin, statuses  # noqa: E402
from bench.pg_schema import server_version  # noqa: E402
from bench.plan import Round, make_round, routing  # noqa: E402
from bench.prefect_server import DEPLOYMENT, advance_through  # noqa: E402
from models import Application, Jurisdiction, Transition, User  # noqa: E402
from models.clock import SHANGHAI, clock  # noqa: E402
from models.db import get_engine  # noqa: E402
from models.enums import ApplicationStatus, ReviewLevel, Role  # noqa: E402
from tasks.intake.applications import create_applications  # noqa: E402
from tasks.pipeline.due import DUE_STEPS  # noqa: E402
from tasks.reference.calls import open_call  # noqa: E402
from tasks.reference.jurisdictions import load_jurisdictions  # noqa: E402
from tasks.review.decisions import DecisionItem, decide, decide_many, resubmit  # noqa: E402

PROFILE = {
    "id": "bench-national", "name": "基准测试：四级评审", "tier": "little_giant", "jurisdiction": "000000",
    "documents": [{"number": "基准〔2026〕1号", "title": "基准测试方案"}],
    "route": [
        {"level": "county", "label": "区县审核", "deadline": {"kind": "fixed", "at": "2026-03-20T17:30:00+08:00"}},
        {"level": "municipal", "label": "市级推荐", "deadline": {"kind": "fixed", "at": "2026-04-10T17:30:00+08:00"}},
        {"level": "provincial", "label": "省级推荐", "deadline": {"kind": "fixed", "at": "2026-04-30T17:30:00+08:00"},
         "quota": {"max": 2000, "sub_caps": [{"category": "c", "max": 100, "label": "c类"}]}},
        {"level": "ministry", "label": "部审核", "deadline": {"kind": "fixed", "at": "2026-05-29T17:30:00+08:00"}},
    ],
    "notice": {"length": 5, "unit": "working_days", "publisher": "ministry"},
    "validity": {"years": 3},
}


def step_ref(step) -> str:
    """``module:function`` of a due step (a DueStep's ``ref``, or a bare step function's name)."""
    return getattr(step, "ref", None) or f"{step.__module__}:{step.__qualname__}"


def bj(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def uscc(n: int, county: str) -> str:
    body = f"91{county}MA{n:07d}"[:17]
    return body + stdnum_uscc.calc_check_digit(body)


def setup(engine) -> None:
    (WORK / "programmes").mkdir(exist_ok=True)
    (WORK / "programmes" / "bench-national.yaml").write_text(yaml.safe_dump(PROFILE, allow_unicode=True), encoding="utf-8")
    SQLModel.metadata.create_all(engine)
    with engine.begin() as c:
        load_jurisdictions(c)
        nodes = c.execute(select(Jurisdiction.code)).scalars().all()
        c.execute(User.__table__.insert(), [{"username": f"r{code}", "display_name": code, "role": Role.reviewer,
                                             "jurisdiction_code": code, "active": True} for code in nodes])


INTAKE_CHUNK = 10_000      # applicants per create_applications call; all calls in one transaction (all or nothing)


def records(plan: Round, codes: list[str], start: int, stop: int) -> list[dict]:
    """Applicants ``start``…``stop - 1`` of the plan (a county's together, as its import arrives)."""
    return [{"uscc": codes[n - 1], "name": f"基准企业{n:06d}有限公司", "size": "small", "industry_code": "C3484",
             "jurisdiction_code": plan.homes[n - 1], "category": plan.categories[n - 1],
             "financials": [{"fiscal_year": 2025, "revenue_wan": "5200", "main_business_revenue_wan": "5000"}]}
            for n in range(start + 1, min(stop, plan.size) + 1)]


def review_level(engine, level: ReviewLevel, plan: Round, now: datetime) -> dict:
    """Every desk's reviewer decides its pending applications as one batch (批量审核), as the plan says."""
    with engine.connect() as c:
        rows = c.execute(select(Application.id, Application.ref, Application.review_jurisdiction_code, Application.enterprise_id)
                         .where(Application.level == level, Application.status == ApplicationStatus.pending)).all()
    by_desk = defaultdict(list)
    for row in rows:
        by_desk[row.review_jurisdiction_code].append(row)
    decisions, scores = plan.decisions[level.value], plan.scores[level.value]
    scored = level in (ReviewLevel.provincial, ReviewLevel.ministry)     # 择优: the quota levels score
    returned, counts = [], defaultdict(int)
    for desk, apps in sorted(by_desk.items()):
        items = []
        for row in apps:
            n = int(row.ref.rsplit("-", 1)[1])          # the reference numbers the call's applications in import order
            decision = decisions[n - 1]
            if decision == "undecided":
                counts["left undecided"] += 1
                continue
            if decision == "return":
                items.append(DecisionItem(row.id, "return", reason="请补充审计报告"))
                returned.append(row)
            elif decision == "reject":
                items.append(DecisionItem(row.id, "reject", reason="不符合条件"))
            elif scored:
                items.append(DecisionItem(row.id, "recommend", score=Decimal(scores[n - 1]) / 100))
            else:
                items.append(DecisionItem(row.id, "recommend"))
            counts[items[-1].decision] += 1
        with engine.begin() as c:
            decide_many(c, items, f"r{desk}", now)
    if returned:
        with engine.begin() as c:
            c.execute(User.__table__.insert(), [{"username": f"a{r.enterprise_id}", "display_name": "企业", "role": Role.applicant,
                                                 "jurisdiction_code": "000000", "enterprise_id": r.enterprise_id, "active": True}
                                                for r in returned])
        for row in returned:
            with engine.begin() as c:
                resubmit(c, row.id, f"a{row.enterprise_id}", now=now)
            with engine.begin() as c:
                decide(c, row.id, "recommend", f"r{row.review_jurisdiction_code}", now=now)
        counts["resubmitted"] = len(returned)
    return dict(counts)


STEPS_OWN = [0.0]         # seconds spent inside the due steps themselves (in-process advances only)


def time_due_steps() -> None:
    """Time the domain work of every due step, so that Prefect's own cost per advance can be printed beside it."""
    import tasks.pipeline.prefect_tasks as prefect_tasks
    inner = prefect_tasks.run_due_step

    def timed(*args, **kwargs):
        mark = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            STEPS_OWN[0] += time.perf_counter() - mark
    prefect_tasks.run_due_step = timed


def main_round(engine, plan: Round, advance_flow) -> dict:
    hooks = [step_ref(step) for step in DUE_STEPS if step_ref(step).startswith("tasks.notice.publication:")]
    clock.set(bj(2026, 3, 2, 9))
    timings, flow_runs = {}, 0
    codes = [uscc(n, home) for n, home in enumerate(plan.homes, start=1)]   # not timed, as the import's reading is not
    start = time.perf_counter()
    with engine.begin() as c:
        call = open_call(c, "bench-national", 2026, closes_at=bj(2026, 3, 5, 17, 30), now=clock.now())
    mark, building = time.perf_counter(), 0.0
    with engine.begin() as c:                    # the import's rows arrive in chunks, as a streamed workbook's do
        for first in range(0, plan.size, INTAKE_CHUNK):
            built = time.perf_counter()
            chunk = records(plan, codes, first, first + INTAKE_CHUNK)
            building += time.perf_counter() - built
            create_applications(c, call.id, chunk, "system", clock.now())
            del chunk
    timings["intake"] = time.perf_counter() - mark - building
    start += building
    for level, after in [(ReviewLevel.county, bj(2026, 3, 21, 9)), (ReviewLevel.municipal, bj(2026, 4, 11, 9)),
                         (ReviewLevel.provincial, bj(2026, 5, 1, 9)), (ReviewLevel.ministry, bj(2026, 5, 6, 9))]:
        mark = time.perf_counter()
        decided = review_level(engine, level, plan, clock.now())
        timings[f"decide {level.value}"] = time.perf_counter() - mark
        clock.set(after)
        mark = time.perf_counter()
        advance_flow(clock.now().isoformat())
        flow_runs += 1
        timings[f"advance after {level.value}"] = time.perf_counter() - mark
        print(f"  {level.value:<10} decisions {decided}", flush=True)
    if hooks:
        clock.set(bj(2026, 5, 14, 9))            # past the 5-working-day 公示
        mark = time.perf_counter()
        advance_flow(clock.now().isoformat())
        flow_runs += 1
        timings["advance after 公示"] = time.perf_counter() - mark
    wall = time.perf_counter() - start
    with engine.connect() as c:
        final = dict(c.execute(select(Application.status, func.count()).group_by(Application.status)).all())
        transitions = c.execute(select(func.count()).select_from(Transition)).scalar()
    return {"wall": wall, "timings": timings, "flow_runs": flow_runs, "task_runs": flow_runs * len(DUE_STEPS),
            "final": final, "transitions": transitions, "hooks": hooks}


def baseline(size: int) -> float:
    """One Prefect task run per application per level (its own database): decide it, then move it up."""
    from prefect import flow, task
    from prefect.cache_policies import NO_CACHE

    from models.db import make_engine
    from tasks.reference.calls import call_context
    from tasks.reference.routing import Tree
    from tasks.review.windows import open_windows

    engine = make_engine(f"sqlite:///{WORK / 'baseline.db'}")
    SQLModel.metadata.create_all(engine)
    with engine.begin() as c:
        load_jurisdictions(c)
        tree = Tree.load(c)
        c.execute(User.__table__.insert(), [{"username": f"r{code}", "display_name": code, "role": Role.reviewer,
                                             "jurisdiction_code": code, "active": True} for code in tree.nodes])
    levels = [ReviewLevel(step["level"]) for step in PROFILE["route"]]

    @task(cache_policy=NO_CACHE)
    def review_one(app_id: int, level: ReviewLevel, now: datetime) -> None:
        with engine.begin() as c:
            home = c.execute(select(Application.jurisdiction_code).where(Application.id == app_id)).scalar()
            outcome = decide(c, app_id, "recommend", f"r{tree.reviewer_at(home, level)}", now=now)
            after = levels.index(level) + 1
            if after < len(levels):
                desk = tree.reviewer_at(home, levels[after])
                c.execute(update(Application).where(Application.id == app_id).values(
                    level=levels[after], review_jurisdiction_code=desk, status=ApplicationStatus.pending,
                    version=outcome.version + 1))
                open_windows(c, context.call, context.levels[after], [desk], now, tree)

    @flow(name="baseline-per-application")
    def per_application(ids: list[int]) -> None:
        for level in levels:
            for app_id in ids:
                review_one(app_id, level, clock.now())

    clock.set(bj(2026, 3, 2, 9))
    with engine.begin() as c:
        call = open_call(c, "bench-national", 2026, closes_at=bj(2026, 3, 5, 17, 30), now=clock.now())
        plan = make_round(7, size, ["130102"], {"130102": {}})
        codes = [uscc(n, home) for n, home in enumerate(plan.homes, start=1)]
        ids = list(create_applications(c, call.id, records(plan, codes, 0, size), "system", clock.now()).applications.values())
        context = call_context(c, call.id)
    start = time.perf_counter()
    per_application(ids)
    return time.perf_counter() - start


def main() -> None:
    args = ARGS
    from prefect import flow
    from prefect.settings import temporary_settings

    from flows.advance import advance_flow

    @flow(name="warm-up")
    def warm_up() -> None:
        return None

    engine = get_engine()
    setup(engine)
    with engine.connect() as c:
        homes, desks = routing(c)
    plan = make_round(args.seed, args.size, homes, desks)         # the round's applicants and decisions
    backend = "SQLite" if not args.url else f"PostgreSQL {server_version(args.url)} (throw-away schema)"
    with temporary_settings(updates={"flows.heartbeat_frequency": None}):
        started = time.perf_counter()
        advance = advance_flow
        if SERVER:
            SERVER.wait_healthy()
            advance = advance_through(SERVER.deploy_and_start_worker())
            mode = f"deployment {DEPLOYMENT} on prefect server {SERVER.api} + a process worker (flow heartbeats on there)"
        else:
            prefect_runtime.start_temporary_server()   # from the main thread: it dies with this process
            mode = "in-process flow on the temporary server; flow heartbeats off"
        warm_up()
        print(f"srdi bench/pipeline: {args.size:,} applications, 4 levels, on {backend}; "
              f"data in {WORK}{'' if args.keep else ' (removed at the end)'}")
        print(f"Prefect server start (not counted): {time.perf_counter() - started:.1f} s; advances: {mode}")
        end_phase("start-up")
        if not SERVER:
            time_due_steps()
        result = main_round(engine, plan, advance)
        end_phase("srdi round")
        base = baseline(args.baseline_size) if args.baseline_size else None
    print("timings: " + ", ".join(f"{k} {v:.1f} s" for k, v in result["timings"].items()))
    print(f"final statuses: {statuses(result['final'])}; transitions {result['transitions']:,}")
    print(f"due steps per advance: {len(DUE_STEPS)}: {', '.join(step_ref(step) for step in DUE_STEPS)}")
    print(f"wall time: {result['wall']:.1f} s for {args.size:,} applications "
          f"({args.size / result['wall']:,.0f} applications/s)")
    print(f"Prefect flow runs: {result['flow_runs']}, task runs: {result['task_runs']} (one per due step per advance)")
    if not SERVER:
        advancing = sum(v for k, v in result["timings"].items() if k.startswith("advance"))
        own = advancing - STEPS_OWN[0]
        print(f"Prefect's own cost: {own:.1f} s of {advancing:.1f} s in advances ({own / result['flow_runs']:.2f} s per flow run; "
              f"the due steps' work {STEPS_OWN[0]:.1f} s) — per run, not per application")
    print(f"peak RSS of the srdi round: {PEAKS['srdi round']:.0f} MiB (VmHWM reset before it; start-up with Prefect, the "
          f"jurisdiction table and the plan: {PEAKS['start-up']:.0f} MiB)")
    if base is not None:
        base_runs, scaled = args.baseline_size * len(PROFILE["route"]), base * args.size / args.baseline_size
        print(f"baseline (one task run per application per level): {args.baseline_size} applications × 4 levels = "
              f"{base_runs} task runs in {base:.1f} s; scaled linearly to {args.size:,}: {scaled:,.0f} s "
              f"({args.size * len(PROFILE['route']):,} task runs)")
        print(f"ratio baseline / set-based: {scaled / result['wall']:,.0f}× (baseline timed on the client; the Prefect server "
              f"records only ~35–130 task runs/s, stack-notes §0, so a real per-application run would be slower still)")
    if not SERVER:
        started = time.perf_counter()
        prefect_runtime.stop_temporary_server()     # let it record every task run first: no lost history, no tracebacks
        print(f"Prefect temporary server drained and stopped (not counted): {time.perf_counter() - started:.1f} s")
    if args.url and args.also_sqlite:
        wall, final = sqlite_twin(args, WORK, __file__)
        print(f"the same srdi round on SQLite (child process): wall time {wall:.1f} s, final statuses {final}")
        if final != str(statuses(result["final"])):
            raise SystemExit(f"bench/pipeline FAILED: PostgreSQL and SQLite final counts differ: {statuses(result['final'])} ≠ {final}")
        print(f"ratio PG/SQLite (srdi round): {result['wall'] / wall:.2f}×")
    ratios = compare(args, WORK, plan, homes, desks, result["wall"], statuses(result["final"])) if args.compare else []
    end_phase("rest")
    print(f"peak RSS of the process: {max(PEAKS.values()):.0f} MiB (" + ", ".join(f"{k} {v:.0f}" for k, v in PEAKS.items()) + ")")
    for line in ratios:
        print(line)


if __name__ == "__main__":
    try:
        main()
    finally:                                        # a failed run leaves no server, no schema and no data behind either
        prefect_runtime.stop_temporary_server(timeout=10)
        if SERVER:
            SERVER.stop()
        if DROP_SCHEMA:
            get_engine().dispose()
            DROP_SCHEMA()
        if not ARGS.keep:
            shutil.rmtree(WORK, ignore_errors=True)
