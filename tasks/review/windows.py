"""Level windows: open them set-wise with their deadline, and register it in the deadline registry."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Iterable

from sqlalchemy import select
from sqlalchemy.engine import Connection

from models.errors import RuleViolation
from models.id_list import in_list
from models.profile import Level
from models.programme import Call
from models.review import LevelWindow, window_deadline_key
from tasks.reference.routing import Tree
from tasks.reminders.deadlines import register_deadlines
from tasks.review.moves import chunks as chunks_of

LATE_EPSILON = timedelta(microseconds=1)


def level_due(step: Level, call: Call, level_opens: datetime) -> tuple[datetime, datetime]:
    """(due_at, late_from) of ``step`` for a window whose level opened for review at ``level_opens``.

    ``due_at`` is the cut-off the profile names; an act is late from ``late_from`` on: the cut-off
    itself when it is exclusive ("8:00前"), the instant after it otherwise.
    """
    rule = step.deadline
    event_at = {"call_opens": call.opens_at, "call_closes": call.closes_at, "level_opens": level_opens}.get(rule.event or "")
    if rule.kind == "after_event" and event_at is None:
        raise RuleViolation(f"批次 {call.id} 未设申报截止时间，无法计算{step.level.label}级审核截止（规则以 call_closes 起算）")
    due = rule.due_at(call.year, event_at=event_at)
    return due, due if rule.exclusive else due + LATE_EPSILON


def deadline_title(call: Call, step: Level, jurisdiction_name: str) -> str:
    return f"{call.name}：{jurisdiction_name}{step.label}截止"


def entry_level_opens(call: Call) -> datetime:
    """When the route's entry level opens for review: at 申报截止 if the call has one, else when it opens.

    Applications arrive at the entry level throughout the intake; a deadline "N days after the level
    opens" is counted from the end of the intake, so no county's review ends before applying does.
    """
    return call.closes_at or call.opens_at


def open_windows(
    connection: Connection, call: Call, step: Level, codes: Iterable[str], opens_at: datetime, tree: Tree,
    level_opens: datetime | None = None,
) -> list[str]:
    """Open the windows of ``step`` for every code that has none yet; returns the codes opened.

    ``level_opens`` (default ``opens_at``) is the event a ``level_opens`` deadline counts from.
    A window that exists (open or closed) is left as it is, so re-running opens nothing.
    """
    wanted = sorted(set(codes))
    if not wanted:
        return []
    existing: set[str] = set()
    for chunk in chunks_of(wanted):
        existing.update(connection.execute(
            select(LevelWindow.jurisdiction_code).where(
                LevelWindow.call_id == call.id, LevelWindow.level == step.level, in_list(LevelWindow.jurisdiction_code, "codes", text=True))
        , {"codes": chunk}).scalars())
    new = [code for code in wanted if code not in existing]
    if not new:
        return []
    due, late_from = level_due(step, call, level_opens or opens_at)
    connection.execute(LevelWindow.__table__.insert(), [
        {"call_id": call.id, "level": step.level, "jurisdiction_code": code, "opens_at": opens_at,
         "due_at": due, "late_from": late_from, "outcome": {}}
        for code in new
    ])
    register_deadlines(connection, [
        {"key": window_deadline_key(call.id, step.level, code), "kind": "level_decision",
         "title": deadline_title(call, step, tree.name(code)), "due_at": due, "jurisdiction_code": code,
         "call_id": call.id, "subject": f"level:{step.level.value}"}
        for code in new
    ])
    return new
