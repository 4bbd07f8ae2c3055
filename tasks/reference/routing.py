"""Where an application sits on its route: the reviewing jurisdiction (审核辖区) at each level.

An applicant's home is a county (区县) — or a county-level unit without a prefecture above it
(济源, 仙桃, 东莞, 雄安新区 …), which the jurisdiction tree keeps as a prefecture-level node directly
under its province. At review level L the deciding bureau is the applicant's ancestor-or-self at
L's jurisdiction level; when the path has no node at that level (a province-administered unit at the
county level), the deepest node above it decides, so 济源 reviews its own applications at both the
county and the municipal level.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional

from sqlalchemy import select
from sqlalchemy.engine import Connection

from models.enums import JurisdictionLevel, ReviewLevel
from models.jurisdiction import Jurisdiction
from models.profile import Level, Profile
from tasks.people.scope import covers

DEPTH = {
    JurisdictionLevel.ministry: 0,
    JurisdictionLevel.province: 1,
    JurisdictionLevel.prefecture: 2,
    JurisdictionLevel.county: 3,
}


@dataclass(frozen=True)
class Node:
    code: str
    name: str
    level: JurisdictionLevel
    path: str

    def covers(self, path: str) -> bool:
        """Whether ``path`` lies in this node's subtree (辖区内)."""
        return covers(self.path, path)


class Tree:
    """The jurisdiction table in memory (≈3,400 rows, one query), for set-wise routing."""

    def __init__(self, nodes: Iterable[Node]):
        self.nodes = {node.code: node for node in nodes}
        self._children = {node.path.rsplit("/", 1)[0] for node in self.nodes.values() if "/" in node.path}
        self._desks: dict[tuple[str, ReviewLevel], str] = {}

    @classmethod
    def load(cls, connection: Connection) -> "Tree":
        rows = connection.execute(select(Jurisdiction.code, Jurisdiction.name, Jurisdiction.level, Jurisdiction.path))
        return cls(Node(r.code, r.name, JurisdictionLevel(r.level), r.path) for r in rows)

    def get(self, code: str) -> Optional[Node]:
        return self.nodes.get(code)

    def name(self, code: str) -> str:
        node = self.nodes.get(code)
        return node.name if node else code

    def is_leaf(self, code: str) -> bool:
        node = self.nodes[code]
        return node.path not in self._children

    def reviewer_at(self, home_code: str, level: ReviewLevel) -> str:
        """The code of the jurisdiction that reviews an applicant of ``home_code`` at ``level``."""
        key = (home_code, level)
        if key not in self._desks:
            target = DEPTH[ReviewLevel(level).jurisdiction_level]
            path = [code for code in self.nodes[home_code].path.split("/") if DEPTH[self.nodes[code].level] <= target]
            self._desks[key] = path[-1]
        return self._desks[key]


def route_levels(profile: Profile, call_kind: str = "recognition") -> list[Level]:
    """The levels a call runs through: the profile's route, or for a 复核 call its re-review route."""
    if call_kind == "re_review":
        if not (profile.validity and profile.validity.re_review):
            raise ValueError(f"方案 {profile.id} 未规定复核路线（validity.re_review）")
        wanted = set(profile.validity.re_review.route)
        return [step for step in profile.route if step.level in wanted]
    return list(profile.route)


def next_level(levels: list[Level], level: ReviewLevel) -> Optional[Level]:
    order = [step.level for step in levels]
    index = order.index(level)
    return levels[index + 1] if index + 1 < len(levels) else None
