"""名额与择优: choose which of a level's candidates go up, by the profile's quota rule.

Candidates are ranked by the rule's ``rank_by`` keys (score high to low, then the stated
tie-breaks, finally the application id so the order is total). Recommended applications rank before
escalated ones (forwarded only because the level missed its deadline). Walking down the ranking,
a candidate is taken while the total cap, its category's sub-cap (79号: ≤10 of class c) and the cap
of any sub-jurisdiction it lies in (per-city caps) all have room; otherwise it is cut with the reason.
A ``soft`` quota (建议名额) cuts nobody and reports who is over it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Optional

from models.profile import QuotaRule
from tasks.reference.routing import Tree

RANK_LABELS = {"score_desc": "评分从高到低", "submitted_at_asc": "提交时间先后", "ref_asc": "申报编号"}
FAR_FUTURE = datetime.max.replace(tzinfo=None)


@dataclass(frozen=True)
class Candidate:
    id: int
    ref: str
    score: Optional[Decimal]
    submitted_at: Optional[datetime]
    category: Optional[str]
    home_code: str
    escalated: bool = False


@dataclass
class Selection:
    taken: list[Candidate] = field(default_factory=list)
    cut: dict[int, str] = field(default_factory=dict)         # application id → reason
    over_soft_quota: list[int] = field(default_factory=list)  # ids beyond a soft quota (kept)


def rank(candidates: list[Candidate], rank_by: list[str]) -> list[Candidate]:
    def key(c: Candidate) -> tuple:
        parts: list = [c.escalated]
        for name in rank_by:
            if name == "score_desc":
                parts += [c.score is None, -(c.score or 0)]
            elif name == "submitted_at_asc":
                parts.append(c.submitted_at.replace(tzinfo=None) if c.submitted_at else FAR_FUTURE)
            elif name == "ref_asc":
                parts.append(c.ref)
        return (*parts, c.id)

    return sorted(candidates, key=key)


def _area_caps(quota: QuotaRule, window_code: str, tree: Tree) -> dict[str, int]:
    """Caps on sub-jurisdictions strictly inside the deciding jurisdiction (e.g. per-city caps)."""
    window = tree.get(window_code)
    return {code: cap for code, cap in quota.per_jurisdiction.items()
            if code != window_code and tree.get(code) is not None and window.covers(tree.get(code).path)}


def select_by_quota(candidates: list[Candidate], quota: Optional[QuotaRule], window_code: str, tree: Tree,
                    level_label: str) -> Selection:
    """Apply ``quota`` to the candidates of one level window (``window_code``)."""
    selection = Selection()
    if quota is None:
        selection.taken = rank(candidates, ["score_desc", "submitted_at_asc", "ref_asc"])
        return selection
    ranked = rank(candidates, list(quota.rank_by))
    total_cap = quota.per_jurisdiction.get(window_code, quota.max)
    sub_caps = {cap.category: cap for cap in quota.sub_caps}
    areas = _area_caps(quota, window_code, tree)
    order = "、".join(RANK_LABELS[name] for name in quota.rank_by)
    taken_by_category: dict[str, int] = {}
    taken_by_area: dict[str, int] = {}
    for position, candidate in enumerate(ranked, start=1):
        home = tree.get(candidate.home_code)
        in_areas = [code for code in areas if tree.get(code).covers(home.path)]
        reason = None
        if total_cap is not None and len(selection.taken) >= total_cap:
            reason = f"超出{tree.name(window_code)}{level_label}级推荐名额（{total_cap}名），按{order}排第{position}名"
        elif candidate.category in sub_caps and taken_by_category.get(candidate.category, 0) >= sub_caps[candidate.category].max:
            cap = sub_caps[candidate.category]
            reason = f"超出{cap.label}名额（{cap.max}名），按{order}排第{position}名"
        else:
            full = [code for code in in_areas if taken_by_area.get(code, 0) >= areas[code]]
            if full:
                reason = f"超出{tree.name(full[0])}推荐名额（{areas[full[0]]}名），按{order}排第{position}名"
        if reason and not quota.soft:
            selection.cut[candidate.id] = reason
            continue
        if reason:
            selection.over_soft_quota.append(candidate.id)
        selection.taken.append(candidate)
        if candidate.category:
            taken_by_category[candidate.category] = taken_by_category.get(candidate.category, 0) + 1
        for code in in_areas:
            taken_by_area[code] = taken_by_area.get(code, 0) + 1
    return selection
