"""What a signed-in user may see: their jurisdiction's subtree (辖区范围), as SQL.

Every read of the console goes through ``Scope``: an application, deadline or notice outside the
subtree is indistinguishable from one that does not exist (404, no data in the answer).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from sqlalchemy import and_, or_
from sqlalchemy.sql import ColumnElement
from sqlmodel import Session, select

from models.enums import JurisdictionLevel, ReviewLevel, Role
from models.errors import NotFound
from models.jurisdiction import Jurisdiction, User

LEVEL_OF_JURISDICTION = {level.jurisdiction_level: level for level in ReviewLevel}


@dataclass(frozen=True)
class Scope:
    """The signed-in user and the subtree they act in."""

    user_id: int
    username: str
    display_name: str
    role: Role
    jurisdiction_code: str
    jurisdiction_name: str
    jurisdiction_level: JurisdictionLevel
    path: str

    @property
    def review_level(self) -> ReviewLevel:
        """The review level this user's bureau decides at (区县 → county …)."""
        return LEVEL_OF_JURISDICTION[self.jurisdiction_level]

    def path_clause(self, path_column) -> ColumnElement[bool]:
        return subtree_clause(path_column, self.path)

    def codes(self):
        """Sub-select of every jurisdiction code inside the subtree."""
        return select(Jurisdiction.code).where(self.path_clause(Jurisdiction.path))

    def covers_code(self, code_column) -> ColumnElement[bool]:
        return code_column.in_(self.codes())


def subtree_clause(path_column, path: str) -> ColumnElement[bool]:
    """``path`` itself or anything below it, as an index-friendly range ('0' sorts right after '/')."""
    return or_(path_column == path, and_(path_column > path + "/", path_column < path + "0"))


def load_scope(session: Session, user_id: int) -> Optional[Scope]:
    """The active bureau user with this id and their jurisdiction, or None."""
    row = session.exec(
        select(User, Jurisdiction)
        .join(Jurisdiction, Jurisdiction.code == User.jurisdiction_code)
        .where(User.id == user_id, User.active.is_(True))
    ).first()
    if row is None:
        return None
    user, place = row
    return scope_of(user, place)


def scope_of(user: User, place: Jurisdiction) -> Scope:
    return Scope(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=Role(user.role),
        jurisdiction_code=place.code,
        jurisdiction_name=place.name,
        jurisdiction_level=JurisdictionLevel(place.level),
        path=place.path,
    )


def visible_jurisdiction(session: Session, scope: Scope, code: str) -> Jurisdiction:
    """A jurisdiction inside the user's subtree, or NotFound (outside ones are not confirmed to exist)."""
    place = session.exec(
        select(Jurisdiction).where(Jurisdiction.code == code, scope.path_clause(Jurisdiction.path))
    ).first()
    if place is None:
        raise NotFound(f"辖区 {code} 不存在或不在您的辖区范围内")
    return place
