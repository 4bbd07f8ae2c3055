"""The pipeline advance (推进评审流程): run every step that is due at the clock's now, for every call.

The one path for the due steps: `srdi pipeline advance`, the embedded scheduler of `srdi serve`
(job ``pipeline-advance``) and the prefect.yaml deployment all run this flow. Each step of
``DUE_STEPS`` (tasks/pipeline/due.py) is one task run, in order, all with the same ``now``; inside a step
every call has its own transaction, so a call that cannot proceed is reported as blocked (in the
result, in ``srdi status`` and by one mail to its bureau) while every other call proceeds. Every
step is idempotent, so running the flow twice leaves the database as one run does.
"""

from __future__ import annotations

from typing import Optional

from prefect import flow

from models.clock import clock, parse_instant
from tasks.pipeline.due import DUE_STEPS
from tasks.pipeline.prefect_tasks import due_step_task


@flow(name="pipeline-advance", log_prints=True)
def advance_flow(now: Optional[str] = None) -> dict:
    """Each due step as one task; ``now`` (ISO date-time) defaults to the srdi clock.

    Returns step ref (``module:function``) → the step's summary; a summary's ``blocked`` maps each
    call that could not proceed to the reason.
    """
    at = parse_instant(now) if now else clock.now()
    return {step.ref: due_step_task(step.name, at) for step in DUE_STEPS}
