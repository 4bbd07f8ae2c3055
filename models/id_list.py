"""A list of ids (or codes) as ONE bound parameter: ``column IN (the list)`` without an ``IN (?, ?, …)`` per value.

SQLAlchemy's expanding ``IN`` renders one placeholder per value and re-processes the statement on
every execution; for the writer's 5,000-id chunks that cost more than the statement itself
(bench/pipeline.py, profiled). Here the list travels as one value: a JSON array read by
``json_each`` on SQLite, an array compared with ``= ANY`` on PostgreSQL. The statement is compiled
once and cached like any other.

    statement = update(t).where(in_list(t.c.id, "ids"))
    connection.execute(statement, {"ids": [3, 5, 8]})
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import BigInteger, Boolean, Text, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import TypeDecorator


class _ListValue(TypeDecorator):
    """A Python list bound as JSON text (SQLite) or as an array (PostgreSQL)."""

    impl = Text
    cache_ok = True

    def __init__(self, text: bool = False):
        super().__init__()
        self.text = text

    def load_dialect_impl(self, dialect):
        if dialect.name == "postgresql":
            return dialect.type_descriptor(ARRAY(Text if self.text else BigInteger))
        return dialect.type_descriptor(Text())

    def process_bind_param(self, value: Any, dialect) -> Any:
        values = [str(v) for v in value] if self.text else [int(v) for v in value]
        return values if dialect.name == "postgresql" else json.dumps(values, ensure_ascii=False)


class InList(ColumnElement):
    """``column IN (:name)`` where ``:name`` is a whole list; see the module docstring."""

    type = Boolean()
    inherit_cache = True
    _is_implicitly_boolean = True          # a comparison: WHERE takes it as is (no `= 1` on SQLite)
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement), ("values", InternalTraversal.dp_clauseelement)]

    def __init__(self, column, name: str, text: bool = False):
        self.column = column
        self.values = bindparam(name, type_=_ListValue(text))


def in_list(column, name: str = "ids", text: bool = False) -> InList:
    """``column`` is one of the list bound as ``name`` (integers, or strings with ``text=True``)."""
    return InList(column, name, text)


@compiles(InList)
def _in_json_each(element: InList, compiler, **kw) -> str:
    return f"{compiler.process(element.column, **kw)} IN (SELECT value FROM json_each({compiler.process(element.values, **kw)}))"


@compiles(InList, "postgresql")
def _in_array(element: InList, compiler, **kw) -> str:
    return f"{compiler.process(element.column, **kw)} = ANY({compiler.process(element.values, **kw)})"
