"""Storage: the jurisdiction tree and the append-only transition log."""

from datetime import datetime, timezone

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError
from sqlmodel import select

from models import Jurisdiction
from models.enums import JurisdictionLevel
from tasks.people.scope import covers

pytestmark = pytest.mark.postgres  # runs on SQLite and, with SRDI_TEST_POSTGRES_URL, on PostgreSQL


def test_jurisdiction_tree_comes_from_the_national_table(session):
    hebei = session.get(Jurisdiction, "130000")
    shijiazhuang = session.get(Jurisdiction, "130100")
    changan = session.get(Jurisdiction, "130102")
    assert (hebei.name, hebei.level) == ("河北省", JurisdictionLevel.province)
    assert (shijiazhuang.parent_code, shijiazhuang.level) == ("130000", JurisdictionLevel.prefecture)
    assert changan.parent_code == "130100" and covers(hebei.path, changan.path) and not covers(changan.path, hebei.path)
    cities = session.exec(select(Jurisdiction).where(Jurisdiction.parent_code == "130000")).all()
    assert {"石家庄市", "保定市", "雄安新区"} <= {c.name for c in cities}


def test_jurisdiction_load_is_idempotent(engine):
    from tasks.reference.jurisdictions import load_jurisdictions

    with engine.begin() as connection:
        assert load_jurisdictions(connection) == 0


def _insert_transition(engine):
    from models import Application, Call, Enterprise, Programme

    now = datetime(2026, 3, 2, tzinfo=timezone.utc)
    with engine.begin() as c:
        c.execute(Programme.__table__.insert(),
                  [{"id": "p", "name": "p", "tier": "provincial_srdi", "documents": [], "profile_sha256": "x"}])
        c.execute(Call.__table__.insert(),
                  [{"id": "c", "programme_id": "p", "name": "c", "year": 2026, "jurisdiction_code": "130000", "opens_at": now,
                    "status": "open"}])
        c.execute(Enterprise.__table__.insert(),
                  [{"id": 1, "uscc": "91110000600037341L", "name": "e", "size": "small", "industry_code": "C34",
                    "jurisdiction_code": "130102"}])
        c.execute(Application.__table__.insert(),
                  [{"id": 1, "ref": "A1", "call_id": "c", "enterprise_id": 1, "jurisdiction_code": "130102", "level": "county",
                    "status": "pending", "version": 1, "facts": {}}])
        c.execute(text("INSERT INTO transition (application_id, at, actor, role, jurisdiction_code, action, to_level, to_status) "
                       "VALUES (1, :at, 'system', 'system', '130102', 'submit', 'county', 'pending')"), {"at": now})


def test_transition_log_refuses_update_and_delete(engine):
    _insert_transition(engine)
    for statement in ("UPDATE transition SET reason = 'x'", "DELETE FROM transition"):
        with pytest.raises(DatabaseError, match="append-only"):
            with engine.begin() as c:
                c.execute(text(statement))
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM transition WHERE reason IS NULL")).scalar() == 1
