"""`srdi funds run` killed with SIGKILL again and again at random moments (starting up, preparing,
between and inside payment chunks, writing the workbook), then run to the end: every recipient is
paid exactly once and the payments add up to the tranche, to the 0.0001 万元."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from models.funding import DisbursementRun, Payment, RunStatus
from srdi.demo.funding_round import approve_demo_plan
from srdi.demo.funding_seed import create_key_enterprises
from tests.funding.conftest import BEIJING

ROOT = Path(__file__).resolve().parents[2]
SRDI = [sys.executable, "-c", "import sys; from srdi.cli.main import run; sys.exit(run())"]
RECIPIENTS = 5000          # + two platforms; ten chunks of 500 payments


def _paid(engine) -> int:
    with engine.connect() as c:
        return c.execute(select(func.count()).select_from(Payment)).scalar()


def test_a_disbursement_killed_again_and_again_then_run_to_the_end_pays_everyone_exactly_once(engine, clock, tmp_path):
    with engine.begin() as c:
        ents = create_key_enterprises(c, BEIJING, RECIPIENTS, name_prefix="拨付中断", county="110101",
                                      valid_from=date(2021, 1, 1), valid_to=date(2023, 12, 31))
    approve_demo_plan(engine, BEIJING, "北京", ents, "110101")
    command = SRDI + ["funds", "run", "--province", BEIJING, "--tranche", "1", "--batch", "1",
                      "--received", "2021-08-10T10:00", "--out", str(tmp_path / "plans"), "--json"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    rng = random.Random(20210810)
    kills, progress = 0, []
    for round_no in range(12):
        if kills >= 5:
            break
        child = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        started, before = time.monotonic(), _paid(engine)
        if round_no % 3 == 0:                        # a random moment of the whole run: start-up, prepare, the first chunks
            while child.poll() is None and time.monotonic() - started < rng.uniform(0.3, 2.5):
                time.sleep(0.01)
        else:                                        # just after a chunk, or inside the next one
            while child.poll() is None and _paid(engine) == before and time.monotonic() - started < 30:
                time.sleep(0.002)
            time.sleep(rng.uniform(0, 0.03))
        if child.poll() is not None:                 # it finished first: the loop is over
            child.stderr.close()
            break
        child.kill()
        child.wait()
        child.stderr.close()
        kills += 1
        progress.append(_paid(engine))
    final = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert final.returncode == 0, final.stdout + final.stderr
    outcome = json.loads(final.stdout)
    print(f"\n{kills} kills, payments after each: {progress}; final run created {outcome['created']}")
    assert kills >= 5 and 0 < progress[-1] < RECIPIENTS + 2           # the kills landed while paying

    with engine.connect() as c:
        recipients = c.execute(select(func.count(), func.count(Payment.recipient_id.distinct()), func.sum(Payment.amount_wan))
                               .select_from(Payment)).one()
        runs = c.execute(select(DisbursementRun.status, func.count()).group_by(DisbursementRun.status)).all()
    payments, distinct, total = recipients
    assert payments == distinct == outcome["payable"] == outcome["payments"] == RECIPIENTS + 2   # none twice, none missing
    expected = Decimal(str(outcome["amount_wan"])).quantize(Decimal("0.0001"))
    assert Decimal(str(total)).quantize(Decimal("0.0001")) == expected
    assert dict(runs)[RunStatus.completed] == 1 and RunStatus.running not in dict(runs)
