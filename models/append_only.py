"""Append-only logs (只增不改): the database itself refuses UPDATE and DELETE on a log table.

A trigger on SQLite and on PostgreSQL, created with the table, so not even a bug in srdi can rewrite
history. The transition log and the state-change log both use it.
"""

from __future__ import annotations

from sqlalchemy import DDL, Table, event


def append_only(table: Table, message: str) -> None:
    """Refuse UPDATE and DELETE on ``table`` with ``message``, on SQLite and PostgreSQL."""
    name = table.name
    sqlite = [
        f"""CREATE TRIGGER IF NOT EXISTS {name}_no_update BEFORE UPDATE ON {name}
        BEGIN SELECT RAISE(ABORT, '{message}'); END""",
        f"""CREATE TRIGGER IF NOT EXISTS {name}_no_delete BEFORE DELETE ON {name}
        BEGIN SELECT RAISE(ABORT, '{message}'); END""",
    ]
    postgres = [
        f"""CREATE OR REPLACE FUNCTION {name}_append_only() RETURNS trigger AS $$
        BEGIN RAISE EXCEPTION '{message}'; END; $$ LANGUAGE plpgsql""",
        f"""DROP TRIGGER IF EXISTS {name}_append_only ON {name}""",
        f"""CREATE TRIGGER {name}_append_only BEFORE UPDATE OR DELETE ON {name}
        FOR EACH ROW EXECUTE FUNCTION {name}_append_only()""",
    ]
    for statement in sqlite:
        event.listen(table, "after_create", DDL(statement).execute_if(dialect="sqlite"))
    for statement in postgres:
        event.listen(table, "after_create", DDL(statement).execute_if(dialect="postgresql"))
