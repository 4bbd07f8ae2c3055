"""INSERT … ON CONFLICT DO NOTHING on SQLite and PostgreSQL: the database decides what is new.

A re-run, a retry or a second scheduler hitting the same unique key inserts nothing; the caller
learns how many rows were really inserted from the ids the statement returns.
"""

from __future__ import annotations

from typing import Sequence

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

_DIALECTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


def insert_new(connection: Connection, table: Table, rows: Sequence[dict], conflict_columns: Sequence[str]) -> list[int]:
    """Insert ``rows``, silently skipping any whose ``conflict_columns`` already exist; return new ids."""
    if not rows:
        return []
    try:
        make_insert = _DIALECTS[connection.dialect.name]
    except KeyError:
        raise NotImplementedError(f"insert_new supports SQLite and PostgreSQL, not {connection.dialect.name}") from None
    statement = make_insert(table).on_conflict_do_nothing(index_elements=list(conflict_columns)).returning(table.c.id)
    return [row.id for row in connection.execute(statement, list(rows))]
