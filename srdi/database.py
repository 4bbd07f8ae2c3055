"""The schema a command needs, on first use (数据库架构就绪检查).

``ensure_schema()`` is called by every CLI command that touches the database and by
``srdi serve``. On the embedded default (a SQLite file) it brings the schema to head the way
``srdi db upgrade`` does — Alembic migrations, then the reference data (jurisdictions,
programme profiles) — so a fresh checkout just works. A PostgreSQL database is shared and
administered: srdi never migrates it behind the operator's back, it refuses with one line
naming ``srdi db upgrade``.

The check is one query for the Alembic revision, done once per database URL per process.
"""

from __future__ import annotations

import sys

from sqlalchemy import inspect

from models.errors import SrdiError

_ready: set[str] = set()


class SchemaNotReady(SrdiError):
    """The database is not at the schema this srdi expects and srdi may not migrate it itself."""


def ensure_schema(url: str | None = None) -> None:
    """Make sure the database at URL (default: the configured one) is at the newest schema.

    SQLite: migrate and load the reference data when behind (a line on stderr says so).
    PostgreSQL (any other backend): raise SchemaNotReady naming ``srdi db upgrade``.
    """
    from models.settings import settings

    url = url or settings().database_url
    if url in _ready:
        return
    from srdi.migrate import display_url, upgrade

    current, head, built_from_models = _revisions(url)
    if current == head or (current is None and built_from_models):
        _ready.add(url)
        return
    if not _is_sqlite(url):
        raise SchemaNotReady(_refusal(display_url(url), current, head))
    report = upgrade(url)
    _ready.add(url)
    if report.applied:
        before = "创建数据库" if report.before is None else f"将数据库从架构版本 {report.before} 升级"
        print(f"已{before} {report.database} 并升级到最新架构 {report.after}", file=sys.stderr)


def forget() -> None:
    """Drop the per-process cache (tests that rebuild a database under the same URL)."""
    _ready.clear()


def _revisions(url: str) -> tuple[str | None, str, bool]:
    """(the database's revision, this srdi's head, whether its tables came from the models directly)."""
    from srdi.migrate import head_revision, schema_state

    if _is_sqlite(url) and not _sqlite_file_exists(url):
        return None, head_revision(), False
    state = schema_state(url)              # a refusal naming the database when it cannot connect
    return state.current, state.head, state.current is None and _has_every_table(url)


def _has_every_table(url: str) -> bool:
    """A database built by ``SQLModel.metadata.create_all`` (the test fixtures) has no Alembic
    revision but every table of these models: it is as new as the models, nothing to migrate."""
    from sqlmodel import SQLModel

    import models  # noqa: F401  (registers every table)
    from models.db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return set(SQLModel.metadata.tables) <= set(inspect(connection).get_table_names())
    finally:
        engine.dispose()


def _refusal(database: str, current: str | None, head: str) -> str:
    if current is None:
        state = "尚未建表（没有迁移版本记录）"
    elif not _known(current):
        return (f"数据库 {database} 的架构版本 {current} 不在本版本 srdi 的迁移脚本中（最新为 {head}）；"
                "请使用与该数据库匹配的 srdi 版本")
    else:
        state = f"的架构版本 {current} 落后于本版本 srdi 的 {head}"
    return f"数据库 {database} {state}；请先运行 srdi db upgrade（建表、升级架构并载入行政区划与申报项目）"


def _known(revision: str) -> bool:
    from alembic.script import ScriptDirectory
    from alembic.util.exc import CommandError

    from srdi.migrate import alembic_config

    try:
        return ScriptDirectory.from_config(alembic_config()).get_revision(revision) is not None
    except CommandError:
        return False


def _is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def _sqlite_file_exists(url: str) -> bool:
    """Whether the SQLite file is there (checked without connecting, which would create it)."""
    from pathlib import Path

    if "///" not in url:
        return True                        # sqlite:// is an in-memory database
    path = url.split("///", 1)[-1]
    return not path or path == ":memory:" or Path(path).is_file()
