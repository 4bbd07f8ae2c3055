"""Benchmark: Prefect's own cost per advance — idle advances of the real advance flow on an empty database.

On an empty srdi database every due step of ``srdi pipeline advance`` (flows/advance.py, one task run per step)
finds nothing to do, so what an advance costs is Prefect's: the flow run, its task runs and the temporary
server's answers. Each variant runs in a child process of its own (its own temporary server, Prefect home and
srdi database; the Prefect homes are copies of one migrated home), the variants alternate, and each prints per
advance the median, p95 and max wall time, the client's and the server's CPU, and how many API calls the client
repeated after an HTTP 503 (each repeat follows a ≈2 s back-off: the stall of issue 13). The first advance of a
process (the server's first answers) is shown apart. At the end every child checks that the server recorded a
task run per due step per advance and the flows' log lines.

Variants: ``before`` — the settings before the fix (event persister on, flow-run creation in a DEFERRED
transaction); ``now`` — srdi's settings (srdi/prefect_runtime.py); ``heartbeats`` — ``now`` with flow-run
heartbeats on, as the scheduler of ``srdi serve`` and ``srdi pipeline advance`` run the flow today;
``persister-only`` / ``write-lock-only`` — one half of the fix each.

    python bench/prefect_overhead.py [--runs 60] [--rounds 2] [--variants before,now,heartbeats]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VARIANTS = {
    # name: (environment, flow-run creation takes the write lock first, heartbeats)
    "before": ({"PREFECT_SERVER_SERVICES_EVENT_PERSISTER_ENABLED": "true"}, False, False),
    "now": ({}, True, False),
    "heartbeats": ({}, True, True),
    "persister-only": ({}, False, False),
    "write-lock-only": ({"PREFECT_SERVER_SERVICES_EVENT_PERSISTER_ENABLED": "true"}, True, False),
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=60, help="advances per process, after the first")
    parser.add_argument("--rounds", type=int, default=2, help="processes per variant (the variants alternate)")
    parser.add_argument("--variants", default="before,now,heartbeats", help=f"comma-separated, of {', '.join(VARIANTS)}")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    return parser.parse_args()


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (Linux /proc), 0 elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def _count(api_url: str, what: str) -> int:
    """How many flow runs / task runs / log lines the server holds (logs have no count endpoint: page them)."""
    import httpx

    with httpx.Client(base_url=api_url, timeout=30) as client:
        if what != "logs":
            answer = client.post(f"/{what}/count", json={})
            answer.raise_for_status()
            return answer.json()
        total = 0
        while True:
            page = client.post("/logs/filter", json={"limit": 200, "offset": total})
            page.raise_for_status()
            total += len(page.json())
            if len(page.json()) < 200:
                return total


def child(variant: str, runs: int, work: Path) -> dict:
    """N + 1 advances in this process with the variant's settings; the timings as a dict."""
    environment, write_lock_first, heartbeats = VARIANTS[variant]
    os.environ.update(environment)
    sys.path.insert(0, str(ROOT))
    from srdi import prefect_runtime

    if not write_lock_first:
        prefect_runtime.LIFELINE = prefect_runtime.WATCHDOG + prefect_runtime.RUN_UVICORN
    prefect_runtime.install()
    import logging

    from prefect.settings import temporary_settings
    from sqlmodel import SQLModel

    import models  # noqa: F401 — every table, for create_all
    from flows.advance import advance_flow
    from models.db import get_engine
    from tasks.pipeline.due import DUE_STEPS

    backoffs = []

    class Backoffs(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "retryable status code" in record.getMessage():
                backoffs.append(record.getMessage())

    client_log = logging.getLogger("prefect.client")
    client_log.addHandler(Backoffs(level=logging.DEBUG))
    client_log.setLevel(logging.DEBUG)
    client_log.propagate = False

    SQLModel.metadata.create_all(get_engine())
    started = time.perf_counter()
    api_url = prefect_runtime.start_temporary_server()
    server = prefect_runtime.temporary_server_pid()
    start_up = time.perf_counter() - started
    settings = {} if heartbeats else {"flows.heartbeat_frequency": None}
    with temporary_settings(updates=settings):
        started = time.perf_counter()
        advance_flow()
        first = time.perf_counter() - started
        walls = []
        client_cpu, server_cpu = time.process_time(), _cpu_seconds(server)
        for _ in range(runs):
            started = time.perf_counter()
            advance_flow()
            walls.append(time.perf_counter() - started)
        client_cpu, server_cpu = time.process_time() - client_cpu, _cpu_seconds(server) - server_cpu
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all(timeout=60)
    recorded = prefect_runtime.wait_until_recorded(api_url, timeout=120)
    counts = {what: _count(api_url, what) for what in ("flow_runs", "task_runs", "logs")}
    prefect_runtime.stop_temporary_server()
    return {"variant": variant, "start_up": start_up, "first": first, "walls": walls, "backoffs": len(backoffs),
            "client_cpu": client_cpu, "server_cpu": server_cpu, "recorded": recorded, "counts": counts,
            "expected_task_runs": (runs + 1) * len(DUE_STEPS)}


def run_child(variant: str, runs: int, work: Path, home_template: Path) -> dict:
    place = work / f"{variant}-{time.monotonic_ns()}"
    (place / "programmes").mkdir(parents=True)
    shutil.copytree(home_template, place / "prefect")
    env = {k: v for k, v in os.environ.items()
           if k not in ("PREFECT_API_URL", "PREFECT_LOGGING_LEVEL") and not k.startswith(("PREFECT_SERVER_", "SRDI_"))}
    env.update(PREFECT_HOME=str(place / "prefect"), SRDI_DATABASE_URL=f"sqlite:///{place / 'srdi.db'}",
               SRDI_PROGRAMMES_DIR=str(place / "programmes"))
    done = subprocess.run([sys.executable, __file__, "--child", variant, "--runs", str(runs), "--work", str(place)],
                          cwd=ROOT, env=env, capture_output=True, text=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        raise SystemExit(f"bench/prefect_overhead FAILED in variant {variant} (exit {done.returncode}):\n{done.stderr[-4000:]}")
    shutil.rmtree(place, ignore_errors=True)
    return json.loads(lines[-1][len("RESULT "):])


def migrated_home(work: Path) -> Path:
    """A Prefect home whose database is migrated once, for every child to copy."""
    home = work / "prefect-template"
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.update(PREFECT_HOME=str(home), PREFECT_LOGGING_LEVEL="WARNING", PYTHONPATH=str(ROOT))
    code = "from srdi import prefect_runtime as p; p.start_temporary_server(); p.stop_temporary_server()"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True)
    return home


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def report(variant: str, results: list[dict]) -> dict:
    walls = [w for r in results for w in r["walls"]]
    n = len(walls)
    line = {"median": statistics.median(walls), "p95": percentile(walls, 0.95), "max": max(walls)}
    recorded = sum(r["counts"]["task_runs"] for r in results)
    expected = sum(r["expected_task_runs"] for r in results)
    print(f"{variant:>15}: per advance median {line['median']:.3f} s, p95 {line['p95']:.3f} s, max {line['max']:.3f} s "
          f"over {n} advances ({len(results)} processes); 503 back-offs {sum(r['backoffs'] for r in results)}; "
          f"CPU per advance: client {sum(r['client_cpu'] for r in results) / n * 1000:.0f} ms, "
          f"server {sum(r['server_cpu'] for r in results) / n * 1000:.0f} ms; "
          f"first advance of a process {statistics.median(r['first'] for r in results):.2f} s "
          f"(server start {statistics.median(r['start_up'] for r in results):.1f} s, not counted); "
          f"task runs recorded {recorded}/{expected}, log lines {sum(r['counts']['logs'] for r in results)}", flush=True)
    if recorded != expected or not all(r["recorded"] for r in results):
        raise SystemExit(f"bench/prefect_overhead FAILED: {variant} recorded {recorded} task runs of {expected}")
    return line


def main() -> None:
    args = parse_args()
    if args.child:
        print("RESULT " + json.dumps(child(args.child, args.runs, Path(args.work))), flush=True)
        return
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        raise SystemExit(f"unknown variant(s) {', '.join(unknown)}; known: {', '.join(VARIANTS)}")
    work = Path(tempfile.mkdtemp(prefix="srdi-bench-prefect-"))
    try:
        print(f"srdi bench/prefect_overhead: {args.runs} idle advances per process (after the first), "
              f"{args.rounds} processes per variant, alternating; the real advance flow on an empty SQLite database", flush=True)
        template = migrated_home(work)
        results: dict[str, list[dict]] = {v: [] for v in variants}
        for _ in range(args.rounds):
            for variant in variants:
                results[variant].append(run_child(variant, args.runs, work, template))
        lines = {variant: report(variant, found) for variant, found in results.items()}
        if "before" in lines and "now" in lines:
            b, n = lines["before"], lines["now"]
            print(f"Prefect's cost per idle advance, before → now: median {b['median']:.3f} → {n['median']:.3f} s, "
                  f"p95 {b['p95']:.3f} → {n['p95']:.3f} s, max {b['max']:.3f} → {n['max']:.3f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
