"""Migrations: `srdi db upgrade` builds exactly the schema the models declare, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import DatabaseError
from sqlmodel import SQLModel
from typer.testing import CliRunner

from models import Application, Call, Enterprise, Programme
from models.db import make_engine
from srdi.migrate import MigrationError, alembic_config, head_revision, revisions, upgrade

pytestmark = pytest.mark.postgres  # runs on SQLite and, with SRDI_TEST_POSTGRES_URL, on PostgreSQL

REGENERATE_HINT = "the models changed since the last migration: run `make migration m=\"…\"` and review the new revision"


@pytest.fixture
def migrated(empty_db_url):
    """A database built by the migrations alone (no create_all)."""
    upgrade(empty_db_url)
    engine = make_engine(empty_db_url)
    yield engine
    engine.dispose()


def schema_differences(engine) -> list:
    with engine.connect() as connection:
        return compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), SQLModel.metadata)


def row_counts(engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {t: connection.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one() for t in SQLModel.metadata.tables}


def test_migrated_schema_equals_the_models(migrated):
    assert schema_differences(migrated) == [], REGENERATE_HINT
    with migrated.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == head_revision()


def test_schema_comparison_notices_a_missing_index(migrated):
    """The equality check above can fail: an index the models declare but the database lacks is reported."""
    with migrated.begin() as connection:
        connection.execute(text("DROP INDEX ix_application_call_level_status"))
    differences = schema_differences(migrated)
    assert [(d[0], d[1].name) for d in differences] == [("add_index", "ix_application_call_level_status")]


def _insert_transition(engine) -> None:
    now = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)
    with engine.begin() as c:
        c.execute(Programme.__table__.insert(),
                  [{"id": "p", "name": "河北省专精特新", "tier": "provincial_srdi", "documents": [], "profile_sha256": "x"}])
        c.execute(Call.__table__.insert(),
                  [{"id": "c", "programme_id": "p", "name": "2026年第一批", "year": 2026, "jurisdiction_code": "130000",
                    "opens_at": now, "status": "open"}])
        c.execute(Enterprise.__table__.insert(),
                  [{"id": 1, "uscc": "91110000600037341L", "name": "样例企业", "size": "small", "industry_code": "C34",
                    "jurisdiction_code": "130102"}])
        c.execute(Application.__table__.insert(),
                  [{"id": 1, "ref": "A1", "call_id": "c", "enterprise_id": 1, "jurisdiction_code": "130102", "level": "county",
                    "status": "pending", "version": 1, "facts": {}}])
        c.execute(
            text("INSERT INTO transition (application_id, at, actor, role, jurisdiction_code, action, to_level, to_status) "
                 "VALUES (1, :at, 'system', 'system', '130102', 'submit', 'county', 'pending')"),
            {"at": now},
        )


def test_migrated_transition_log_refuses_update_and_delete(migrated):
    _insert_transition(migrated)
    for statement in ("UPDATE transition SET reason = '改写历史'", "DELETE FROM transition"):
        with pytest.raises(DatabaseError, match="append-only"):
            with migrated.begin() as c:
                c.execute(text(statement))
    with migrated.connect() as c:
        assert c.execute(text("SELECT count(*) FROM transition WHERE reason IS NULL")).scalar_one() == 1


def test_second_upgrade_changes_nothing(empty_db_url):
    first = upgrade(empty_db_url)
    assert (first.before, first.applied) == (None, revisions())
    assert first.jurisdictions_added == first.jurisdictions_total > 3000
    assert first.programmes_changed == first.programmes_total > 0
    engine = make_engine(empty_db_url)
    before = row_counts(engine)

    second = upgrade(empty_db_url)

    assert (second.before, second.after, second.applied) == (head_revision(), head_revision(), [])
    assert (second.jurisdictions_added, second.jurisdictions_total) == (0, first.jurisdictions_total)
    assert (second.programmes_changed, second.programmes_total) == (0, first.programmes_total)
    assert row_counts(engine) == before
    engine.dispose()


def test_downgrade_to_base_removes_everything_and_upgrade_restores_it(migrated, empty_db_url):
    with migrated.begin() as connection:
        command.downgrade(alembic_config(connection), "base")
    with migrated.connect() as connection:
        assert inspect(connection).get_table_names() == ["alembic_version"]
        if connection.dialect.name == "postgresql":
            assert connection.execute(text("SELECT count(*) FROM pg_type WHERE typtype = 'e'")).scalar_one() == 0
    upgrade(empty_db_url)
    assert schema_differences(migrated) == []


def test_upgrade_refuses_a_database_built_without_migrations(db_url):
    """A database whose tables came from create_all has no version: refuse, change nothing."""
    engine = make_engine(db_url)
    before = row_counts(engine)
    with pytest.raises(MigrationError, match="没有迁移版本记录"):
        upgrade(db_url)
    assert row_counts(engine) == before
    with engine.connect() as connection:
        assert "alembic_version" not in inspect(connection).get_table_names()
    engine.dispose()


def test_db_commands_report_in_chinese(empty_db_url):
    from srdi.cli.db_cmd import app

    runner = CliRunner()
    first = runner.invoke(app, ["upgrade"])
    assert first.exit_code == 0, first.output
    assert f"执行迁移 {len(revisions())} 个（{', '.join(revisions())}）" in first.output
    added, total = map(int, re.search(r"行政区划：新增 (\d+) 个，共 (\d+) 个", first.output).groups())
    assert added == total > 3000

    second = runner.invoke(app, ["upgrade"])
    assert second.exit_code == 0, second.output
    assert f"已是最新版本 {head_revision()}" in second.output and f"行政区划：新增 0 个，共 {total} 个" in second.output
    assert "申报项目：新增或更新 0 个" in second.output

    current = runner.invoke(app, ["current", "--json"])
    assert current.exit_code == 0, current.output
    assert json.loads(current.output) | {"database": None} == {
        "database": None, "current": head_revision(), "head": head_revision(), "up_to_date": True
    }


def test_unreachable_database_is_one_clear_error():
    with pytest.raises(MigrationError, match=r"无法连接数据库 postgresql://srdi:\*\*\*@127.0.0.1:1/srdi：.*refused") as refused:
        upgrade("postgresql://srdi:secret@127.0.0.1:1/srdi")
    assert "secret" not in str(refused.value)
