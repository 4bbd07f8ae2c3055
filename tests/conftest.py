"""Shared fixtures: a fresh database per test (copied from a session template), the clock."""

from __future__ import annotations

import os
import shutil
from datetime import datetime
from pathlib import Path

import pytest
from sqlmodel import Session, SQLModel

import models  # noqa: F401  (registers every table)
from models.db import make_engine
from srdi.clock import SHANGHAI, clock as the_clock
from tasks.jurisdictions import load_jurisdictions

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


@pytest.fixture(scope="session")
def template_db(tmp_path_factory) -> Path:
    """A SQLite file with the schema and the national jurisdiction table, built once."""
    path = tmp_path_factory.mktemp("template") / "srdi.db"
    engine = make_engine(f"sqlite:///{path}")
    SQLModel.metadata.create_all(engine)
    with engine.begin() as connection:
        load_jurisdictions(connection)
    engine.dispose()
    return path


@pytest.fixture
def db_url(template_db, tmp_path, monkeypatch) -> str:
    path = tmp_path / "srdi.db"
    shutil.copy(template_db, path)
    url = f"sqlite:///{path}"
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
