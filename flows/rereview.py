"""复核 and the recognition sweep as Prefect flows.

``open_rereview_flow`` opens a year's re-review call for a programme; ``recognition_sweep`` settles
re-reviews (absent / failed → revoked), deems unfiled name changes a waiver, and marks expired
titles — each a single set-based transaction, idempotent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from prefect import flow, get_run_logger, task

from models.db import get_engine
from srdi.clock import clock
from tasks.name_change import lapse_unfiled_name_changes
from tasks.recognition import expire_recognitions
from tasks.rereview import open_rereview, settle_rereviews


@task(name="open-rereview")
def open_rereview_task(programme_id: str, year: int, closes_at: datetime, username: Optional[str], now: datetime) -> dict:
    with get_engine().begin() as connection:
        return open_rereview(connection, programme_id, year, closes_at, username=username, now=now)


@task(name="settle-rereviews")
def settle_rereviews_task(now: datetime) -> dict:
    with get_engine().begin() as connection:
        return settle_rereviews(connection, now)


@task(name="lapse-unfiled-name-changes")
def lapse_name_changes_task(now: datetime) -> dict:
    with get_engine().begin() as connection:
        return lapse_unfiled_name_changes(connection, now)


@task(name="expire-recognitions")
def expire_recognitions_task(now: datetime) -> dict:
    with get_engine().begin() as connection:
        return expire_recognitions(connection, now)


@flow(name="rereview-open", log_prints=True)
def open_rereview_flow(programme_id: str, year: int, closes_at: datetime, username: Optional[str] = None) -> dict:
    """Open the re-review (复核) of ``year`` for the cohort of ``programme_id``."""
    result = open_rereview_task(programme_id, year, closes_at, username, clock.now())
    get_run_logger().info("复核：批次 %s，名单 %s 家", result["call_id"], result["cases_opened"])
    return result


@flow(name="recognition-sweep", log_prints=True)
def recognition_sweep() -> dict:
    """Settle re-reviews, then unfiled name changes, then expiry (in that order: a re-review decided
    today is settled before the title it concerns could expire)."""
    now = clock.now()
    return {**settle_rereviews_task(now), **lapse_name_changes_task(now), **expire_recognitions_task(now)}
