"""The scheduled disbursement run (按期拨付): every tranche whose 计划下达日 has come, paid on schedule.

Run each statutory working day by the embedded scheduler (job ``funds-disbursement``) or by the
prefect.yaml deployment. Each due tranche goes through the same flow as `srdi funds disburse`
(flows/funds.py ``disburse_tranche``), as a subflow; a tranche that cannot be paid (no approved
plan, a failed 90% check, missing reviews…) is recorded as blocked with its reason and its
province's bureaus are told once, while every other tranche proceeds. A tranche still waiting for
performance reviews stays due and is taken again the next day.
"""

from __future__ import annotations

from typing import Optional

from prefect import flow, get_run_logger

from flows.funds import disburse_tranche
from models.calendar import statutory_calendar
from models.clock import clock
from models.db import get_engine
from tasks.funding.tranches import due_tranches
from tasks.pipeline.blocks import clear_block, record_block
from tasks.pipeline.due import describe

STEP = "disburse-tranche"
LABEL = "按期拨付"


@flow(name="funds-disbursement-schedule", log_prints=True)
def disburse_due_tranches(out_dir: Optional[str] = None) -> dict:
    """On a statutory working day, run the disbursement of every due tranche; report the blocked ones."""
    logger = get_run_logger()
    today = clock.today()
    if not statutory_calendar().is_workday(today):
        return {"today": today.isoformat(), "skipped": "non-working day"}
    engine = get_engine()
    with engine.connect() as connection:
        due = due_tranches(connection, today)
    paid, blocked = {}, {}
    for tranche in due:
        subject = f"tranche:{tranche.id}"
        try:
            result = disburse_tranche(tranche.province_code, tranche.tranche_index, tranche.batch, out_dir=out_dir)
        except Exception as exc:  # noqa: BLE001 — one tranche's refusal must not stop the others
            blocked[subject] = describe(exc)
            with engine.begin() as connection:
                record_block(connection, subject, STEP, LABEL, blocked[subject], clock.now(),
                             jurisdiction_code=tranche.province_code, title=f"{tranche.title} {tranche.label}")
            continue
        with engine.begin() as connection:
            clear_block(connection, subject, STEP, clock.now())
        paid[subject] = {"created": result["created"], "payments": result["payments"], "pending": len(result["pending"])}
    logger.info("按期拨付：到期 %s 笔资金，完成 %s，受阻 %s", len(due), len(paid), len(blocked))
    return {"today": today.isoformat(), "due": len(due), "tranches": paid, "blocked": blocked}
