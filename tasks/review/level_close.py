"""Level close (审核层级办结): call × level × jurisdiction, set-wise and exactly once.

A window closes when its deadline has passed or every application in it is decided, and never
before every lower level of the call inside its jurisdiction has closed (so nothing can arrive at a
closed level) nor, when closing early, before the call stops taking applications. Closing:

1. applies the level's quota (择优, tasks/review/quota.py) to the recommended applications — the excess
   becomes ``quota_cut``;
2. treats the undecided per the profile's ``on_missed``: ``lapse`` → ``lapsed`` (逾期视同未申报),
   ``escalate`` → forwarded like the recommended ones, the lateness written in the transition's
   reason; an application returned for revision and never resubmitted lapses either way;
3. forwards the chosen set to the next level of the route at the applicants' reviewing jurisdiction
   there (pending, score cleared — each level scores for itself) and opens those windows;
4. at the route's final level the chosen set stays ``recommended`` there: the 公示 step takes it on.
   A final level with ``on_missed: escalate`` has no one above it, so it waits for its decisions
   (which are then accepted late, marked as such) instead of closing at the deadline.

Every change is one guarded UPDATE per batch plus one transition row per application; the window
row records who closed it, why, and the counts; its deadline registry entry becomes met or missed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Optional

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.engine import Connection, Row

from models.application import Application
from models.clock import clock, local
from models.deadline import DeadlineState
from models.enums import ApplicationStatus, ReviewLevel
from models.errors import Conflict, RuleViolation
from models.id_list import in_list
from models.jurisdiction import Jurisdiction
from models.review import LevelWindow, window_deadline_key
from tasks.people.actors import Actor, bureau_actor
from tasks.reference.calls import CallContext, call_context, open_calls
from tasks.reference.routing import Tree, next_level
from tasks.reminders.deadlines import close_deadlines
from tasks.review.level_moves import Move, apply_moves
from tasks.review.moves import chunks
from tasks.review.quota import Candidate, select_by_quota
from tasks.review.windows import open_windows

UNDECIDED = (ApplicationStatus.pending, ApplicationStatus.returned)
OPEN_STATUSES = (ApplicationStatus.pending, ApplicationStatus.returned, ApplicationStatus.recommended)
WAITING_EXAMPLES = 10


@dataclass
class OpenWindow:
    window: Row          # a level_window row
    path: str
    undecided: int = 0


@dataclass
class Tally:
    closed: int = 0
    forwarded: int = 0
    escalated: int = 0
    lapsed: int = 0
    quota_cut: int = 0
    kept: int = 0
    over_soft_quota: int = 0
    windows_opened: int = 0
    waiting: int = 0                                         # windows that may not close yet
    waiting_examples: dict[str, str] = field(default_factory=dict)   # "level:code" → why (the first few)

    def wait(self, where: str, why: str) -> None:
        self.waiting += 1
        if len(self.waiting_examples) < WAITING_EXAMPLES:
            self.waiting_examples[where] = why

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items()}


def _open_windows(connection: Connection, call_id: str) -> list[OpenWindow]:
    table = LevelWindow.__table__
    rows = connection.execute(
        select(table, Jurisdiction.path).join(Jurisdiction, Jurisdiction.code == table.c.jurisdiction_code)
        .where(table.c.call_id == call_id, table.c.closed_at.is_(None)))
    found = {(r.level, r.jurisdiction_code): OpenWindow(r, r.path) for r in rows}   # rows, not models: thousands per call
    counts = connection.execute(
        select(Application.level, Application.review_jurisdiction_code, func.count())
        .where(Application.call_id == call_id, Application.status.in_(UNDECIDED))
        .group_by(Application.level, Application.review_jurisdiction_code))
    for level, code, n in counts:
        if (level, code) in found:
            found[(level, code)].undecided = n
    return list(found.values())


def open_children(context: CallContext, windows: list[OpenWindow]) -> Callable[[OpenWindow], int]:
    """A counter of the open lower-level windows inside each window's jurisdiction (itself included).

    Built once per call: every open window counts for each prefix of its jurisdiction path.
    """
    order = [s.level for s in context.levels]
    counts: Counter = Counter()
    for item in windows:
        parts, rank = item.path.split("/"), order.index(item.window.level)
        for depth in range(1, len(parts) + 1):
            counts[("/".join(parts[:depth]), rank)] += 1
    return lambda item: sum(counts[(item.path, rank)] for rank in range(order.index(item.window.level)))


def why_not_closable(context: CallContext, item: OpenWindow, children: int, now: datetime) -> Optional[str]:
    """None when the window may close now, else the reason in Chinese."""
    window = item.window
    if children:
        return f"下级尚有 {children} 个审核未结束"
    due = f"{local(window.due_at):%Y-%m-%d %H:%M}"
    if now < window.late_from:
        if item.undecided:
            return f"尚有 {item.undecided} 件未办结，截止时间 {due}"
        closes_at = context.call.closes_at
        if closes_at is not None and now <= closes_at:
            return f"批次仍在受理申报（至 {local(closes_at):%Y-%m-%d %H:%M}）"
        return None
    step = context.step(window.level)
    if item.undecided and step.level == context.final.level and step.on_missed == "escalate":
        return f"终审层级已逾期（截止 {due}），尚有 {item.undecided} 件待办理，须办结后结束"
    return None


_WHERE = (Application.call_id == bindparam("call_id"), Application.level == bindparam("level", type_=Application.level.type),
          in_list(Application.review_jurisdiction_code, "codes", text=True), Application.status.in_(OPEN_STATUSES))
# what a close needs of each application; the quota's ranking also reads score, submission time, category and ref
_CANDIDATES = select(Application.id, Application.status, Application.jurisdiction_code,
                     Application.review_jurisdiction_code).where(*_WHERE)
_RANKED = select(Application.id, Application.status, Application.jurisdiction_code, Application.review_jurisdiction_code,
                 Application.ref, Application.score, Application.submitted_at, Application.category).where(*_WHERE)


def _candidates(connection: Connection, call_id: str, level: ReviewLevel, codes: list[str], ranked: bool) -> list:
    rows = []
    for chunk in chunks(codes, 5000):
        rows += connection.execute(_RANKED if ranked else _CANDIDATES, {"call_id": call_id, "level": level, "codes": chunk}).all()
    return rows


def _plan(context: CallContext, windows: list[LevelWindow], rows: list, now: datetime, tree: Tree, tally: Tally):
    """Decide every application's fate: (moves, outcomes per window id)."""
    step = context.step(windows[0].level)
    after = next_level(context.levels, step.level)
    escalates = step.on_missed == "escalate" and after is not None
    by_code: dict[str, list] = {}
    for row in rows:
        by_code.setdefault(row.review_jurisdiction_code, []).append(row)
    moves, outcomes = [], {}
    for window in windows:
        counts = dict.fromkeys(("forwarded", "escalated", "lapsed", "quota_cut", "kept", "over_soft_quota"), 0)
        due = f"{local(window.due_at):%Y-%m-%d %H:%M}"
        place = f"{tree.name(window.jurisdiction_code)}{step.label}"
        lapse_reason = {ApplicationStatus.returned: f"退回修改后逾期未重新提交，视同未申报（{place}截止 {due}）"}
        lapse_other = f"逾期未审核，视同未申报（{place}截止 {due}）"
        window_rows = by_code.get(window.jurisdiction_code, [])
        recommended, escalated = [], []
        for row in window_rows:
            if row.status == ApplicationStatus.recommended:
                recommended.append(row)
            elif row.status == ApplicationStatus.pending and escalates:
                escalated.append(row)
            else:
                moves.append(Move(row, ApplicationStatus.lapsed, step.level, row.review_jurisdiction_code, "lapse",
                                  lapse_reason.get(row.status, lapse_other)))
                counts["lapsed"] += 1
        counts["undecided_at_close"] = len(window_rows) - len(recommended)
        if step.quota is not None:
            recommended, escalated = _apply_quota(step, window, recommended, escalated, tree, moves, counts)
        if after is None:
            counts["kept"] += len(recommended) + len(escalated)
        else:
            for row in recommended:
                moves.append(Move(row, ApplicationStatus.pending, after.level, tree.reviewer_at(row.jurisdiction_code, after.level),
                                  "forward", None))
            late = f"{place}逾期未审核（截止 {due}），按规定报送上级"
            for row in escalated:
                moves.append(Move(row, ApplicationStatus.pending, after.level, tree.reviewer_at(row.jurisdiction_code, after.level),
                                  "escalate", late))
            counts["forwarded"] += len(recommended)
            counts["escalated"] += len(escalated)
        outcomes[window.id] = counts
        for key in ("forwarded", "escalated", "lapsed", "quota_cut", "kept", "over_soft_quota"):
            setattr(tally, key, getattr(tally, key) + counts[key])
    return moves, outcomes


