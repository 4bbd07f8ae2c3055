"""Benchmark: 1,000 key enterprises through approval, three tranches and two annual reviews.

Four provinces × 250 key enterprises (plus one platform each). Timed: 报送版 → opinions → 备案版 →
批复, 目标表 and half-yearly figures, the reviews of 2021 and 2022, the continuation lists and the
three disbursement runs per province (with their allocation workbooks and deadlines). Then every run
again: it must create zero payments. Target ≤ 5 s on the project machine (2 cores).

    python bench/funds.py [--enterprises 1000] [--url sqlite:///...] [--keep]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select  # noqa: E402
from sqlmodel import SQLModel  # noqa: E402

import models  # noqa: E402,F401
from models.db import make_engine  # noqa: E402
from models.funding import Payment  # noqa: E402
from srdi.demo.funding_round import approve_demo_plan, beijing_time, review_and_continue  # noqa: E402
from srdi.demo.funding_seed import create_key_enterprises  # noqa: E402
from tasks.funding.disbursement import run_disbursement  # noqa: E402
from tasks.reference.jurisdictions import load_jurisdictions  # noqa: E402

PROVINCES = {"110000": "北京", "120000": "天津", "130000": "河北", "510000": "四川"}
TARGET_SECONDS = 5.0


def _county(province: str) -> str:
    return {"110000": "110101", "120000": "120101", "130000": "130102", "510000": "510104"}[province]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enterprises", type=int, default=1000)
    parser.add_argument("--url", default=None, help="database URL (default: a fresh SQLite file)")
    parser.add_argument("--keep", action="store_true", help="keep the working directory (database, allocation workbooks)")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="srdi-bench-funds-"))
    try:
        return run(args, workdir)
    finally:
        if args.keep:
            print(f"data kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def run(args, workdir: Path) -> int:
    engine = make_engine(args.url or f"sqlite:///{workdir / 'bench.db'}")
    SQLModel.metadata.create_all(engine)
    with engine.begin() as c:
        load_jurisdictions(c)
    per_province = args.enterprises // len(PROVINCES)

    started = time.perf_counter()
    seeded = {}
    for code, short in PROVINCES.items():
        with engine.begin() as c:
            seeded[code] = create_key_enterprises(c, code, per_province, name_prefix=f"{short}基准", county=_county(code),
                                                  valid_from=date(2021, 1, 1), valid_to=date(2023, 12, 31))
    seeding = time.perf_counter() - started

    started = time.perf_counter()
    for code, short in PROVINCES.items():
        failing = {e["uscc"] for e in seeded[code][::50]}      # 2% miss their targets
        plan_id, rows = approve_demo_plan(engine, code, short, seeded[code], _county(code))
        for index in (1, 2, 3):
            if index > 1:
                review_and_continue(engine, plan_id, rows, index - 1, failing)
            run_disbursement(engine, code, index, batch=1, out_dir=workdir, received_at=beijing_time(f"{2020 + index}-08-10"))
    first = time.perf_counter() - started
    with engine.connect() as c:
        payments = c.execute(select(func.count()).select_from(Payment)).scalar()

    started = time.perf_counter()
    created_again = sum(run_disbursement(engine, code, index, batch=1, out_dir=workdir).created
                        for code in PROVINCES for index in (1, 2, 3))
    second = time.perf_counter() - started

    key = per_province * len(PROVINCES)
    print(f"seeding {key} recognised enterprises: {seeding:.2f} s (not timed)")
    print(f"approval + 2 reviews + 3 tranches for {key} key enterprises in {len(PROVINCES)} provinces: "
          f"{first:.2f} s, {payments} payments ({payments / first:,.0f} payments/s)")
    print(f"second run of all {len(PROVINCES) * 3} disbursements: {second:.2f} s, created {created_again} payments")
    print(f"target ≤ {TARGET_SECONDS:.1f} s: {first / TARGET_SECONDS:.2f} of the budget — {'OK' if first <= TARGET_SECONDS else 'OVER'}")
    engine.dispose()
    return 0 if created_again == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
