"""What the demo's bureaus and the clock do between their decisions: advance the pipeline through the
real Prefect flow, read the level windows, and find each application's reason for ineligibility."""

from __future__ import annotations

from contextlib import ExitStack
from datetime import datetime
from decimal import Decimal
from typing import Callable, Iterable

from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine

from models.application import Application
from models.clock import clock, local
from models.eligibility import EligibilityVerdict
from models.enums import ApplicationStatus
from models.review import LevelWindow
from tasks.review.decisions import DecisionItem, decide_many

Echo = Callable[[str], None]


class Pipeline:
    """`srdi pipeline advance` as a real Prefect flow on a temporary local server, heartbeats off."""

    def __init__(self, echo: Echo):
        self.echo = echo
        self.stack = ExitStack()
        self.runs = 0

    def __enter__(self) -> "Pipeline":
        from prefect.settings import temporary_settings

        self.stack.enter_context(temporary_settings(updates={"flows.heartbeat_frequency": None}))
        return self

    def __exit__(self, *exc) -> None:
        self.stack.close()

    def advance(self, label: str) -> dict:
        from flows.advance import advance_flow

        result = advance_flow(clock.now().isoformat())
        self.runs += 1
        levels = result.get("tasks.review.level_close:close_due_levels", {})
        notices = (result.get("tasks.notice.publication:open_due_notices", {}).get("notices_opened", 0),
                   result.get("tasks.notice.publication:close_due_notices", {}))
        parts = []
        for call_id, tally in (levels.get("calls") or {}).items():
            done = {k: v for k, v in tally.items() if k in ("closed", "forwarded", "escalated", "lapsed", "quota_cut", "kept") and v}
            if done:
                parts.append(f"{call_id} {done}")
        if notices[0]:
            parts.append(f"开启公示 {notices[0]} 个")
        if notices[1].get("notices_closed"):
            parts.append(f"公示期满 {notices[1]['notices_closed']} 个，认定 {notices[1]['recognised']} 家")
        self.echo(f"  [{local(clock.now()):%Y-%m-%d %H:%M}] pipeline advance（{label}）：{'；'.join(parts) or '无到期事项'}")
        return result


def windows(connection: Connection, call_id: str, level: str) -> dict[str, LevelWindow]:
    rows = connection.execute(select(LevelWindow).where(LevelWindow.call_id == call_id, LevelWindow.level == level))
    return {r.jurisdiction_code: LevelWindow.model_validate(r._mapping) for r in rows}


def pending(connection: Connection, call_id: str, level: str, desk: str) -> list:
    return connection.execute(
        select(Application.id, Application.ref, Application.eligible, Application.jurisdiction_code, Application.category)
        .where(Application.call_id == call_id, Application.level == level, Application.review_jurisdiction_code == desk,
               Application.status == ApplicationStatus.pending).order_by(Application.id)).all()


def ineligibility_reasons(connection: Connection, ids: Iterable[int]) -> dict[int, str]:
    """The first unmet criterion (or exclusion) of each application, as the engine wrote it."""
    ids = list(ids)
    reasons: dict[int, str] = {}
    for start in range(0, len(ids), 500):
        rows = connection.execute(
            select(EligibilityVerdict.application_id, EligibilityVerdict.message)
            .where(EligibilityVerdict.application_id.in_(ids[start:start + 500]), EligibilityVerdict.passed.is_(False),
                   EligibilityVerdict.kind.in_(("criterion", "exclusion")))
            .order_by(EligibilityVerdict.id))
        for app_id, message in rows:
            reasons.setdefault(app_id, message)
    return reasons


def score_of(app_id: int, base: int = 70) -> Decimal:
    """A reviewer's score (评分), spread deterministically over 70–99."""
    return Decimal(base + (app_id * 37) % (100 - base)) + Decimal((app_id * 13) % 100) / 100


def judge_desk(engine: Engine, call_id: str, level: str, desk: str, reviewer: str, *, hold: set[int] = frozenset(),
               extra_reject: dict[int, str] | None = None, now: datetime | None = None) -> dict[str, int]:
    """A reviewer decides everything pending at the desk on its merits: eligible → recommend with a
    score, ineligible or undetermined → reject with the engine's reason. ``hold`` is left undecided."""
    extra_reject = extra_reject or {}
    with engine.begin() as connection:
        rows = [r for r in pending(connection, call_id, level, desk) if r.id not in hold]
        reasons = ineligibility_reasons(connection, [r.id for r in rows if not r.eligible])
        items = []
        for row in rows:
            if row.id in extra_reject:
                items.append(DecisionItem(row.id, "reject", extra_reject[row.id]))
            elif row.eligible:
                items.append(DecisionItem(row.id, "recommend", score=score_of(row.id)))
            elif row.eligible is None:
                items.append(DecisionItem(row.id, "reject", "资格条件无法判定（缺少数据），申报材料不全"))
            else:
                items.append(DecisionItem(row.id, "reject", f"不符合申报条件：{reasons.get(row.id, '资格审查未通过')}"))
        decide_many(connection, items, reviewer, now=now)
    counts = {"recommend": 0, "reject": 0}
    for item in items:
        counts[str(item.decision)] += 1
    return counts