def _apply_quota(step, window, recommended: list, escalated: list, tree: Tree, moves: list, counts: dict) -> tuple[list, list]:
    """The level's quota (择优) over one window's candidates: the cut become moves; (recommended, escalated) taken."""
    candidates = [Candidate(r.id, r.ref, r.score, r.submitted_at, r.category, r.jurisdiction_code) for r in recommended]
    candidates += [Candidate(r.id, r.ref, r.score, r.submitted_at, r.category, r.jurisdiction_code, True) for r in escalated]
    selection = select_by_quota(candidates, step.quota, window.jurisdiction_code, tree, step.level.label)
    by_id = {row.id: row for row in (*recommended, *escalated)}
    for app_id, reason in selection.cut.items():
        moves.append(Move(by_id[app_id], ApplicationStatus.quota_cut, step.level, by_id[app_id].review_jurisdiction_code,
                          "quota_cut", reason))
    counts["quota_cut"] = len(selection.cut)
    counts["over_soft_quota"] = len(selection.over_soft_quota)
    return ([by_id[c.id] for c in selection.taken if not c.escalated], [by_id[c.id] for c in selection.taken if c.escalated])


CLOSE_AT_ONCE = 20_000     # applications planned and moved at a time: memory stays flat however large the level


def close_windows(connection: Connection, context: CallContext, windows: list[LevelWindow], now: datetime,
                  tree: Tree, closed_by: str = "system", tally: Optional[Tally] = None) -> Tally:
    """Close ``windows`` (all of one level of one call), a group of windows at a time, in the caller's transaction."""
    tally = tally or Tally()
    for group in _groups(connection, context.call.id, windows):
        _close_group(connection, context, group, now, tree, closed_by, tally)
    return tally


