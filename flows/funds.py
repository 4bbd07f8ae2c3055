"""The disbursement run of one tranche for one province (按分配方案拨付), as a Prefect flow.

Reads like the procedure of 财建〔2021〕2号 三(四): the province receives the 指标发文, decides who is
paid from the annual review, pays each recipient once, and reports the 分配方案 within 30 days.
Three tasks, each on the whole recipient set; payment writing is retried because it is idempotent
(the database refuses a second payment per tranche and recipient) — unless the run lost its lease
(another run declared it dead and took over), when it must stop.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NONE

from models.clock import parse_instant
from models.db import get_engine
from tasks.funding.disbursement import LeaseLost, Prepared, finish, mark_failed, payment_rows, prepare, write_payments


@task(name="decide-tranche", cache_policy=NONE)
def decide(province_code: str, tranche_index: int, batch: Optional[int], received_at: Optional[str],
           doc_no: Optional[str]) -> Prepared:
    """Record receipt (starts the 30-day deadline), sort recipients by last year's review, check ≥90%."""
    return prepare(get_engine(), province_code, tranche_index, batch=batch,
                   received_at=parse_instant(received_at) if received_at else None, doc_no=doc_no, actor="prefect")


def _worth_retrying(task_, task_run, state) -> bool:
    """Retry a busy database or a dropped connection; never a run that another run has taken over."""
    return not isinstance(state.result(raise_on_failure=False), LeaseLost)


@task(name="write-payments", cache_policy=NONE, retries=2, retry_delay_seconds=5, retry_condition_fn=_worth_retrying)
def pay(prepared: Prepared) -> int:
    """One payment row per payable recipient, renewing the run's lease per chunk; a retry inserts only what is missing."""
    return write_payments(get_engine(), payment_rows(prepared.tranche.id, prepared.run_id, prepared.decision.payable),
                          run_id=prepared.run_id)


@task(name="write-allocation-plan", cache_policy=NONE)
def allocation_plan(prepared: Prepared, created: int, out_dir: Optional[str]) -> dict:
    """The 分配方案 workbook from the payment rows; the tranche is disbursed when no one waits."""
    return finish(get_engine(), prepared, created, Path(out_dir) if out_dir else None).as_dict()


@flow(name="funds-disbursement", log_prints=True)
def disburse_tranche(province_code: str, tranche_index: int, batch: Optional[int] = None,
                     received_at: Optional[str] = None, doc_no: Optional[str] = None,
                     out_dir: Optional[str] = None) -> dict:
    """Tranche ``tranche_index`` of a province's plan: safe to run again, to retry, or to resume."""
    logger = get_run_logger()
    prepared = decide(province_code, tranche_index, batch, received_at, doc_no)
    try:
        created = pay(prepared)
        result = allocation_plan(prepared, created, out_dir)
    except BaseException as exc:
        mark_failed(get_engine(), prepared.run_id, exc)
        raise
    logger.info("%s 第%s笔：新增拨付 %s 笔，共 %s 笔；停止支持 %s 个，待考核 %s 个；分配方案 %s",
                province_code, tranche_index, result["created"], result["payments"], len(result["stopped"]),
                len(result["pending"]), result["workbook"])
    return result
