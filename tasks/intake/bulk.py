"""Writing many new rows at once through the database driver (批量写入), the same values SQLAlchemy would store.

A first import writes tens of thousands of enterprises, yearly figures, applications and eligibility
verdicts. Through SQLAlchemy's ``insert()`` with a list of dicts each row is a dict looked up column
by column and each value passes its type's bind processor inside the dialect's per-row loop; on
PostgreSQL the rows then travel as multi-VALUES statements of ~1,000 rows whose every parameter the
server parses. Here each column's bind processor (the exact-decimal scaling on SQLite, JSON encoding,
enum names) is taken once and applied to plain tuples, which go to the driver in one call: SQLite's
``executemany`` of a prepared INSERT, PostgreSQL's ``COPY … FROM STDIN``. What lands in the table is
what ``insert()`` would have written. Callers read the new ids back with one query (an id range or
their natural key); nothing here returns rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Connection

COPY_ROWS = 5_000   # rows handed to COPY per write call (bounded memory for the encoded buffer)


def bind_processors(connection: Connection, table: Table, columns: Sequence[str], raw: Sequence[str] = ()) -> list:
    """Each column's bind processor on this connection's dialect (None where the driver takes the value as it is).

    ``raw`` columns are passed as given: the caller already holds them in their stored form (JSON text).
    """
    dialect = connection.dialect
    return [None if name in raw else table.c[name].type._cached_bind_processor(dialect) for name in columns]


def insert_rows(connection: Connection, table: Table, columns: Sequence[str], rows: Iterable[Sequence[Any]],
                raw: Sequence[str] = ()) -> int:
    """Insert ``rows`` (tuples in ``columns`` order) into ``table`` in the connection's transaction; the row count.

    On PostgreSQL a ``raw`` column's text goes to COPY as it is (the server parses JSON text itself).
    """
    processors = bind_processors(connection, table, columns, raw)
    if any(processors):
        pairs = list(enumerate(processors))
        converted = [p for p in pairs if p[1] is not None]

        def convert(row: Sequence[Any]) -> tuple:
            values = list(row)
            for index, process in converted:
                value = values[index]
                if value is not None:
                    values[index] = process(value)
            return tuple(values)
        rows = [convert(row) for row in rows]
    elif not isinstance(rows, list):
        rows = list(rows)
    if not rows:
        return 0
    names = ", ".join(columns)
    cursor = connection.connection.cursor()
    try:
        if connection.dialect.name == "postgresql":
            with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" if connection.dialect.paramstyle == "qmark" else "%s" for _ in columns)
            cursor.executemany(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", rows)
    finally:
        cursor.close()
    return len(rows)
