"""Create or upgrade the schema with Alembic (数据库迁移), then load the reference data.

``upgrade()`` is what ``srdi db upgrade`` and the demo call: it runs the scripts in
migrations/versions/ to head on the configured database (SQLite file or PostgreSQL) and then
loads, idempotently, the national jurisdiction table and the programme profiles. No
alembic.ini is needed: the configuration is built here.

0001 is the released schema and is frozen: a change of the tables is a new revision on top,
written by ``new_revision()`` (``make migration m="…"``, ``srdi db revision``) and reviewed by hand.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import func, inspect, select
from sqlalchemy.engine import Connection, Engine, make_url
from sqlmodel import SQLModel

import models  # noqa: F401  (registers every table)
from models.db import make_engine
from models.errors import SrdiError
from models.jurisdiction import Jurisdiction
from models.settings import REPO_ROOT, settings
from tasks.reference.jurisdictions import load_jurisdictions

MIGRATIONS_DIR = REPO_ROOT / "migrations"


class MigrationError(SrdiError):
    """The database cannot be brought to the schema this srdi expects."""


@dataclass
class SchemaState:
    database: str
    current: str | None
    head: str

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head

    def as_dict(self) -> dict:
        return {**asdict(self), "up_to_date": self.up_to_date}


@dataclass
class UpgradeReport:
    database: str
    before: str | None
    after: str
    applied: list[str] = field(default_factory=list)
    jurisdictions_added: int = 0
    jurisdictions_total: int = 0
    programmes_changed: int | None = None
    programmes_total: int | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def alembic_config(connection: Connection | None = None, url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def display_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def schema_state(url: str | None = None) -> SchemaState:
    """Which revision the database is at, and which one this srdi's migrations end at."""
    url = url or settings().database_url
    engine = make_engine(url)
    try:
        _check_connection(engine, url)
        with engine.connect() as connection:
            current = _current(connection)
    finally:
        engine.dispose()
    return SchemaState(display_url(url), current, head_revision())


def upgrade(url: str | None = None) -> UpgradeReport:
    """Migrate the database to head, then load jurisdictions and programmes; safe to re-run."""
    url = url or settings().database_url
    engine = make_engine(url)
    try:
        _check_connection(engine, url)
        with engine.begin() as connection:
            before = _current(connection)
            if before is None:
                _refuse_unversioned_tables(connection)
            _run_upgrade(connection, before)
            after = _current(connection)
        report = UpgradeReport(display_url(url), before, after, _revisions_between(before, after))
        with engine.begin() as connection:
            report.jurisdictions_added = load_jurisdictions(connection)
            report.jurisdictions_total = connection.execute(select(func.count()).select_from(Jurisdiction)).scalar_one()
        report.programmes_changed, report.programmes_total = _sync_programmes(engine)
        return report
    finally:
        engine.dispose()


def _run_upgrade(connection: Connection, before: str | None) -> None:
    try:
        command.upgrade(alembic_config(connection), "head")
    except CommandError as exc:
        raise MigrationError(
            f"数据库架构版本 {before} 不在本版本 srdi 的迁移脚本中（{exc}）；请使用与该数据库匹配的 srdi 版本"
        ) from None


def _refuse_unversioned_tables(connection: Connection) -> None:
    existing = set(inspect(connection).get_table_names()) & set(SQLModel.metadata.tables)
    if existing:
        raise MigrationError(
            f"数据库已有 {len(existing)} 张 srdi 数据表（如 {sorted(existing)[0]}）但没有迁移版本记录"
            "（alembic_version），无法判断其架构；请换一个空数据库，或删除这些表后重新运行 srdi db upgrade"
        )


def _revisions_between(before: str | None, after: str) -> list[str]:
    if before == after:
        return []
    scripts = ScriptDirectory.from_config(alembic_config())
    revisions = scripts.iterate_revisions(after, before or "base")
    return [r.revision for r in reversed(list(revisions))]


def _sync_programmes(engine: Engine) -> tuple[int | None, int | None]:
    """Mirror the programme profiles into SQL: (rows inserted or changed, rows in the table)."""
    try:
        from tasks.reference.programmes import sync_programmes
    except ModuleNotFoundError as exc:
        if exc.name == "tasks.reference.programmes":
            return None, None
        raise
    from models.programme import Programme

    with engine.begin() as connection:
        changed = sync_programmes(connection)
        total = connection.execute(select(func.count()).select_from(Programme)).scalar_one()
    return changed, total


def _check_connection(engine: Engine, url: str) -> None:
    try:
        engine.connect().close()
    except Exception as exc:  # the driver's own message names the cause (host, port, auth, file)
        raise MigrationError(f"无法连接数据库 {display_url(url)}：{_first_line(exc)}") from None


def _first_line(exc: Exception) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def revisions() -> list[str]:
    """Every revision from the first to head, in the order they apply."""
    scripts = ScriptDirectory.from_config(alembic_config())
    return [r.revision for r in reversed(list(scripts.walk_revisions()))]


def next_revision_id() -> str:
    """The next four-digit revision number after the highest one in migrations/versions/."""
    numbers = [int(r) for r in revisions() if r.isdigit()]
    return f"{max(numbers, default=0) + 1:04d}"


def new_revision(message: str) -> Path:
    """Write the next revision (e.g. versions/0003_….py), autogenerated from the models (development).

    Autogenerates against a scratch SQLite database migrated to the current head, so the script holds
    only what the models changed since, plus the per-dialect DDL the models attach to a created table
    (append-only triggers). Refuses when there is nothing to migrate. Review the script before committing:
    on SQLite an ALTER is a batch that recreates the table and drops its triggers, and a change of a
    column's meaning (e.g. its unit) needs a data step autogenerate cannot see.
    """
    if not message.strip():
        raise MigrationError("请用 -m 写明本次迁移做什么（如 -m \"session table\"）")
    scratch = Path(tempfile.mkdtemp(prefix="srdi-migration-"))
    engine = make_engine(f"sqlite:///{scratch / 'head.db'}")
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), "head")
            if not compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), SQLModel.metadata):
                raise MigrationError(f"模型与最新迁移 {head_revision()} 一致，无需新的迁移")
            script = command.revision(
                alembic_config(connection), message=message.strip(), autogenerate=True, rev_id=next_revision_id()
            )
    finally:
        engine.dispose()
        shutil.rmtree(scratch, ignore_errors=True)
    return Path(script.path)
