"""`srdi pipeline advance`: run every step that is due at the clock's now, for every open call.

``DUE_STEPS`` (tasks/due.py, re-exported here) is the ordered list of batch steps, each
``(connection, now) -> summary dict`` acting on every open call at once; the flow runs each as ONE
task (one transaction), in order, all with the same ``now``. Other components add their steps with
``register_step``. Every step is idempotent, so running the flow twice leaves the database as one
run does.
"""

from __future__ import annotations

from typing import Optional

from prefect import flow

from srdi.clock import clock, parse_instant
from tasks.due import DUE_STEPS, register_step, run_due_steps, step_ref
from tasks.steps import run_step

__all__ = ["DUE_STEPS", "advance_flow", "register_step", "run_due_steps"]


@flow(name="pipeline-advance", log_prints=True)
def advance_flow(now: Optional[str] = None) -> dict:
    """Run each due step (``DUE_STEPS``) as one task; ``now`` (ISO date-time) defaults to the srdi clock."""
    at = parse_instant(now) if now else clock.now()
    return {step_ref(step): run_step(step_ref(step), at) for step in DUE_STEPS}
