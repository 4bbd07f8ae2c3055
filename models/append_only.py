"""Append-only logs (只增不改): the database itself refuses UPDATE and DELETE on a log table.

A trigger on SQLite and on PostgreSQL, created with the table, so not even a bug in srdi can rewrite
history. On PostgreSQL a statement-level trigger also refuses TRUNCATE, which row triggers never see.
The transition and state-change logs, the payments and the other audit tables (models/audit_chain.py)
use it; a migration emits the same DDL for any list of tables with ``append_only_ddl``.
"""

from __future__ import annotations

from typing import Iterable

from sqlalchemy import DDL, Table, event

_MESSAGES: dict[str, str] = {}       # table → the message its triggers raise, as the models declare it


def _sqlite(name: str, message: str) -> list[str]:
    return [
        f"""CREATE TRIGGER IF NOT EXISTS {name}_no_update BEFORE UPDATE ON {name}
        BEGIN SELECT RAISE(ABORT, '{message}'); END""",
        f"""CREATE TRIGGER IF NOT EXISTS {name}_no_delete BEFORE DELETE ON {name}
        BEGIN SELECT RAISE(ABORT, '{message}'); END""",
    ]


def _postgres(name: str, message: str, truncate: bool) -> list[str]:
    statements = [
        f"""CREATE OR REPLACE FUNCTION {name}_append_only() RETURNS trigger AS $$
        BEGIN RAISE EXCEPTION '{message}'; END; $$ LANGUAGE plpgsql""",
        f"""DROP TRIGGER IF EXISTS {name}_append_only ON {name}""",
        f"""CREATE TRIGGER {name}_append_only BEFORE UPDATE OR DELETE ON {name}
        FOR EACH ROW EXECUTE FUNCTION {name}_append_only()""",
    ]
    if truncate:
        statements += [
            f"""DROP TRIGGER IF EXISTS {name}_no_truncate ON {name}""",
            f"""CREATE TRIGGER {name}_no_truncate BEFORE TRUNCATE ON {name}
        FOR EACH STATEMENT EXECUTE FUNCTION {name}_append_only()""",
        ]
    return statements


def default_message(name: str) -> str:
    return _MESSAGES.get(name, f"{name} is append-only")


def append_only_ddl(names: Iterable[str], dialect: str, messages: dict[str, str] | None = None) -> list[str]:
    """The statements that make each table of ``names`` append-only on ``dialect`` (sqlite / postgresql).

    For a migration: ``for s in append_only_ddl([...], op.get_bind().dialect.name): op.execute(s)``.
    Re-running them is harmless (IF NOT EXISTS / OR REPLACE / DROP IF EXISTS).
    """
    messages = messages or {}
    statements: list[str] = []
    for name in names:
        message = messages.get(name, default_message(name))
        if dialect == "sqlite":
            statements += _sqlite(name, message)
        elif dialect == "postgresql":
            statements += _postgres(name, message, truncate=True)
    return statements


def append_only(table: Table, message: str, *, truncate: bool = True) -> None:
    """Refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL) on ``table`` with ``message``."""
    name = table.name
    _MESSAGES[name] = message
    for statement in _sqlite(name, message):
        event.listen(table, "after_create", DDL(statement).execute_if(dialect="sqlite"))
    for statement in _postgres(name, message, truncate):
        event.listen(table, "after_create", DDL(statement).execute_if(dialect="postgresql"))
