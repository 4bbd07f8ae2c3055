"""Close one review level (层级办结) as a Prefect flow: one task over the whole window."""

from __future__ import annotations

from typing import Optional

from prefect import flow

from models.clock import clock, parse_instant
from tasks.pipeline.prefect_tasks import close_level_task


@flow(name="close-level", log_prints=True)
def close_level_flow(call_id: str, level: str, jurisdiction_code: str, closed_by: str = "system",
                     now: Optional[str] = None) -> dict:
    """Apply the level's quota, forward the chosen list up the route, lapse or escalate the undecided.

    ``now`` (ISO date-time) defaults to the srdi clock. Closing a closed window changes nothing.
    """
    at = parse_instant(now) if now else clock.now()
    return close_level_task(call_id, level, jurisdiction_code, at, closed_by)
