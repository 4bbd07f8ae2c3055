"""Prefect tasks around the batch steps: one task run per step over a whole set of applications.

Each task opens one transaction, calls a plain domain function ``(connection, now, …) -> dict`` and
returns its summary. A retry is declared for what can pass (another writer moved a row meanwhile,
a locked database), never for a refusal that will stand (a level that may not close yet).
"""

from __future__ import annotations

from datetime import datetime

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from sqlalchemy.exc import OperationalError

from models.db import get_engine
from models.errors import Conflict
from tasks.due import resolve, run_in_transaction
from tasks.levels import close_level

RETRY_DELAYS = [1, 5]


def transient(task_, task_run, state) -> bool:
    """Retry only what a second attempt can fix: a concurrent change (Conflict) or a busy database."""
    error = state.result(raise_on_failure=False)
    return isinstance(error, (Conflict, OperationalError))


@task(name="pipeline-step", retries=2, retry_delay_seconds=RETRY_DELAYS, retry_condition_fn=transient,
      cache_policy=NO_CACHE, task_run_name="{ref}")
def run_step(ref: str, now: datetime) -> dict:
    """One due step of ``srdi pipeline advance`` (e.g. tasks.levels:close_due_levels), one transaction."""
    summary = run_in_transaction(resolve(ref), now)
    get_run_logger().info("%s: %s", ref, {k: v for k, v in summary.items() if not isinstance(v, (dict, list))})
    return summary


@task(name="close-level", retries=2, retry_delay_seconds=RETRY_DELAYS, retry_condition_fn=transient,
      cache_policy=NO_CACHE, task_run_name="close-level {call_id} {level} {jurisdiction_code}")
def close_level_task(call_id: str, level: str, jurisdiction_code: str, now: datetime, closed_by: str = "system") -> dict:
    """Close one call × level × jurisdiction window (quota, forward, lapse/escalate) in one transaction."""
    with get_engine().begin() as connection:
        return close_level(connection, call_id, level, jurisdiction_code, now, closed_by)
