"""The embedded default just works: the first command on a fresh checkout creates and migrates
the SQLite database; on PostgreSQL an unmigrated database is refused with one line naming
`srdi db upgrade`. Run as a bureau runs it: the installed `srdi` script, in a subprocess."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from models.db import make_engine
from srdi.migrate import head_revision

SRDI = Path(sys.executable).with_name("srdi")


def srdi(tmp_path: Path, url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "SRDI_DATABASE_URL": url, "PREFECT_HOME": str(tmp_path / "prefect"),
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "SRDI_HOME": str(tmp_path / "home")}
    return subprocess.run([str(SRDI), *args], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)


def tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as connection:
        return {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def test_first_command_on_a_fresh_checkout_creates_and_migrates_the_database(tmp_path):
    db = tmp_path / "x.db"
    url = f"sqlite:///{db}"
    first = srdi(tmp_path, url, "call", "list", "--json")
    assert first.returncode == 0, first.stderr
    assert "Traceback" not in first.stdout + first.stderr
    assert first.stdout.strip() == "[]"                       # stdout stays machine-readable
    assert first.stderr.strip().splitlines() == [f"已创建数据库 {url} 并升级到最新架构 {head_revision()}"]
    assert {"alembic_version", "call", "application", "jurisdiction", "programme"} <= tables(db)
    with sqlite3.connect(db) as connection:
        assert connection.execute("SELECT version_num FROM alembic_version").fetchall() == [(head_revision(),)]
        assert connection.execute("SELECT count(*) FROM jurisdiction").fetchone()[0] > 3000   # reference data loaded
        assert connection.execute("SELECT count(*) FROM programme").fetchone()[0] > 0

    again = srdi(tmp_path, url, "call", "list")
    assert again.returncode == 0 and again.stderr == ""          # at head: nothing migrated, nothing said
    assert "申报批次" in again.stdout


def test_an_empty_file_left_by_an_older_srdi_is_migrated(tmp_path):
    db = tmp_path / "srdi.db"
    db.touch()                                                    # what `srdi call list` used to leave behind
    done = srdi(tmp_path, f"sqlite:///{db}", "notice", "list", "--json")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]" and "notice" in tables(db)


@pytest.mark.parametrize("args", [
    ["calendar", "is-workday", "2026-10-09"],
    ["programmes", "list", "--json"],
    ["call", "list", "--help"],
    ["call", "open"],                                             # a usage error is answered before any database
])
def test_commands_without_the_database_do_not_create_one(tmp_path, args):
    db = tmp_path / "never.db"
    done = srdi(tmp_path, f"sqlite:///{db}", *args)
    assert done.returncode in (0, 2), done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert not db.exists() and not (tmp_path / "home").exists()


def test_a_database_from_a_newer_srdi_is_refused_in_one_line(tmp_path):
    db = tmp_path / "newer.db"
    url = f"sqlite:///{db}"
    assert srdi(tmp_path, url, "call", "list").returncode == 0
    with sqlite3.connect(db) as connection:
        connection.execute("UPDATE alembic_version SET version_num = 'ffff'")
    done = srdi(tmp_path, url, "call", "list")
    assert done.returncode == 1 and done.stdout == ""
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("错误：") and "ffff" in line and "Traceback" not in done.stderr


@pytest.mark.postgres
def test_an_unmigrated_postgres_database_is_refused_naming_srdi_db_upgrade(tmp_path, pg_url):
    refused = srdi(tmp_path, pg_url, "call", "list")
    assert refused.returncode == 1 and refused.stdout == ""
    [line] = refused.stderr.strip().splitlines()
    assert line.startswith("错误：") and "srdi db upgrade" in line and "尚未建表" in line
    assert "Traceback" not in refused.stderr
    engine = make_engine(pg_url)
    with engine.connect() as connection:                          # refused means untouched
        assert connection.execute(text("SELECT count(*) FROM information_schema.tables "
                                       "WHERE table_schema = 'public'")).scalar_one() == 0

    upgraded = srdi(tmp_path, pg_url, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    listed = srdi(tmp_path, pg_url, "call", "list", "--json")
    assert listed.returncode == 0 and listed.stdout.strip() == "[]" and listed.stderr == ""

    with engine.begin() as connection:                            # a database at another revision
        connection.execute(text("UPDATE alembic_version SET version_num = 'ffff'"))
    engine.dispose()
    behind = srdi(tmp_path, pg_url, "call", "list")
    assert behind.returncode == 1
    [line] = behind.stderr.strip().splitlines()
    assert line.startswith("错误：") and "ffff" in line


def test_ensure_schema_checks_once_per_process(tmp_path, monkeypatch):
    from srdi import database

    url = f"sqlite:///{tmp_path / 'once.db'}"
    database.ensure_schema(url)
    calls = []
    monkeypatch.setattr(database, "_revisions", lambda u: calls.append(u))
    database.ensure_schema(url)                                   # cached: no query at all
    assert calls == []
    database.forget()
