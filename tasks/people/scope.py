"""Jurisdiction subtrees (辖区范围): the one check of "inside this bureau's area", in SQL and in Python.

A jurisdiction's ``path`` lists the codes from the ministry down (``000000/130000/130100/130102``);
a node covers itself and everything whose path continues below it. Every reader — the console's
queries, the CLI's ``--as`` user, the domain checks in tasks/ — asks through these functions.
"""

from __future__ import annotations

from typing import Any, Optional

from sqlalchemy import and_, or_, select
from sqlalchemy.engine import Row
from sqlalchemy.orm import aliased
from sqlalchemy.sql import ColumnElement, Select

from models.jurisdiction import Jurisdiction


def covers(path: str, inner: str) -> bool:
    """Whether ``inner`` is ``path`` itself or lies below it (辖区内)."""
    return inner == path or inner.startswith(path + "/")


def related(path: str, other: str) -> bool:
    """Whether ``other`` lies inside the subtree at ``path`` or is one of its ancestors."""
    return covers(path, other) or covers(other, path)


def subtree_clause(path_column: Any, path: str) -> ColumnElement[bool]:
    """SQL for ``covers``: ``path`` itself or anything below it."""
    return or_(path_column == path, below_clause(path_column, path))


def below_clause(path_column: Any, path: str) -> ColumnElement[bool]:
    """Strictly below ``path``, as an index-friendly range ('0' sorts right after '/')."""
    return and_(path_column > path + "/", path_column < path + "0")


def subtree_codes(path: str) -> Select:
    """Sub-select of every jurisdiction code in the subtree (its own alias, so it never correlates)."""
    place = aliased(Jurisdiction)
    return select(place.code).where(subtree_clause(place.path, path))


def place_in_subtree(connection: Any, path: str, code: str) -> Optional[Row]:
    """The jurisdiction ``code`` (code, name, level, path) if it lies in the subtree at ``path``, else None."""
    return connection.execute(
        select(Jurisdiction.code, Jurisdiction.name, Jurisdiction.level, Jurisdiction.path)
        .where(Jurisdiction.code == code, subtree_clause(Jurisdiction.path, path))
    ).first()