def _groups(connection: Connection, call_id: str, windows: list[LevelWindow]) -> list[list[LevelWindow]]:
    """The windows in groups of about ``CLOSE_AT_ONCE`` open applications (a window is never split: its quota ranks it whole)."""
    if not windows:
        return []
    sizes = dict(connection.execute(
        select(Application.review_jurisdiction_code, func.count())
        .where(Application.call_id == call_id, Application.level == windows[0].level, Application.status.in_(OPEN_STATUSES))
        .group_by(Application.review_jurisdiction_code)).all())
    groups, group, size = [], [], 0
    for window in windows:
        if group and size + sizes.get(window.jurisdiction_code, 0) > CLOSE_AT_ONCE:
            groups.append(group)
            group, size = [], 0
        group.append(window)
        size += sizes.get(window.jurisdiction_code, 0)
    return groups + [group]


def _close_group(connection: Connection, context: CallContext, windows: list[LevelWindow], now: datetime,
                 tree: Tree, closed_by: str, tally: Tally) -> None:
    level = ReviewLevel(windows[0].level)
    step = context.step(level)
    rows = _candidates(connection, context.call.id, level, [w.jurisdiction_code for w in windows], step.quota is not None)
    moves, outcomes = _plan(context, windows, rows, now, tree, tally)
    del rows
    apply_moves(connection, context.call.id, level, moves, _closing_user(connection, windows, closed_by), now)
    after = next_level(context.levels, level)
    if after is not None:
        targets = {move.desk for move in moves if move.to_level == after.level}
        tally.windows_opened += len(open_windows(connection, context.call, after, targets, now, tree))
    table = LevelWindow.__table__
    closed = connection.execute(
        update(table).where(table.c.id == bindparam("k"), table.c.closed_at.is_(None))
        .values(closed_at=now, closed_by=closed_by, close_reason=bindparam("why"), outcome=bindparam("out")),
        [{"k": w.id, "why": "deadline" if now >= w.late_from else "all_decided", "out": outcomes[w.id]} for w in windows],
    ).rowcount
    if closed != len(windows):
        raise Conflict(f"{step.label}：有 {len(windows) - closed} 个审核窗口已被同时结束，本次未执行")
    for state in (DeadlineState.met, DeadlineState.missed):
        keys = [window_deadline_key(w.call_id, w.level, w.jurisdiction_code) for w in windows
                if (outcomes[w.id]["undecided_at_close"] > 0) == (state == DeadlineState.missed)]
        close_deadlines(connection, keys, state, at=now)
    tally.closed += len(windows)


