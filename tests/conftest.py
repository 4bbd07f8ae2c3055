"""Shared fixtures: a fresh database per test (copied from a session template), the clock.

Databases: ``db_url`` / ``engine`` / ``session`` give each test its own database holding the
schema and the national jurisdiction table — a SQLite file by default. Tests marked
``postgres`` run twice, on SQLite and on PostgreSQL, when ``SRDI_TEST_POSTGRES_URL`` names a
server whose user may create databases (e.g. ``postgresql://postgres@127.0.0.1:5432/postgres``);
without it the PostgreSQL half is skipped. ``empty_db_url`` is an empty database on the same
backends (for migrations); ``pg_url`` an empty PostgreSQL database by itself.
"""

from __future__ import annotations

import os
import shutil
import uuid
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlmodel import Session, SQLModel

import models  # noqa: F401  (registers every table)
from models.clock import SHANGHAI
from models.clock import clock as the_clock
from models.db import make_engine
from tasks.reference.jurisdictions import load_jurisdictions

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

POSTGRES_URL_VARIABLE = "SRDI_TEST_POSTGRES_URL"
BACKENDS = ["sqlite", "postgres"]


def pytest_generate_tests(metafunc):
    """A test marked ``postgres`` that uses a database runs once per backend."""
    if "db_backend" in metafunc.fixturenames and metafunc.definition.get_closest_marker("postgres"):
        metafunc.parametrize("db_backend", BACKENDS, indirect=True)


def _build(url: str) -> None:
    """Create the schema from the models and load the national jurisdiction table."""
    engine = make_engine(url)
    SQLModel.metadata.create_all(engine)
    with engine.begin() as connection:
        load_jurisdictions(connection)
    engine.dispose()


class PostgresServer:
    """Creates and drops throw-away databases on the server named by SRDI_TEST_POSTGRES_URL."""

    def __init__(self, url: str):
        self.url = make_url(url)
        self.admin = make_engine(url).execution_options(isolation_level="AUTOCOMMIT")

    def url_for(self, database: str) -> str:
        return self.url.set(database=database).render_as_string(hide_password=False)

    def create_database(self, template: str | None = None) -> str:
        name = f"srdi_t_{uuid.uuid4().hex[:12]}"
        clause = f' TEMPLATE "{template}"' if template else ""
        with self.admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"{clause}'))
        return name

    def drop_database(self, name: str) -> None:
        with self.admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def pg_server():
    url = os.environ.get(POSTGRES_URL_VARIABLE)
    if not url:
        pytest.skip(f"{POSTGRES_URL_VARIABLE} is not set")
    server = PostgresServer(url)
    with server.admin.connect() as connection:  # set but unreachable is an error, not a skip
        connection.execute(text("SELECT 1"))
    yield server
    server.admin.dispose()


@pytest.fixture(scope="session")
def pg_template(pg_server) -> str:
    """A PostgreSQL database with the schema and jurisdictions, copied for each test."""
    name = pg_server.create_database()
    _build(pg_server.url_for(name))
    yield name
    pg_server.drop_database(name)


@pytest.fixture
def pg_url(pg_server, monkeypatch) -> str:
    """A fresh, empty PostgreSQL database, dropped after the test."""
    name = pg_server.create_database()
    url = pg_server.url_for(name)
    monkeypatch.setenv("SRDI_DATABASE_URL", url)
    yield url
    pg_server.drop_database(name)


@pytest.fixture
def db_backend(request) -> str:
    """The backend: sqlite, or postgres for the second run of a test marked ``postgres``."""
    return getattr(request, "param", "sqlite")


@pytest.fixture(scope="session")
def template_db(tmp_path_factory) -> Path:
    """A SQLite file with the schema and the national jurisdiction table, built once."""
    path = tmp_path_factory.mktemp("template") / "srdi.db"
    _build(f"sqlite:///{path}")
    return path


@pytest.fixture
def db_url(db_backend, request, tmp_path, monkeypatch) -> str:
    if db_backend == "postgres":
        server = request.getfixturevalue("pg_server")
        name = server.create_database(template=request.getfixturevalue("pg_template"))
        request.addfinalizer(lambda: server.drop_database(name))
        url = server.url_for(name)
    else:
        path = tmp_path / "srdi.db"
        shutil.copy(request.getfixturevalue("template_db"), path)
        url = f"sqlite:///{path}"
    monkeypatch.setenv("SRDI_DATABASE_URL", url)
    return url


@pytest.fixture
def empty_db_url(db_backend, request, tmp_path, monkeypatch) -> str:
    """An empty database (no tables) on the test's backend, for migrations."""
    if db_backend == "postgres":
        return request.getfixturevalue("pg_url")
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    monkeypatch.setenv("SRDI_DATABASE_URL", url)
    return url


@pytest.fixture
def engine(db_url):
    from models.db import get_engine

    engine = get_engine()
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine):
    with Session(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def clock():
    """The process clock, frozen at 2026-03-02 09:00 Beijing time; released afterwards."""
    the_clock.set(datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI))
    yield the_clock
    the_clock.release()


@pytest.fixture(scope="session")
def prefect_harness(tmp_path_factory):
    """One Prefect test server for every real flow test in the session, heartbeats off (stack-notes §4)."""
    import os

    os.environ.setdefault("PREFECT_HOME", str(tmp_path_factory.mktemp("prefect-home")))
    from prefect.logging.configuration import setup_logging
    from prefect.settings import temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    # Prefect's console handler keeps the stream it was created with; if Prefect was first imported
    # inside a CliRunner invocation that stream is closed by now, so bind the handlers afresh.
    setup_logging(incremental=False)
    with prefect_test_harness(server_startup_timeout=60):
        with temporary_settings(updates={"flows.heartbeat_frequency": None}):
            yield
