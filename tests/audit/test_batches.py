"""Seal batches: one seal per table and transaction, each row still named when it fails; seals from 0003 still verify."""

from datetime import datetime, timezone
from typing import Optional

import pytest
from alembic import command
from sqlalchemy import func, select, text

from models import Application, Call, Enterprise, Programme
from models.audit_chain import INSERT_BATCH, SPAN, AuditSeal, head, row_marks, seal, verify
from models.audit_seal import Driver, batch_digest, column_names, pack_ids, row_digests, select_list, unpack_ids
from models.db import make_engine
from srdi.migrate import alembic_config
from tasks.reference.jurisdictions import load_jurisdictions
from tests.audit.test_chain import drop_trigger, raw, srdi

pytestmark = pytest.mark.postgres


@pytest.fixture(autouse=True)
def _ladder(programmes_dir):
    return programmes_dir


def transition_report(engine):
    with engine.connect() as c:
        return verify(c, ["transition"])[0]


def seals(engine) -> list:
    with engine.connect() as c:
        return c.execute(select(AuditSeal.row_id, AuditSeal.last_row_id, AuditSeal.row_count)
                         .where(AuditSeal.table_name == "transition").order_by(AuditSeal.seq)).all()


def forged_insert(application_id: int, row_id: Optional[int], reason: Optional[str]) -> str:
    """A transition row written outside srdi, with the given id (else the next one)."""
    column, value = ("id, ", f"{row_id}, ") if row_id else ("", "")
    reason = "NULL" if reason is None else f"'{reason}'"
    return (f"INSERT INTO transition ({column}application_id, at, actor, role, jurisdiction_code, action, to_level, to_status, "
            f"reason) VALUES ({value}{application_id}, '2026-03-02 01:00:00', 'system', 'system', '130102', 'submit', 'county', "
            f"'pending', {reason})")


def test_packed_ids_round_trip_with_gaps():
    for ids in ([7], [1, 2, 3, 4], [3, 5, 6, 9, 10, 11, 40]):
        assert unpack_ids(pack_ids(ids)) == ids
    assert len(pack_ids(list(range(100, 5000)))) == 16


def test_one_seal_per_transaction_and_a_tampered_row_inside_it_is_named(world, engine, db_backend):
    call = world.open("ladder")
    applications = world.apply(call, {"130102": 5})
    assert [(count) for _, _, count in seals(engine)] == [5]
    target = world.log(applications[2])[0].id
    drop_trigger(engine, "transition")
    raw(engine, f"UPDATE transition SET actor = 'someone' WHERE id = {target}")
    report = transition_report(engine)
    assert (report.row_id, report.problem) == (target, f"内容被改：第 {target} 行的内容与封存时的摘要不符")
    ids = [world.log(a)[0].id for a in applications]
    with engine.connect() as c:
        assert row_marks(c, "transition", ids) == {i: ("内容与审计链不符" if i == target else None) for i in ids}
    result = srdi("audit", "verify")
    assert result.exit_code == 1 and f"transition 第 {target} 行" in result.output


def test_a_deleted_seal_batch_breaks_the_chain_at_the_next_one(world, engine, db_backend):
    call = world.open("ladder")
    first = world.apply(call, {"130102": 2})
    world.decide(first[0], "recommend")
    later = world.apply(call, {"130102": 2}, start=5)
    batches = seals(engine)
    assert len(batches) == 3
    drop_trigger(engine, "audit_seal")
    raw(engine, f"DELETE FROM audit_seal WHERE table_name = 'transition' AND row_id = {batches[1][0]}")
    report = transition_report(engine)
    assert report.row_id == batches[2][0] and report.problem.startswith(f"审计链断开：第 {batches[2][0]}–{batches[2][1]} 行的封存批次")
    raw(engine, f"DELETE FROM audit_seal WHERE table_name = 'transition' AND row_id >= {batches[1][0]}")    # the head, too
    report = transition_report(engine)
    assert report.row_id == batches[1][0] and report.problem.startswith(f"链外插入：第 {batches[1][0]} 行不在审计链中")
    assert report.unsealed == 3 and later


