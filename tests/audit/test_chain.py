"""The audit chain: every audit row is sealed as it is written; tampering, deletion and forged rows are named."""

import json
import sqlite3

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from models.audit_chain import AUDITED, AuditSeal, verify
from models.transition import Transition
from srdi.cli.main import app

pytestmark = pytest.mark.postgres

runner = CliRunner()


@pytest.fixture(autouse=True)
def _ladder(programmes_dir):
    """Every test here opens the pipeline tests' "ladder" programme."""
    return programmes_dir


def srdi(*args):
    return runner.invoke(app, [str(a) for a in args])


def decided(world) -> tuple[int, int]:
    """Two applications at the county level, one recommended: transitions to tamper with."""
    call = world.open("ladder")
    first, second = world.apply(call, {"130102": 2})
    world.decide(first, "recommend")
    return first, second


def drop_trigger(engine, table: str) -> None:
    """What an attacker with DDL rights does first."""
    with engine.begin() as c:
        if engine.dialect.name == "postgresql":
            c.execute(text(f"DROP TRIGGER {table}_append_only ON {table}"))
        else:
            c.execute(text(f"DROP TRIGGER {table}_no_update"))
            c.execute(text(f"DROP TRIGGER {table}_no_delete"))


def raw(engine, statement: str) -> None:
    """A statement run outside srdi (psql / sqlite3 shell): no srdi code sees it."""
    if engine.dialect.name == "sqlite":
        with sqlite3.connect(make_url(engine.url).database) as c:
            c.execute(statement)
        return
    import psycopg

    url = make_url(engine.url).set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False)) as c:
        c.execute(statement)


def test_every_audit_row_is_sealed_in_the_transaction_that_wrote_it(world, engine, db_backend):
    decided(world)
    with engine.connect() as c:
        counts = {name: c.execute(select(func.count()).select_from(table)).scalar() for name, table in AUDITED.items()}
        seals = dict(c.execute(select(AuditSeal.table_name, func.sum(AuditSeal.row_count)).group_by(AuditSeal.table_name)).all())
        reports = verify(c)
    assert counts["transition"] == 3 and seals["transition"] == 3
    assert all(r.ok for r in reports), [r.problem for r in reports]
    assert {r.table: r.rows for r in reports} == {**counts, "application": 2}
    result = srdi("audit", "verify", "--json")
    assert result.exit_code == 0, result.output
    assert {r["table"]: r["rows"] for r in json.loads(result.stdout)}["transition"] == 3


def test_a_tampered_transition_is_named(world, engine, db_backend):
    first, _ = decided(world)
    drop_trigger(engine, "transition")
    target = world.log(first)[-1].id
    raw(engine, f"UPDATE transition SET reason = '材料齐全（改）', actor = 'someone' WHERE id = {target}")
    result = srdi("audit", "verify")
    assert result.exit_code == 1
    assert f"transition 第 {target} 行" in result.output and "内容被改" in result.output
    shown = srdi("application", "show", world.app(first).ref)
    assert "⚠ 内容与审计链不符" in shown.stdout


def test_a_deleted_transition_is_named(world, engine, db_backend):
    first, _ = decided(world)
    drop_trigger(engine, "transition")
    target = world.log(first)[0].id
    raw(engine, f"DELETE FROM transition WHERE id = {target}")
    result = srdi("audit", "verify", "--json")
    assert result.exit_code == 1
    report = {r["table"]: r for r in json.loads(result.stdout)}["transition"]
    assert report["row_id"] == target and "行缺失" in report["problem"]


def test_a_forged_back_dated_decision_is_named_and_marked(world, engine, db_backend):
    first, second = decided(world)
    row = world.log(second)[0]
    raw(engine, "INSERT INTO transition (application_id, at, actor, role, jurisdiction_code, action, from_level, from_status, "
                f"to_level, to_status, reason) VALUES ({second}, '2026-01-05 01:00:00', 'reviewer-130102', 'reviewer', "
                f"'130102', 'recommend', 'county', 'pending', 'county', 'recommended', '补录')")
    forged = world.log(second)[-1].id
    assert forged > row.id
    later = world.apply(world.app(first).call_id, {"130102": 1}, start=9)[0]
    world.decide(later, "recommend")                 # a later, legitimate commit does not seal the forged row
    result = srdi("audit", "verify")
    assert result.exit_code == 1
    assert f"transition 第 {forged} 行" in result.output and "链外插入" in result.output
    shown = srdi("application", "show", world.app(second).ref)
    assert shown.exit_code == 0, shown.output
    forged_line = [line for line in shown.stdout.splitlines() if "补录" in line]
    assert forged_line and "⚠ 未入审计链" in forged_line[0]
    events = json.loads(srdi("application", "show", world.app(second).ref, "--json").stdout)["events"]
    assert [e["audit"] for e in events] == [None, "未入审计链"]


def test_seal_then_verify_is_clean_and_the_seal_log_itself_is_append_only(world, engine, db_backend):
    decided(world)
    with pytest.raises(Exception, match="audit_seal is append-only"):
        with engine.begin() as c:
            c.execute(text("UPDATE audit_seal SET digest = 'x'"))
    assert srdi("audit", "seal").exit_code == 0
    with engine.connect() as c:
        before = c.execute(select(func.count()).select_from(AuditSeal)).scalar()
    assert "没有待封存的行" in srdi("audit", "seal").stdout
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(AuditSeal)).scalar() == before


def test_transitions_written_by_a_session_are_sealed_too(world, engine, session, db_backend):
    first, _ = decided(world)
    last = world.log(first)[-1]
    session.add(Transition(**{**last._mapping, "id": None, "reason": "经由 ORM 写入"}))
    session.commit()
    with engine.connect() as c:
        assert all(r.ok for r in verify(c, ["transition"]))


def test_a_status_edited_in_place_is_named(world, engine, db_backend):
    first, second = decided(world)
    raw(engine, f"UPDATE application SET status = 'recommended' WHERE id = {second}")
    result = srdi("audit", "verify", "--json")
    assert result.exit_code == 1
    report = {r["table"]: r for r in json.loads(result.stdout)}["application"]
    assert report["row_id"] == second and "状态被改" in report["problem"]
