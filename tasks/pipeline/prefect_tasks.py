"""Prefect tasks around the batch steps: one task run per step over a whole set of applications.

Each task calls a plain domain function and returns its summary. A due step isolates its calls
itself (tasks/pipeline/due.py) and never fails for one call; the retry declared here is for what a second
attempt can fix in the whole step (a busy or briefly unreachable database), never for a refusal
that will stand (a level that may not close yet).
"""

from __future__ import annotations

from datetime import datetime

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from sqlalchemy.exc import OperationalError

from models.db import get_engine
from models.errors import Conflict
from tasks.pipeline.due import run_due_step, step_named
from tasks.review.level_close import close_level

RETRY_DELAYS = [1, 5]


def transient(task_, task_run, state) -> bool:
    """Retry only what a second attempt can fix: a concurrent change (Conflict) or a busy database."""
    error = state.result(raise_on_failure=False)
    return isinstance(error, (Conflict, OperationalError))


@task(name="due-step", retries=2, retry_delay_seconds=RETRY_DELAYS, retry_condition_fn=transient,
      cache_policy=NO_CACHE, task_run_name="{name}")
def due_step_task(name: str, now: datetime) -> dict:
    """One due step of the pipeline (e.g. close-levels) over every call, each call in its own transaction."""
    summary = run_due_step(step_named(name), now)
    flat = {k: v for k, v in summary.items() if not isinstance(v, (dict, list))}
    logger = get_run_logger()
    logger.info("%s: %s", name, flat)
    for call_id, reason in (summary.get("blocked") or {}).items():
        logger.warning("%s 在批次 %s 受阻：%s", name, call_id, reason)
    return summary


@task(name="close-level", retries=2, retry_delay_seconds=RETRY_DELAYS, retry_condition_fn=transient,
      cache_policy=NO_CACHE, task_run_name="close-level {call_id} {level} {jurisdiction_code}")
def close_level_task(call_id: str, level: str, jurisdiction_code: str, now: datetime, closed_by: str = "system") -> dict:
    """Close one call × level × jurisdiction window (quota, forward, lapse/escalate) in one transaction."""
    with get_engine().begin() as connection:
        return close_level(connection, call_id, level, jurisdiction_code, now, closed_by)
