"""The due steps of the pipeline (到期步骤), in order, and the one function that runs a step.

``DUE_STEPS`` is the single list. `srdi pipeline advance`, the embedded scheduler of `srdi serve`
and the prefect.yaml deployment all run it through the same flow (flows/advance.py), one task per
step. ``run_due_step`` gives every call its own transaction: a call that cannot proceed (a year
without a holiday schedule, a broken profile, bad data) is recorded as blocked with its reason
(tasks/pipeline/blocks.py) and every other call proceeds. A step that is not about one call (re-review
settlement, expiry…) runs in one transaction and is isolated the same way.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Optional

from sqlalchemy import select, union
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

from models.db import get_engine
from models.errors import Conflict, SrdiError
from models.notice import Notice, NoticeStatus
from models.programme import Call
from tasks.notice.publication import close_due_notices, open_due_notices
from tasks.pipeline.blocks import clear_block, record_block
from tasks.recognition.name_change import lapse_unfiled_name_changes
from tasks.recognition.rereview import settle_rereviews
from tasks.recognition.titles import expire_recognitions
from tasks.review.level_close import close_due_levels

log = logging.getLogger("srdi.due")
TRANSIENT = (Conflict, OperationalError)
RETRY_DELAYS = (0.5, 2.0)
REASON_LIMIT = 500


def open_call_ids(connection: Connection, now: datetime) -> list[str]:
    return list(connection.execute(select(Call.id).where(Call.status == "open").order_by(Call.id)).scalars())


def calls_with_due_notices(connection: Connection, now: datetime) -> list[str]:
    due = select(Notice.call_id).where(Notice.status == NoticeStatus.open, Notice.closes_at <= now)
    return sorted(connection.execute(union(due, select(Call.id).where(Call.status == "open"))).scalars())


@dataclass(frozen=True)
class DueStep:
    name: str                                   # stable id: blocked rows and task runs carry it
    label: str                                  # what a clerk reads
    run: Callable[..., dict]                    # (connection, now[, calls=[id]]) -> summary
    calls: Optional[Callable[[Connection, datetime], list[str]]] = None   # None: one run over everything

    @property
    def ref(self) -> str:
        """``module:function`` — the key of this step's summary in an advance result."""
        return f"{self.run.__module__}:{self.run.__qualname__}"


DUE_STEPS: tuple[DueStep, ...] = (
    DueStep("close-levels", "层级办结（名额择优、报送上级、逾期处理）", close_due_levels, open_call_ids),
    DueStep("open-notices", "开启公示", open_due_notices, open_call_ids),
    DueStep("close-notices", "公示期满认定", close_due_notices, calls_with_due_notices),
    DueStep("settle-rereviews", "复核结论（未申请、不合格撤销）", settle_rereviews),
    DueStep("lapse-name-changes", "更名逾期未报备", lapse_unfiled_name_changes),
    DueStep("expire-recognitions", "认定期满", expire_recognitions),
)
STEPS_BY_NAME = {step.name: step for step in DUE_STEPS}


def step_named(name: str) -> DueStep:
    try:
        return STEPS_BY_NAME[name]
    except KeyError:
        raise SrdiError(f"没有名为 {name} 的到期步骤；应为 {'、'.join(STEPS_BY_NAME)} 之一") from None


def describe(error: BaseException) -> str:
    """The reason a clerk reads: a domain refusal as it is, anything else with its type."""
    text = str(error) if isinstance(error, SrdiError) else f"{type(error).__name__}: {error}"
    return " ".join(text.split())[:REASON_LIMIT]


def merge(total: dict, part: dict) -> dict:
    """Add one call's summary into the step's: counts add up, per-call maps merge."""
    for key, value in part.items():
        if isinstance(value, bool) or not isinstance(value, (int, dict)):
            total[key] = value
        elif isinstance(value, int):
            total[key] = total.get(key, 0) + value
        else:
            total.setdefault(key, {}).update(value)
    return total


def _isolated(engine: Engine, step: DueStep, call_id: Optional[str], now: datetime) -> dict:
    """One call's part of a step in its own transaction; a failure is recorded, never raised."""
    error: BaseException | None = None
    for attempt in range(len(RETRY_DELAYS) + 1):
        try:
            with engine.begin() as connection:
                summary = step.run(connection, now, calls=[call_id]) if call_id else step.run(connection, now)
                clear_block(connection, call_id, step.name, now)
            return summary
        except TRANSIENT as exc:           # another writer, a busy database: worth another try
            error = exc
            if attempt < len(RETRY_DELAYS):
                time.sleep(RETRY_DELAYS[attempt])
        except Exception as exc:           # noqa: BLE001 — the blast radius is one call
            error = exc
            break
    reason = describe(error)
    log.warning("到期步骤 %s 在批次 %s 受阻：%s", step.name, call_id or "（全部）", reason, exc_info=error)
    with engine.begin() as connection:
        record_block(connection, call_id, step.name, step.label, reason, now)
    return {"blocked": {call_id or "*": reason}}


def run_due_step(step: DueStep, now: datetime, engine: Optional[Engine] = None) -> dict:
    """Run one due step at ``now``: per call in its own transaction, or once over everything."""
    engine = engine or get_engine()
    if step.calls is None:
        return _isolated(engine, step, None, now)
    with engine.connect() as connection:
        call_ids = step.calls(connection, now)
    summary: dict = {}
    for call_id in call_ids:
        merge(summary, _isolated(engine, step, call_id, now))
    return summary


def blocked_of(result: dict) -> dict[str, dict[str, str]]:
    """From an advance result: step ref → {call id → reason} for every blocked call."""
    return {ref: summary["blocked"] for ref, summary in result.items()
            if isinstance(summary, dict) and summary.get("blocked")}