def test_a_rewritten_row_digest_fails_its_batch_digest(world, engine, db_backend):
    call = world.open("ladder")
    world.apply(call, {"130102": 3})
    ((first, last, _),) = seals(engine)
    drop_trigger(engine, "audit_seal")
    zeros = "00" * 32 * 3                            # as if someone re-digested the rows after changing them
    blob = f"x'{zeros}'" if db_backend == "sqlite" else f"'\\x{zeros}'::bytea"
    raw(engine, f"UPDATE audit_seal SET row_digests = {blob} WHERE row_id = {first}")
    report = transition_report(engine)
    assert (report.row_id, report.problem) == (first, f"封存被改：第 {first}–{last} 行的封存批次与其摘要不符")
    with engine.connect() as c:
        assert set(row_marks(c, "transition", list(range(first, last + 1))).values()) == {"内容与审计链不符"}


def test_ids_with_gaps_and_beyond_one_span_are_sealed_in_several_batches(world, engine, db_backend):
    call = world.open("ladder")
    (application,) = world.apply(call, {"130102": 1})
    base = world.log(application)[0].id + 10
    forged = [base, base + 2, base + 3, base + SPAN + 7]
    for row_id in forged:
        raw(engine, forged_insert(application, row_id, f"补录 {row_id}"))
    assert transition_report(engine).row_id == base
    with engine.begin() as c:
        assert seal(c) == {"transition": 4}
    assert [row[1:] for row in seals(engine)[1:]] == [(base + 3, 3), (base + SPAN + 7, 1)]
    assert transition_report(engine).ok and transition_report(engine).rows == 5
    drop_trigger(engine, "transition")
    raw(engine, f"UPDATE transition SET reason = '改' WHERE id = {base + 2}")
    assert transition_report(engine).row_id == base + 2
    with engine.connect() as c:
        assert row_marks(c, "transition", forged) == {base: None, base + 2: "内容与审计链不符", base + 3: None, base + SPAN + 7: None}


def test_a_database_sealed_under_0003_still_verifies_after_the_upgrade(empty_db_url, db_backend):
    engine = make_engine(empty_db_url)
    with engine.begin() as c:
        command.upgrade(alembic_config(c), "0003")
        load_jurisdictions(c)
    now = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)
    with engine.begin() as c:
        c.execute(Programme.__table__.insert(), [{"id": "p", "name": "河北省专精特新", "tier": "provincial_srdi", "documents": [],
                                                  "profile_sha256": "x"}])
        c.execute(Call.__table__.insert(), [{"id": "c", "programme_id": "p", "name": "2026年第一批", "year": 2026,
                                             "jurisdiction_code": "130000", "opens_at": now, "status": "open"}])
        c.execute(Enterprise.__table__.insert(), [{"id": 1, "uscc": "91110000600037341L", "name": "样例企业", "size": "small",
                                                   "industry_code": "C34", "jurisdiction_code": "130102"}])
        c.execute(Application.__table__.insert(), [{"id": 1, "ref": "A1", "call_id": "c", "enterprise_id": 1, "jurisdiction_code": "130102",
                                                    "level": "county", "status": "pending", "version": 1, "facts": {}}])
    for row_id in (1, 2):
        raw(engine, forged_insert(1, None, f"升级前 {row_id}"))        # outside srdi: 0003's layout has no batch columns
    with engine.begin() as c:
        assert seal(c) == {"transition": 2}                                 # 0003's one seal per row
        assert c.execute(select(func.count()).select_from(AuditSeal)).scalar() == 2
        command.upgrade(alembic_config(c), "head")
    with engine.begin() as c:
        c.execute(text("INSERT INTO transition (application_id, at, actor, role, jurisdiction_code, action, to_level, to_status) "
                       "VALUES (1, :at, 'system', 'system', '130102', 'submit', 'county', 'pending')"), [{"at": now}, {"at": now}])
    assert [row[1:] for row in seals(engine)] == [(None, None), (None, None), (4, 2)]
    report = transition_report(engine)
    assert report.ok and report.rows == 4
    with engine.connect() as c:
        assert row_marks(c, "transition", [1, 2, 3, 4]) == {1: None, 2: None, 3: None, 4: None}
    drop_trigger(engine, "transition")
    raw(engine, "UPDATE transition SET reason = '改写' WHERE id = 2")
    report = transition_report(engine)
    assert (report.row_id, report.problem) == (2, "内容被改：第 2 行的内容与封存时的摘要不符")
    with engine.connect() as c:
        assert row_marks(c, "transition", [1, 2, 3]) == {1: None, 2: "内容与审计链不符", 3: None}
    engine.dispose()


