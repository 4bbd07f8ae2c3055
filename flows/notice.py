"""公示 as Prefect flows: open the notices that are due, close the ones that have ended.

Each task is one transaction over a whole set (every call, every publishing jurisdiction), never a
task run per application. Both are idempotent: a second run finds nothing to do and writes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from prefect import flow, get_run_logger, task

from models.db import get_engine
from srdi.clock import clock
from tasks.notice import close_due_notices, open_due_notices, open_notice


@task(name="open-due-notices")
def open_due_notices_task(now: datetime) -> dict:
    """Open a notice for every call whose final level has closed with a recommended list."""
    with get_engine().begin() as connection:
        return open_due_notices(connection, now)


@task(name="close-due-notices")
def close_due_notices_task(now: datetime) -> dict:
    """Close every notice whose window has ended; recognise the entries without objection."""
    with get_engine().begin() as connection:
        return close_due_notices(connection, now)


@task(name="open-notice")
def open_notice_task(call_id: str, jurisdiction_code: Optional[str], username: Optional[str], now: datetime) -> list[int]:
    with get_engine().begin() as connection:
        return open_notice(connection, call_id, jurisdiction_code=jurisdiction_code, username=username, now=now)


@flow(name="notice-step", log_prints=True)
def notice_step() -> dict:
    """公示 step of `srdi pipeline advance`: open what is due, then close what has ended."""
    now = clock.now()
    result = {**open_due_notices_task(now), **close_due_notices_task(now)}
    get_run_logger().info("公示：开启 %s 个，期满 %s 个，认定 %s 家", result["notices_opened"],
                          result["notices_closed"], result["recognised"])
    return result


@flow(name="notice-open", log_prints=True)
def open_notice_flow(call_id: str, jurisdiction_code: Optional[str] = None, username: Optional[str] = None) -> list[int]:
    """Open the notice of one call (`srdi notice open`)."""
    return open_notice_task(call_id, jurisdiction_code, username, clock.now())
