"""Quota preview of a level close (结束审核预览): who makes the cut, computed without writing anything.

The preview runs the level close's own planning (tasks/review/level_close.py ``_plan``, which applies
the quota through tasks/review/quota.py) on one window and reports the plan instead of applying it:
every open application of the window in ranking order, with its score, category and what the close
would do to it (forward, escalate, cut by the quota, lapse, keep at the final level) and why; the
quota's caps and how full each would be; and, when the window may not close yet, the reason.
``fingerprint`` names the plan, so a confirmation can refuse when the list changed since it was shown.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Optional

from sqlalchemy import select
from sqlalchemy.engine import Connection

from models.application import Application
from models.clock import clock
from models.enterprise import Enterprise
from models.enums import ApplicationStatus, ReviewLevel
from models.errors import RuleViolation
from models.review import LevelWindow
from tasks.reference.calls import CallContext, call_context
from tasks.reference.routing import Tree, next_level
from tasks.review.level_close import (
    OPEN_STATUSES,
    Tally,
    _candidates,
    _open_windows,
    _plan,
    open_children,
    why_not_closable,
)
from tasks.review.quota import Candidate, _area_caps, rank

FATE_LABELS = {"forward": "报送上级", "escalate": "逾期报送上级", "quota_cut": "超出名额", "lapse": "视同未申报",
               "kept": "本级推荐（终审）"}
DEFAULT_RANK = ["score_desc", "submitted_at_asc", "ref_asc"]


@dataclass
class PreviewRow:
    """One application of the window and its fate if the window closed now."""

    position: Optional[int]          # place in the ranking (None: not a candidate, e.g. lapsing)
    application_id: int
    ref: str
    enterprise_name: str
    home_code: str
    home_name: str
    status: ApplicationStatus
    score: Optional[Decimal]
    category: Optional[str]
    fate: str                        # forward / escalate / quota_cut / lapse / kept
    reason: Optional[str]

    @property
    def fate_label(self) -> str:
        return FATE_LABELS[self.fate]

    @property
    def makes_the_cut(self) -> bool:
        return self.fate in ("forward", "escalate", "kept")


@dataclass
class Cap:
    """One cap of the quota (总名额, a category's 分项名额 or a sub-jurisdiction's 名额) and its use."""

    label: str
    cap: int
    taken: int
    cut: int


@dataclass
class ClosePreview:
    call_id: str
    call_name: str
    level: ReviewLevel
    level_label: str
    jurisdiction_code: str
    jurisdiction_name: str
    window: LevelWindow
    next_label: Optional[str]        # the level the chosen go to (None at the route's final level)
    why_not: Optional[str] = None    # None when the window may close now
    rows: list[PreviewRow] = field(default_factory=list)
    caps: list[Cap] = field(default_factory=list)
    counts: dict = field(default_factory=dict)
    soft_quota: bool = False
    rank_by: list[str] = field(default_factory=list)

    @property
    def closed(self) -> bool:
        return self.window.closed_at is not None

    @property
    def fingerprint(self) -> str:
        """A short digest of the plan (who, which fate): equal previews give equal fingerprints."""
        text = ";".join(f"{r.application_id}:{r.fate}" for r in sorted(self.rows, key=lambda r: r.application_id))
        return hashlib.sha256(f"{self.why_not or ''}|{text}".encode()).hexdigest()[:16]


def find_window(connection: Connection, context: CallContext, level: str, jurisdiction_code: str) -> LevelWindow:
    step = context.step(level)
    row = connection.execute(select(LevelWindow).where(
        LevelWindow.call_id == context.call.id, LevelWindow.level == step.level,
        LevelWindow.jurisdiction_code == jurisdiction_code)).first()
    if row is None:
        raise RuleViolation(f"批次 {context.call.id} 在 {jurisdiction_code} 没有{step.label}（尚无申报到达该级）")
    return LevelWindow.model_validate(row._mapping)


def preview_close(connection: Connection, call_id: str, level: str, jurisdiction_code: str,
                  now: Optional[datetime] = None) -> ClosePreview:
    """What ``close_level`` would do to this window at ``now``; reads only."""
    now = now or clock.now()
    context = call_context(connection, call_id)
    step = context.step(level)
    window = find_window(connection, context, level, jurisdiction_code)
    tree = Tree.load(connection)
    after = next_level(context.levels, step.level)
    preview = ClosePreview(call_id, context.call.name, step.level, step.label, jurisdiction_code, tree.name(jurisdiction_code),
                           window, after.label if after else None, soft_quota=bool(step.quota and step.quota.soft),
                           rank_by=list(step.quota.rank_by) if step.quota else DEFAULT_RANK)
    if preview.closed:
        preview.counts = dict(window.outcome)
        return preview
    windows = _open_windows(connection, call_id)
    item = next(w for w in windows if w.window.id == window.id)
    preview.why_not = why_not_closable(context, item, open_children(context, windows)(item), now)
    rows = _candidates(connection, call_id, step.level, [jurisdiction_code], ranked=True)
    moves, outcomes = _plan(context, [window], rows, now, tree, Tally())
    preview.counts = outcomes[window.id]
    fates = {move.row.id: (move.action, move.reason) for move in moves}
    names = _enterprise_names(connection, call_id, step.level, jurisdiction_code)
    candidates = [Candidate(r.id, r.ref, r.score, r.submitted_at, r.category, r.jurisdiction_code,
                            r.status == ApplicationStatus.pending)
                  for r in rows if fates.get(r.id, ("kept",))[0] != "lapse"]
    order = {c.id: position for position, c in enumerate(rank(candidates, preview.rank_by), start=1)}
    for r in rows:
        fate, reason = fates.get(r.id, ("kept", None))
        preview.rows.append(PreviewRow(order.get(r.id), r.id, r.ref, names.get(r.id, ""), r.jurisdiction_code,
                                       tree.name(r.jurisdiction_code),
                                       ApplicationStatus(r.status), r.score, r.category, fate, reason))
    preview.rows.sort(key=lambda p: (p.position is None, p.position or 0, p.ref))
    if step.quota is not None:
        preview.caps = _caps(step, jurisdiction_code, tree, preview.rows)
    return preview


def _enterprise_names(connection: Connection, call_id: str, level: ReviewLevel, code: str) -> dict[int, str]:
    return dict(connection.execute(
        select(Application.id, Enterprise.name).join(Enterprise, Enterprise.id == Application.enterprise_id)
        .where(Application.call_id == call_id, Application.level == level, Application.review_jurisdiction_code == code,
               Application.status.in_(OPEN_STATUSES))).all())


def _caps(step, code: str, tree: Tree, rows: list[PreviewRow]) -> list[Cap]:
    """The quota's caps over this window with how many the plan takes and cuts under each."""
    quota = step.quota
    ranked = [r for r in rows if r.position is not None]
    taken = [r for r in ranked if r.makes_the_cut]
    cut = [r for r in ranked if r.fate == "quota_cut"]
    caps = []
    total = quota.per_jurisdiction.get(code, quota.max)
    if total is not None:
        caps.append(Cap(f"{tree.name(code)}{step.level.label}级推荐名额", total, len(taken), len(cut)))
    for sub in quota.sub_caps:
        caps.append(Cap(sub.label, sub.max, sum(r.category == sub.category for r in taken),
                        sum(r.category == sub.category for r in cut)))
    for area, cap in _area_caps(quota, code, tree).items():
        node = tree.get(area)
        inside = [r for r in ranked if node.covers(tree.get(r.home_code).path)]
        caps.append(Cap(f"{node.name}推荐名额", cap, sum(r.makes_the_cut for r in inside),
                        sum(r.fate == "quota_cut" for r in inside)))
    return caps

