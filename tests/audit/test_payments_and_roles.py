"""Payments are immutable; on PostgreSQL no one truncates an audit table, and the service role cannot rewrite it."""

import uuid

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import make_url

from models.audit_chain import AUDIT_TABLES, service_role_grants, verify
from models.db import make_engine
from models.funding import Payment
from tasks.funding.disbursement import run_disbursement
from tasks.funding.payments import record_adjustment
from tests.funding.conftest import BEIJING, approved, at, profile  # noqa: F401

pytestmark = pytest.mark.postgres


@pytest.fixture
def paid(engine, approved, tmp_path) -> int:  # noqa: F811
    run_disbursement(engine, BEIJING, 1, received_at=at("2021-08-10 09:00"), out_dir=tmp_path)
    with engine.connect() as c:
        return c.execute(select(Payment.id).order_by(Payment.id)).scalars().first()


def test_a_payment_cannot_be_changed_or_deleted_only_corrected_by_an_adjustment(engine, paid, db_backend):
    for statement in (f"UPDATE payment SET amount_wan = 1 WHERE id = {paid}", f"DELETE FROM payment WHERE id = {paid}"):
        with pytest.raises(Exception, match="payment is immutable"):
            with engine.begin() as c:
                c.execute(text(statement))
    with engine.begin() as c:
        record_adjustment(c, paid, "deduction", "10", "assessment_result", decided_by="reviewer-110000")
    with engine.connect() as c:
        reports = {r.table: r for r in verify(c)}
    assert reports["payment"].ok and reports["payment"].rows == 11
    assert reports["payment_adjustment"].ok and reports["payment_adjustment"].rows == 1


def _pg_only(db_backend):
    if db_backend != "postgres":
        pytest.skip("TRUNCATE triggers and database roles are PostgreSQL's")


def test_truncate_is_refused_on_every_audit_table(engine, paid, db_backend):
    _pg_only(db_backend)
    for table in AUDIT_TABLES:
        with pytest.raises(Exception, match="append-only|immutable"):
            with engine.begin() as c:
                c.execute(text(f"TRUNCATE {table} CASCADE"))


def test_the_service_role_cannot_update_delete_or_truncate_the_transition_log(engine, paid, db_backend):
    _pg_only(db_backend)
    role = f"srdi_service_{uuid.uuid4().hex[:8]}"
    with engine.begin() as c:
        c.execute(text(f"CREATE ROLE \"{role}\" LOGIN PASSWORD 'x' NOSUPERUSER NOCREATEDB NOCREATEROLE"))
        for statement in service_role_grants(role, inspect(c).get_table_names()):
            c.execute(text(statement))
    service = make_engine(make_url(engine.url).set(username=role, password="x").render_as_string(hide_password=False))
    try:
        with service.begin() as c:                       # it may read and append
            c.execute(text("SELECT count(*) FROM transition")).scalar()
            c.execute(text("SELECT count(*) FROM payment")).scalar()
        for statement in ("UPDATE transition SET reason = 'x'", "DELETE FROM transition", "TRUNCATE transition",
                          "UPDATE payment SET amount_wan = 0", "TRUNCATE payment CASCADE",
                          "DROP TRIGGER transition_append_only ON transition", "ALTER TABLE transition DISABLE TRIGGER ALL",
                          "CREATE TABLE intruder (id int)"):
            with pytest.raises(Exception, match="permission denied|must be owner"):
                with service.begin() as c:
                    c.execute(text(statement))
    finally:
        service.dispose()
        with engine.begin() as c:
            c.execute(text(f'DROP OWNED BY "{role}"'))
            c.execute(text(f'DROP ROLE "{role}"'))
