"""bench/pipeline.py's peers and phases: peak RSS per phase, the SQLite twin of a PostgreSQL run, and --compare
(the set-based floor at the bench size and SpiffWorkflow at --spiff-size, same round, same final counts or the bench fails)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from bench.plan import Round, make_round


def peak_rss_mib() -> float:
    """This process's peak resident set (VmHWM; ru_maxrss where /proc is missing)."""
    try:
        status = Path("/proc/self/status").read_text()
        return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024
    except (OSError, AttributeError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


PEAKS: dict[str, float] = {}                        # phase → its peak RSS (MiB)


def end_phase(name: str) -> None:
    """Record the phase's peak RSS, then start VmHWM again from the current RSS (Linux: clear_refs 5)."""
    PEAKS[name] = peak_rss_mib()
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def statuses(final: dict) -> dict[str, int]:
    return dict(sorted((str(k), v) for k, v in final.items()))


def same_or_fail(what: str, mine: dict, theirs: dict) -> None:
    if mine != theirs:
        raise SystemExit(f"bench/pipeline FAILED: {what} final counts differ: srdi {mine} ≠ {theirs}")
    print(f"  final counts agree ({what}): {theirs}")


def sqlite_twin(args, work: Path, script: str) -> tuple[float, str]:
    """The same srdi round on SQLite, in a child process (a fresh engine and Prefect): (wall, its final statuses)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL", "SRDI_DATABASE_URL")}
    if env.get("PREFECT_HOME", "").startswith(str(work)):
        env.pop("PREFECT_HOME")
    done = subprocess.run([sys.executable, script, "--size", str(args.size), "--seed", str(args.seed), "--baseline-size", "0"],
                          env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"bench/pipeline FAILED: the SQLite run failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    wall = float(re.search(r"^wall time: ([\d.]+) s", done.stdout, re.M).group(1))
    return wall, re.search(r"^final statuses: (\{.*?\});", done.stdout, re.M).group(1)


def compare(args, work: Path, plan: Round, homes, desks, srdi_wall: float, srdi_final: dict) -> list[str]:
    """The floor at the bench size and SpiffWorkflow at --spiff-size, same round; the ratio lines."""
    from bench.floor import run_floor
    from bench.spiff_round import available, run_spiff

    if not available():
        raise SystemExit("bench/pipeline --compare needs SpiffWorkflow: .venv/bin/pip install -c requirements.lock -e '.[bench]'")
    floor = run_floor(plan, work / "floor.db")
    end_phase("floor")
    print(f"floor (stdlib sqlite3, set-based, one transaction per step): {floor['wall']:.2f} s for {args.size:,}; "
          f"transitions {floor['transitions']:,}, recognitions {floor['recognitions']:,}; peak RSS {PEAKS['floor']:.0f} MiB")
    same_or_fail("srdi = floor", srdi_final, floor["final"])
    small = plan if args.spiff_size == args.size else make_round(args.seed, args.spiff_size, homes, desks)
    reference = floor["final"] if small is plan else run_floor(small, work / "floor-small.db")["final"]
    spiff = run_spiff(small, work / "spiff.db")
    end_phase("spiff")
    scaled = spiff["wall"] * args.size / args.spiff_size
    print(f"SpiffWorkflow 3.2 (BPMN, workflow JSON in SQLite per level): {spiff['wall']:.1f} s for {args.spiff_size:,}"
          f"{'' if small is plan else f', scaled linearly to {args.size:,}: {scaled:.1f} s'}; "
          f"{spiff['json_bytes'] / 2**20:.0f} MiB of workflow JSON; peak RSS {PEAKS['spiff']:.0f} MiB")
    same_or_fail("spiff = floor" + ("" if small is plan else f" at {args.spiff_size:,}"), reference, spiff["final"])
    return [f"ratio srdi/floor: {srdi_wall / floor['wall']:.1f}×",
            f"ratio spiff/srdi: {scaled / srdi_wall:.1f}× (at {args.spiff_size:,})"]


