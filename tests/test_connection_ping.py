"""A pooled PostgreSQL connection is pinged only after it sat idle; a dead one is then replaced, not handed out."""

import pytest
from sqlalchemy import text

import models.db as db

pytestmark = pytest.mark.postgres


def _backend_pid(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(text("SELECT pg_backend_pid()")).scalar()


def _kill(url: str, pid: int) -> None:
    killer = db.make_engine(url)
    with killer.begin() as connection:
        assert connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
    killer.dispose()


@pytest.fixture
def pg_engine(db_backend, db_url):
    if db_backend != "postgres":
        pytest.skip("the idle ping is PostgreSQL's (SQLite has no server to lose)")
    engine = db.make_engine(db_url)
    yield engine
    engine.dispose()


def test_a_connection_lost_while_idle_is_replaced(pg_engine, db_url, monkeypatch):
    first = _backend_pid(pg_engine)
    _kill(db_url, first)
    monkeypatch.setattr(db, "IDLE_PING_SECONDS", 0.0)          # every checkout has been idle "long enough"
    assert _backend_pid(pg_engine) != first                    # pinged, found dead, replaced: the caller sees nothing


def test_a_connection_just_returned_is_not_pinged(pg_engine, monkeypatch):
    pings = []
    monkeypatch.setattr(pg_engine.dialect, "do_ping", lambda dbapi_connection: pings.append(1) or True)
    monkeypatch.setattr(db, "IDLE_PING_SECONDS", 3600.0)
    first = _backend_pid(pg_engine)
    assert _backend_pid(pg_engine) == first and pings == []   # reused at once: no round trip spent on a ping
    monkeypatch.setattr(db, "IDLE_PING_SECONDS", 0.0)
    assert _backend_pid(pg_engine) == first and pings == [1]  # idle "long enough": pinged, alive, kept
