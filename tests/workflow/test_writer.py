"""The workflow writer: a declared move writes the update and its log in one go; anything else writes nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from models import Application, Notice, StateChange, Transition
from models.errors import Forbidden, IllegalMove, NotFound
from models.workflow import UnknownAction
from models.workflow_writer import apply, create, initial, record_created
from tests.workflow.conftest import APPLICANT, AT, CLERK, REVIEWER, SYSTEM, application_rows, notice_rows


def _apps(engine, n=3, status="pending", **kw):
    with engine.begin() as connection:
        connection.execute(Application.__table__.insert(), application_rows(n, status, **kw))


def _state(engine):
    with engine.connect() as connection:
        apps = connection.execute(select(Application.id, Application.status, Application.version).order_by(Application.id)).all()
        logs = connection.execute(select(func.count()).select_from(Transition)).scalar()
    return [tuple(r) for r in apps], logs


def test_a_declared_move_updates_and_logs_in_one_transaction(bare):
    _apps(bare)
    with bare.begin() as connection:
        done = apply(connection, "application", "recommend", [1, 2], actor=REVIEWER, at=AT, reason="符合条件")
    assert done.ids == [1, 2] and done.count == 2
    apps, _ = _state(bare)
    assert apps == [(1, "recommended", 2), (2, "recommended", 2), (3, "pending", 1)]
    with bare.connect() as connection:
        logs = connection.execute(select(Transition).order_by(Transition.id)).all()
    assert [(t.application_id, t.action, t.from_status, t.to_status, t.actor, t.role, t.reason, t.from_level, t.to_level)
            for t in logs] == [(i, "recommend", "pending", "recommended", "reviewer-130102", "reviewer", "符合条件", "county", "county")
                               for i in (1, 2)]


@pytest.mark.parametrize("call, error, words", [
    (lambda c: apply(c, "application", "recommend", [1, 2, 3], actor=REVIEWER, at=AT), IllegalMove, ["3（同意推荐）", "待审核"]),
    (lambda c: apply(c, "application", "approve", [1], actor=REVIEWER, at=AT), UnknownAction, ["申报没有“approve”这一操作"]),
    (lambda c: apply(c, "application", "recommend", [1], actor=APPLICANT, at=AT), Forbidden, ["applicant-1", "reviewer"]),
    (lambda c: apply(c, "application", "recommend", [1, 99], actor=REVIEWER, at=AT), NotFound, ["申报 99 不存在"]),
    (lambda c: apply(c, "nothing", "recommend", [1], actor=REVIEWER, at=AT), UnknownAction, ["流转规则中没有“nothing”"]),
    (lambda c: apply(c, "application", "recommend", [1], actor=REVIEWER, at=AT, values={"status": "recognised"}),
     IllegalMove, ["只能由操作"]),
])
def test_an_illegal_move_is_refused_in_chinese_and_changes_nothing(bare, call, error, words):
    _apps(bare, 2)
    with bare.begin() as connection:
        connection.execute(Application.__table__.insert(), application_rows(3, "recommended")[2:])
    before = _state(bare)
    with pytest.raises(error) as refused:
        with bare.begin() as connection:
            call(connection)
    for word in words:
        assert word in str(refused.value)
    assert _state(bare) == before


def test_refused_rows_leave_no_partial_write_even_inside_the_same_transaction(bare):
    """The log INSERT … SELECT is all-or-nothing per chunk: a caller that catches the refusal finds nothing written."""
    _apps(bare, 2)
    with bare.begin() as connection:
        connection.execute(Application.__table__.insert(), application_rows(3, "returned")[2:])
    with bare.begin() as connection:
        with pytest.raises(IllegalMove):
            apply(connection, "application", "reject", [1, 2, 3], actor=REVIEWER, at=AT, reason="不符合")
        assert connection.execute(select(func.count()).select_from(Transition)).scalar() == 0
        assert set(connection.execute(select(Application.status)).scalars()) == {"pending", "returned"}


def test_per_row_values_and_reasons(bare):
    _apps(bare)
    with bare.begin() as connection:
        apply(connection, "application", "recommend", [1, 2], actor=REVIEWER, at=AT,
              row_values={1: {"score": Decimal("88.50")}, 2: {"score": Decimal("70")}}, reasons={1: "第一", 2: "第二"})
    with bare.connect() as connection:
        apps = dict(connection.execute(select(Application.id, Application.score)).all())
        logs = connection.execute(select(Transition.application_id, Transition.score, Transition.reason)
                                  .order_by(Transition.application_id)).all()
    assert apps[1] == Decimal("88.50") and apps[2] == Decimal("70") and apps[3] is None
    assert [tuple(r) for r in logs] == [(1, Decimal("88.50"), "第一"), (2, Decimal("70"), "第二")]


def test_constant_values_move_the_level_and_the_log_says_so(bare):
    _apps(bare, 2, status="recommended")
    with bare.begin() as connection:
        apply(connection, "application", "forward", [1, 2], actor=SYSTEM, at=AT,
              values={"level": "municipal", "review_jurisdiction_code": "130100", "score": None},
              jurisdiction_column="review_jurisdiction_code", step_key="close:c1:county:", step_key_column="review_jurisdiction_code")
    with bare.connect() as connection:
        apps = connection.execute(select(Application.level, Application.status, Application.review_jurisdiction_code)).all()
        logs = connection.execute(select(Transition.from_level, Transition.to_level, Transition.jurisdiction_code,
                                         Transition.step_key)).all()
    assert {tuple(a) for a in apps} == {("municipal", "pending", "130100")}
    assert {tuple(t) for t in logs} == {("county", "municipal", "130102", "close:c1:county:130102")}


def test_the_version_guard_refuses_a_stale_decision(bare):
    _apps(bare, 1)
    with bare.begin() as connection:
        apply(connection, "application", "return", [1], actor=REVIEWER, at=AT, guard={"version": 1}, reason="补材料")
        apply(connection, "application", "resubmit", [1], actor=APPLICANT, at=AT, guard={"version": 2})
    before = _state(bare)
    assert before[0] == [(1, "pending", 3)]
    with pytest.raises(IllegalMove, match="刚被他人修改"):
        with bare.begin() as connection:
            apply(connection, "application", "recommend", [1], actor=REVIEWER, at=AT, guard={"version": 2})
    with pytest.raises(IllegalMove, match="^请刷新$"):
        with bare.begin() as connection:
            apply(connection, "application", "recommend", [1], actor=REVIEWER, at=AT, guard={"version": 2}, conflict="请刷新")
    assert _state(bare) == before


def test_skip_others_moves_only_the_rows_that_may(bare):
    with bare.begin() as connection:
        connection.execute(Notice.__table__.insert(), notice_rows(2) + notice_rows(1, "closed")[:0])
        connection.execute(Notice.__table__.insert(), [{**notice_rows(1, "closed")[0], "round": 9}])
        done = apply(connection, "notice", "close", [1, 2, 3], actor=SYSTEM, at=AT, skip_others=True, values={"closed_at": AT})
        assert done.ids == [1, 2]
        changes = connection.execute(select(StateChange.machine, StateChange.subject_id, StateChange.action,
                                            StateChange.from_status, StateChange.to_status)).all()
    assert sorted(tuple(c) for c in changes) == [("notice", 1, "close", "open", "closed"), ("notice", 2, "close", "open", "closed")]


def test_where_selects_the_rows_and_unlogged_machines_write_no_log(bare):
    with bare.begin() as connection:
        connection.execute(models_deadline().insert(), [
            {"key": f"k{i}", "kind": "level", "title": "t", "due_at": AT, "jurisdiction_code": "130102", "state": state}
            for i, state in enumerate(["open", "open", "met"], start=1)])
        table = models_deadline()
        done = apply(connection, "deadline", "miss", actor=SYSTEM, at=AT, where=table.c.key.in_(["k1", "k3"]),
                     values={"closed_at": AT})
        assert done.ids == [1]
        assert connection.execute(select(table.c.state).order_by(table.c.id)).scalars().all() == ["missed", "open", "met"]
        assert connection.execute(select(func.count()).select_from(StateChange)).scalar() == 0


def models_deadline():
    from models import Deadline
    return Deadline.__table__


def test_create_sets_the_initial_status_and_logs_the_creation(bare):
    with bare.begin() as connection:
        ids = create(connection, "notice", "open", [{k: v for k, v in r.items() if k != "status"} for r in notice_rows(2)],
                     actor=CLERK, at=AT, reason="发布")
        assert connection.execute(select(Notice.status).order_by(Notice.id)).scalars().all() == ["open", "open"]
        changes = connection.execute(select(StateChange.subject_id, StateChange.from_status, StateChange.to_status,
                                            StateChange.role, StateChange.jurisdiction_code)).all()
    assert sorted(tuple(c) for c in changes) == [(i, None, "open", "clerk", "130000") for i in ids]


def test_record_created_logs_rows_inserted_elsewhere_and_refuses_a_wrong_start(bare):
    assert initial("application", "submit") == {"status": "pending"}
    _apps(bare, 2)
    with bare.begin() as connection:
        connection.execute(Application.__table__.insert(), application_rows(3, "recommended")[2:])
    with bare.begin() as connection:
        assert record_created(connection, "application", "submit", [1, 2], actor=SYSTEM, at=AT, step_key="submit:c1") == 2
        with pytest.raises(IllegalMove, match="3（同意推荐）"):
            record_created(connection, "application", "submit", [3], actor=SYSTEM, at=AT)
        logs = connection.execute(select(Transition.application_id, Transition.action, Transition.from_status,
                                         Transition.to_status, Transition.step_key)).all()
    assert sorted(tuple(t) for t in logs) == [(i, "submit", None, "pending", "submit:c1") for i in (1, 2)]
    with pytest.raises(IllegalMove, match="不是申报的新建操作"):
        initial("application", "recommend")


def test_logs_are_append_only(bare):
    from sqlalchemy import update
    from sqlalchemy.exc import DatabaseError
    with bare.begin() as connection:
        connection.execute(Notice.__table__.insert(), notice_rows(1))
        apply(connection, "notice", "close", [1], actor=SYSTEM, at=AT)
    with pytest.raises(DatabaseError, match="append-only"):
        with bare.begin() as connection:
            connection.execute(update(StateChange).values(reason="改写"))


def test_a_non_move_keeps_the_status_and_version_and_is_recorded_in_state_change(bare):
    _apps(bare, 2)
    with bare.begin() as connection:
        apply(connection, "application", "assess", [1, 2], actor=SYSTEM, at=AT, step_key="eligibility:c1",
              row_values={1: {"eligible": True, "category": "a"}, 2: {"eligible": False, "category": None}},
              reasons={1: "符合", 2: "不符合"})
        apps = connection.execute(select(Application.id, Application.status, Application.version, Application.eligible)
                                  .order_by(Application.id)).all()
        changes = connection.execute(select(StateChange.machine, StateChange.subject_id, StateChange.action, StateChange.from_status,
                                            StateChange.to_status, StateChange.reason).order_by(StateChange.subject_id)).all()
        assert connection.execute(select(func.count()).select_from(Transition)).scalar() == 0
    assert [tuple(a) for a in apps] == [(1, "pending", 1, True), (2, "pending", 1, False)]
    assert [tuple(c) for c in changes] == [("application", 1, "assess", "pending", "pending", "符合"),
                                           ("application", 2, "assess", "pending", "pending", "不符合")]


def test_batches_give_sets_of_rows_their_own_constants_and_share_one_log(bare):
    _apps(bare, 4, status="recommended")
    with bare.begin() as connection:
        done = apply(connection, "application", "forward", actor=SYSTEM, at=AT, values={"level": "municipal", "score": None},
                     batches=[([1, 3], {"review_jurisdiction_code": "130100"}), ([2], {"review_jurisdiction_code": "130600"})])
        assert done.ids == [1, 2, 3]
        apps = connection.execute(select(Application.id, Application.level, Application.review_jurisdiction_code, Application.status)
                                  .order_by(Application.id)).all()
        logs = connection.execute(select(Transition.application_id, Transition.from_level, Transition.to_level)
                                  .order_by(Transition.application_id)).all()
    assert [tuple(a) for a in apps] == [(1, "municipal", "130100", "pending"), (2, "municipal", "130600", "pending"),
                                        (3, "municipal", "130100", "pending"), (4, "county", "130102", "recommended")]
    assert [tuple(t) for t in logs] == [(i, "county", "municipal") for i in (1, 2, 3)]
    with pytest.raises(ValueError):
        with bare.begin() as connection:
            apply(connection, "application", "forward", actor=SYSTEM, at=AT, batches=[([4], {"level": "municipal"})])


def test_per_row_values_without_per_row_reasons_are_read_back_into_the_log(bare):
    _apps(bare, 2)
    with bare.begin() as connection:
        apply(connection, "application", "recommend", [1, 2], actor=REVIEWER, at=AT, reason="同意",
              row_values={1: {"score": Decimal("91")}, 2: {"score": Decimal("60.5")}})
        logs = connection.execute(select(Transition.application_id, Transition.score, Transition.reason, Transition.from_status)
                                  .order_by(Transition.application_id)).all()
    assert [tuple(t) for t in logs] == [(1, Decimal("91"), "同意", "pending"), (2, Decimal("60.5"), "同意", "pending")]
