"""The round every contender of bench/pipeline.py --compare plays: applicants and reviewers' decisions, fixed in advance.

A decision is a function of (seed, level, application number n) only — never of which contender asks or in
which order —, so srdi, the set-based floor (bench/floor.py) and SpiffWorkflow (bench/spiff_round.py) apply
the same ones. Per level: ~90% recommend (a score 60.00–99.99 at the provincial and ministry levels, which
rank for the quota), 5% reject, 0.2% returned at the county and resubmitted, and 0.5% of the desks below the
ministry leave half of theirs undecided so the deadline escalates them (the ministry, the route's final
level with ``on_missed: escalate``, would wait for its decisions instead of closing, so it never sleeps).

Routing (which desk reviews an applicant of a home jurisdiction at a level) is reference data, taken once
from srdi's jurisdiction tree (tasks/reference/routing.py) and handed to the other contenders as input.
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass, field

LEVELS = ("county", "municipal", "provincial", "ministry")
SCORED = ("provincial", "ministry")            # 择优: the quota levels score
QUOTA_LEVEL, QUOTA_MAX, SUB_CAP_CATEGORY, SUB_CAP_MAX = "provincial", 2000, "c", 100
SLEEPY_SHARE = 0.005


def sleepy(seed: int, level: str, desk: str) -> bool:
    """Whether ``desk`` leaves half of its applications undecided at ``level`` (never at the final level)."""
    return level != LEVELS[-1] and zlib.crc32(f"{seed}:{level}:{desk}".encode()) / 2**32 < SLEEPY_SHARE


@dataclass
class Round:
    """``size`` applicants spread evenly over ``homes`` (a county's together) and every level's decisions.

    ``decisions[level][n - 1]`` is one of recommend / reject / return / undecided for application n;
    ``scores[level][n - 1]`` its score in hundredths (used at the scored levels only)."""

    seed: int
    size: int
    homes: list[str]                                   # home jurisdiction of application n at [n - 1]
    categories: list[str]
    desks: dict[str, dict[str, str]]                   # home code → level → reviewing desk
    decisions: dict[str, list[str]] = field(default_factory=dict)
    scores: dict[str, list[int]] = field(default_factory=dict)


def make_round(seed: int, size: int, homes: list[str], desks: dict[str, dict[str, str]]) -> Round:
    spread = [homes[(n - 1) * len(homes) // size] for n in range(1, size + 1)]
    pick = random.Random(f"{seed}:category")
    categories = ["c" if pick.random() < 0.1 else "a" for _ in range(size)]
    plan = Round(seed, size, spread, categories, desks)
    for level in LEVELS:
        rng = random.Random(f"{seed}:{level}")
        asleep = {desk for desk in {d.get(level) for d in desks.values()} - {None} if sleepy(seed, level, desk)}
        decisions, scores = [], []
        for home in spread:
            draw, score = rng.random(), rng.randint(6000, 9999)
            if draw < 0.5 and desks.get(home, {}).get(level) in asleep:
                decisions.append("undecided")
            elif draw < 0.002 and level == "county":
                decisions.append("return")
            elif draw < 0.052:
                decisions.append("reject")
            else:
                decisions.append("recommend")
            scores.append(score)
        plan.decisions[level], plan.scores[level] = decisions, scores
    return plan


def routing(connection) -> tuple[list[str], dict[str, dict[str, str]]]:
    """(the homes applicants come from, home → level → desk) from srdi's jurisdiction table.

    Homes: every county, and every prefecture without counties (e.g. 东莞, 中山)."""
    from models.enums import JurisdictionLevel, ReviewLevel
    from tasks.reference.routing import Tree

    tree = Tree.load(connection)
    nodes = [(code, node.level) for code, node in tree.nodes.items()]
    children = {code[:4] for code, level in nodes if level == JurisdictionLevel.county}
    homes = sorted(code for code, level in nodes if level == JurisdictionLevel.county
                   or (level == JurisdictionLevel.prefecture and code[:4] not in children))
    desks = {home: {level: tree.reviewer_at(home, ReviewLevel(level)) for level in LEVELS} for home in homes}
    return homes, desks


def quota_rank_key(escalated: bool, score, n: int) -> tuple:
    """The provincial ranking of srdi's tasks/review/quota.py: recommended before escalated, score high to low
    (none last), then submission time (the same for the whole round) and the reference (in application order)."""
    return (escalated, score is None, -(score or 0), n)


def apply_quota(candidates: list[tuple[tuple, str, object]]) -> set:
    """The ids cut by the provincial quota among one province's ``(rank key, category, id)`` candidates."""
    cut, taken, taken_c = set(), 0, 0
    for _, category, key in sorted(candidates, key=lambda c: c[0]):
        if taken >= QUOTA_MAX or (category == SUB_CAP_CATEGORY and taken_c >= SUB_CAP_MAX):
            cut.add(key)
            continue
        taken += 1
        taken_c += category == SUB_CAP_CATEGORY
    return cut