def test_interleaved_transactions_on_postgresql_seal_their_own_rows(world, engine, db_backend):
    """Two writers at once: ids interleave, each seals only its own rows (runs with gaps), the chain verifies."""
    if db_backend == "sqlite":
        pytest.skip("SQLite has one writer at a time")
    call = world.open("ladder")
    (application,) = world.apply(call, {"130102": 1})
    insert = text("INSERT INTO transition (application_id, at, actor, role, jurisdiction_code, action, to_level, to_status, reason) "
                  "VALUES (:a, :at, 'system', 'system', '130102', 'submit', 'county', 'pending', :reason)")
    at = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)
    with engine.connect() as one, engine.connect() as two:
        for step, connection in enumerate((one, two, one, two, one)):
            connection.execute(insert, {"a": application, "at": at, "reason": f"并发 {step}"})
        two.commit()
        one.commit()
    batches = seals(engine)
    assert [row[2] for row in batches[-2:]] == [2, 3]
    report = transition_report(engine)
    assert report.ok and report.rows == 6


def test_a_seal_made_before_a_column_was_added_verifies_while_that_column_stays_null(world, engine, db_backend):
    """A batch hashed without ``reason`` (as if sealed before the column existed) verifies; writing reason later is named."""
    call = world.open("ladder")
    (application,) = world.apply(call, {"130102": 1})
    raw(engine, forged_insert(application, None, None))
    names = [name for name in column_names("transition") if name != "reason"]
    with engine.begin() as c:
        driver = Driver(c)
        try:
            (row,) = driver.rows(f"SELECT {select_list(names, 't')} FROM transition t WHERE t.id = (SELECT max(id) FROM transition)")
            row_id, prev = row[names.index("id")], head(c, "transition")
            columns, packed, digests = ",".join(names), pack_ids([row_id]), row_digests([row], driver.postgres)
            driver.cursor.execute(driver.sql(INSERT_BATCH), ("transition", row_id, row_id, 1, columns, packed, digests,
                                                             batch_digest(prev, "transition", columns, packed, digests), prev))
        finally:
            driver.close()
    report = transition_report(engine)
    assert report.ok and report.rows == 2, report.problem
    drop_trigger(engine, "transition")
    raw(engine, f"UPDATE transition SET reason = '补写' WHERE id = {row_id}")
    report = transition_report(engine)
    assert (report.row_id, report.problem) == (row_id, f"内容被改：第 {row_id} 行的内容与封存时的摘要不符")


def test_a_transaction_with_more_rows_than_a_page_is_sealed_page_by_page(world, engine, db_backend, monkeypatch):
    monkeypatch.setattr("models.audit_chain.PAGE", 3)        # memory stays flat: rows are read and sealed 3 at a time
    call = world.open("ladder")
    applications = world.apply(call, {"130102": 8})
    assert sum(count for _, _, count in seals(engine)) == 8
    assert transition_report(engine).ok and transition_report(engine).rows == 8
    target = world.log(applications[6])[0].id
    drop_trigger(engine, "transition")
    raw(engine, f"UPDATE transition SET actor = 'someone' WHERE id = {target}")
    assert transition_report(engine).row_id == target