def _closing_user(connection: Connection, windows: list, closed_by: str) -> Optional[Actor]:
    """None for ``system``; else the bureau user, who must cover every window being closed."""
    if closed_by == "system":
        return None
    actors = [bureau_actor(connection, closed_by, w.jurisdiction_code, "结束审核") for w in windows]
    return actors[0]


def close_level(connection: Connection, call_id: str, level: str, jurisdiction_code: str,
                now: Optional[datetime] = None, closed_by: str = "system") -> dict:
    """Close one window (``srdi pipeline close-level``); a closed one is left alone (re-run = no-op).

    Refused with the reason when it may not close yet (lower levels open, undecided before the
    deadline, intake still open, or a final level still owing decisions).
    """
    now = now or clock.now()
    context = call_context(connection, call_id)
    step = context.step(level)
    window = connection.execute(select(LevelWindow).where(
        LevelWindow.call_id == call_id, LevelWindow.level == step.level, LevelWindow.jurisdiction_code == jurisdiction_code)).first()
    if window is None:
        raise RuleViolation(f"批次 {call_id} 在 {jurisdiction_code} 没有{step.label}（尚无申报到达该级）")
    window = LevelWindow.model_validate(window._mapping)
    if window.closed_at is not None:
        return {"call_id": call_id, "level": step.level.value, "jurisdiction_code": jurisdiction_code,
                "already_closed": True, **window.outcome}
    windows = _open_windows(connection, call_id)
    item = next(w for w in windows if w.window.id == window.id)
    why = why_not_closable(context, item, open_children(context, windows)(item), now)
    if why:
        raise RuleViolation(f"{jurisdiction_code} {step.label}暂不能结束：{why}")
    tally = close_windows(connection, context, [window], now, Tree.load(connection), closed_by)
    return {"call_id": call_id, "level": step.level.value, "jurisdiction_code": jurisdiction_code,
            "already_closed": False, **tally.as_dict()}


def close_due_levels(connection: Connection, now: datetime, calls: Optional[list[str]] = None) -> dict:
    """Pipeline step: close every window of every open call (or of ``calls``) that may close at ``now``.

    Levels are taken in route order, so a county closing now can let its city close in the same run.
    """
    tree: Optional[Tree] = None
    summary: dict[str, dict] = {}
    for call in open_calls(connection, calls):
        context = call_context(connection, call.id)
        tally = Tally()
        for step in context.levels:
            windows = _open_windows(connection, call.id)
            children = open_children(context, windows)
            due = []
            for item in windows:
                if item.window.level != step.level:
                    continue
                why = why_not_closable(context, item, children(item), now)
                if why:
                    tally.wait(f"{step.level.value}:{item.window.jurisdiction_code}", why)
                else:
                    due.append(item.window)
            if due:
                tree = tree or Tree.load(connection)
                close_windows(connection, context, due, now, tree, "system", tally)
        if tally.closed or tally.waiting:
            summary[call.id] = tally.as_dict()
    return {"calls": summary, "closed": sum(t["closed"] for t in summary.values())}
