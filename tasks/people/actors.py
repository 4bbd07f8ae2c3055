"""Who acts (操作人): a user with their role and jurisdiction node, or ``system`` for a pipeline step.

The web console's signed-in user, the CLI's ``--as`` user and the domain checks in tasks/ all hold
the same ``Actor``; what it may reach is its jurisdiction's subtree (tasks/people/scope.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from sqlalchemy import bindparam, select
from sqlalchemy.sql import ColumnElement, Select

from models.enums import JurisdictionLevel, ReviewLevel, Role
from models.errors import Forbidden, NotFound
from models.jurisdiction import Jurisdiction, User
from tasks.people.scope import covers, subtree_clause, subtree_codes

LEVEL_OF_JURISDICTION = {level.jurisdiction_level: level for level in ReviewLevel}
BUREAU_ROLES = frozenset({Role.clerk, Role.reviewer, Role.admin})


@dataclass(frozen=True)
class Actor:
    """A user (clerk, reviewer, applicant…) at their jurisdiction node, or ``system``."""

    username: str
    role: Role
    jurisdiction_code: str
    jurisdiction_name: str = ""
    jurisdiction_level: Optional[JurisdictionLevel] = None
    path: str = ""
    enterprise_id: Optional[int] = None
    user_id: Optional[int] = None
    display_name: str = ""

    @classmethod
    def system(cls, jurisdiction_code: str) -> "Actor":
        return cls("system", Role.system, jurisdiction_code)

    @property
    def review_level(self) -> ReviewLevel:
        """The review level this user's bureau decides at (区县 → county …)."""
        return LEVEL_OF_JURISDICTION[self.jurisdiction_level]

    def covers(self, path: str) -> bool:
        """Whether the jurisdiction at ``path`` lies in this actor's subtree."""
        return covers(self.path, path)

    def path_clause(self, path_column: Any) -> ColumnElement[bool]:
        return subtree_clause(path_column, self.path)

    def codes(self) -> Select:
        """Sub-select of every jurisdiction code inside the subtree."""
        return subtree_codes(self.path)


# Built once: decisions and the console load the acting user thousands of times.
_ACTOR = (
    select(User.id, User.username, User.display_name, User.role, User.jurisdiction_code, User.enterprise_id, User.active,
           Jurisdiction.name, Jurisdiction.level, Jurisdiction.path)
    .join(Jurisdiction, Jurisdiction.code == User.jurisdiction_code)
)
_BY_NAME = _ACTOR.where(User.username == bindparam("username"))
_BY_ID = _ACTOR.where(User.id == bindparam("user_id"))


def _actor(row) -> Actor:
    return Actor(row.username, Role(row.role), row.jurisdiction_code, row.name, JurisdictionLevel(row.level), row.path,
                 row.enterprise_id, row.id, row.display_name)


def load_actor(connection: Any, username: str) -> Actor:
    """The active user ``username`` at their jurisdiction node, or NotFound."""
    row = connection.execute(_BY_NAME, {"username": username}).first()
    if row is None or not row.active:
        raise NotFound(f"用户 {username} 不存在或已停用")
    return _actor(row)


def actor_by_id(connection: Any, user_id: int) -> Optional[Actor]:
    """The active user with this id (the console's signed-in user), or None."""
    row = connection.execute(_BY_ID, {"user_id": user_id}).first()
    return _actor(row) if row is not None and row.active else None


def bureau_actor(connection: Any, username: str, jurisdiction_code: str, what: str) -> Actor:
    """The bureau user ``username``, refused unless active, staff (主管部门工作人员), and covering ``jurisdiction_code``."""
    actor = load_actor(connection, username)
    if actor.role not in BUREAU_ROLES:
        raise Forbidden(f"用户 {username}（角色 {actor.role}）无权{what}，须为主管部门工作人员")
    target = connection.execute(select(Jurisdiction.path).where(Jurisdiction.code == jurisdiction_code)).scalar()
    if target is None or not actor.covers(target):
        raise Forbidden(f"用户 {username} 所属辖区 {actor.jurisdiction_code} 不包含 {jurisdiction_code}，无权{what}")
    return actor
