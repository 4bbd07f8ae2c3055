"""Create or upgrade the schema with Alembic (数据库迁移), then load the reference data.

``upgrade()`` is what ``srdi db upgrade`` and the demo call: it runs the scripts in
migrations/versions/ to head on the configured database (SQLite file or PostgreSQL) and then
loads, idempotently, the national jurisdiction table and the programme profiles. No
alembic.ini is needed: the configuration is built here.

Before the first release the schema has a single initial revision, regenerated from the
models by ``regenerate_initial()`` (``make migration``) instead of stacking revisions.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from alembic import command
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
INITIAL_REVISION = "0001"
INITIAL_SCRIPT = MIGRATIONS_DIR / "versions" / f"{INITIAL_REVISION}_initial.py"


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


def regenerate_initial() -> Path:
    """Rewrite versions/0001_initial.py from the current models (development, pre-release).

    Autogenerates against an empty SQLite database, so the script creates every table, index,
    enum and constraint of SQLModel.metadata plus the per-dialect DDL the models attach to
    CREATE TABLE (the transition log's append-only triggers). Deterministic: the same models
    give the same file.
    """
    scratch = Path(tempfile.mkdtemp(prefix="srdi-migration-"))
    previous = INITIAL_SCRIPT.read_bytes() if INITIAL_SCRIPT.exists() else None
    INITIAL_SCRIPT.unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{scratch / 'empty.db'}")
    try:
        with engine.begin() as connection:
            command.revision(
                alembic_config(connection), message="initial", autogenerate=True, rev_id=INITIAL_REVISION
            )
    except BaseException:
        if previous is not None and not INITIAL_SCRIPT.exists():
            INITIAL_SCRIPT.write_bytes(previous)
        raise
    finally:
        engine.dispose()
        shutil.rmtree(scratch, ignore_errors=True)
    return INITIAL_SCRIPT
