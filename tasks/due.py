"""The due steps of `srdi pipeline advance`, in order, and how to call one (no Prefect here).

Each step is a batch function ``(connection, now) -> summary dict`` acting on every open call at
once. ``flows/advance.py`` runs each as one Prefect task; ``run_due_steps`` calls them directly.
Other components add their steps with ``register_step`` (e.g. the 公示 steps after the level
close, so a final list closed this morning goes on notice in the same run).
"""

from __future__ import annotations

import importlib
from datetime import datetime
from typing import Callable, Optional

from models.db import get_engine
from tasks.levels import close_due_levels
from tasks.name_change import lapse_unfiled_name_changes
from tasks.notice import close_due_notices, open_due_notices
from tasks.recognition import expire_recognitions
from tasks.rereview import settle_rereviews

Step = Callable[..., dict]

DUE_STEPS: list[Step] = [
    close_due_levels,        # 层级办结: quota, forward, lapse/escalate (tasks/levels.py)
    open_due_notices,        # 公示: open the notice of every final list that has closed (tasks/notice.py)
    close_due_notices,       # 公示期满: recognise entries without open/upheld objection (tasks/notice.py)
    settle_rereviews,        # 复核: absent after the deadline / failed → revoked (tasks/rereview.py)
    lapse_unfiled_name_changes,  # 更名逾期未备案 → deemed waiver of the title (tasks/name_change.py)
    expire_recognitions,     # 认定期满 (tasks/recognition.py)
]


def register_step(step: Step, after: Optional[Step] = None) -> None:
    """Add a due step once, at the end or right after ``after``."""
    if step in DUE_STEPS:
        return
    DUE_STEPS.insert(DUE_STEPS.index(after) + 1 if after in DUE_STEPS else len(DUE_STEPS), step)


def step_ref(step: Step) -> str:
    """``module:function`` — how a step is named in task runs and summaries."""
    return f"{step.__module__}:{step.__qualname__}"


def resolve(ref: str) -> Step:
    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)


def run_in_transaction(step: Step, now: datetime) -> dict:
    """Call a due step in one transaction of the configured database."""
    with get_engine().begin() as connection:
        return step(connection, now)


def run_due_steps(now: datetime) -> dict:
    """Every due step in order, each in its own transaction, all with the same ``now``."""
    return {step_ref(step): run_in_transaction(step, now) for step in DUE_STEPS}
