"""Random action sequences through the workflow writer never reach a state the table does not declare.

For each machine: a few fresh rows created by its creating action, then random steps (an action —
declared, creating, or unknown —, a subset of the rows plus sometimes a missing id, a role, strict or
``skip_others``), each in its own transaction. After every step: each row's status is one the table
reaches; a refused step changed nothing and wrote no log row; an accepted one moved exactly the rows
the table allows, along declared edges, with exactly one log row per changed row (logged machines).
"""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import literal, select

from models import StateChange, Transition
from models.enums import Role
from models.errors import Forbidden, IllegalMove, NotFound, SrdiError
from models.workflow import MACHINES, UnknownAction
from models.workflow_writer import apply, create
from tests.workflow.conftest import AT, Person, bare_engine

_serial = itertools.count(1)
MISSING = 10**9

ROWS = {
    "application": lambda n: {"ref": f"P{n}", "call_id": "c1", "enterprise_id": n, "jurisdiction_code": "130102", "level": "county",
                              "review_jurisdiction_code": "130102", "version": 1, "facts": {}},
    "notice": lambda n: {"call_id": "c1", "programme_id": "p1", "level": "provincial", "jurisdiction_code": "130000", "round": n,
                         "title": "公示", "opens_at": AT, "closes_at": AT, "length": 5, "unit": "working_days"},
    "notice_entry": lambda n: {"notice_id": 1, "application_id": n, "enterprise_id": n, "position": n},
    "objection": lambda n: {"notice_id": 1, "application_id": n, "objector": "某公司", "contact": "010-1", "grounds": "不实",
                            "received_at": AT, "recorded_by": "clerk"},
    "tranche": lambda n: {"plan_id": n, "tranche_index": 1, "label": "批复当年", "years_after_approval": 0,
                          "share_pct": Decimal("40"), "requires_review": False, "scheduled_on": date(2026, 3, 2)},
    "disbursement_run": lambda n: {"tranche_id": n, "started_at": AT},
    "recognition": lambda n: {"certificate_no": f"C{n}", "enterprise_id": n, "programme_id": "p1", "tier": "little_giant",
                              "jurisdiction_code": "130000", "valid_from": date(2026, 1, 1), "valid_to": date(2028, 12, 31)},
    "deadline": lambda n: {"key": f"k{n}", "kind": "level", "title": "截止", "due_at": AT, "jurisdiction_code": "130102"},
}
ROLES = list(Role)
_engine = None


def engine():
    global _engine
    if _engine is None:
        _engine = bare_engine()
    return _engine


def _statuses(connection, m, ids) -> dict[int, str]:
    t = m.table.__table__
    return {i: getattr(s, "value", s) for i, s in connection.execute(select(t.c.id, t.c[m.column]).where(t.c.id.in_(ids)))}


def _logs(connection, m, ids) -> set[tuple]:
    rows = connection.execute(select(literal("s"), StateChange.id, StateChange.subject_id, StateChange.action, StateChange.from_status,
                                     StateChange.to_status).where(StateChange.machine == m.name, StateChange.subject_id.in_(ids))).all()
    if m.name == "application":
        rows += connection.execute(select(literal("t"), Transition.id, Transition.application_id, Transition.action, Transition.from_status,
                                          Transition.to_status).where(Transition.application_id.in_(ids))).all()
    return {(r[0], r[1], r[2], r[3], getattr(r[4], "value", r[4]), getattr(r[5], "value", r[5])) for r in rows}


def _expected(m, name: str, role: Role, ids: list[int], skip: bool, before: dict[int, str]):
    """(error class, moved ids) the table prescribes for this step."""
    if name not in m.actions:
        return UnknownAction, []
    action = m.actions[name]
    if action.creates:
        return IllegalMove, []
    if role not in action.roles:
        return Forbidden, []
    legal = [i for i in ids if i in before and before[i] in action.sources]
    if skip:
        return None, legal
    if any(i not in before for i in ids):
        return NotFound, []
    return (None, legal) if len(legal) == len(ids) else (IllegalMove, [])


@st.composite
def steps(draw, m, ids):
    names = list(m.actions) + ["undeclared"]
    return draw(st.lists(st.tuples(
        st.sampled_from(names),
        st.lists(st.sampled_from(ids + [MISSING]), min_size=1, max_size=len(ids) + 1, unique=True),
        st.sampled_from(ROLES),
        st.booleans(),
    ), min_size=1, max_size=10))


@pytest.mark.parametrize("name", sorted(ROWS))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_sequences_stay_inside_the_table(name, data):
    m = MACHINES[name]
    creating = [a for a in m.actions.values() if a.creates]
    start = data.draw(st.sampled_from(creating))
    maker = Person("maker", sorted(start.roles)[0], "130000")
    with engine().begin() as connection:
        ids = create(connection, m, start.name, [ROWS[name](next(_serial)) for _ in range(4)], actor=maker, at=AT)
    reachable = m.reachable()
    for action, chosen, role, skip in data.draw(steps(m, ids)):
        with engine().connect() as connection:
            before, logs_before = _statuses(connection, m, ids), _logs(connection, m, ids)
        error, moved = _expected(m, action, role, chosen, skip, before)
        try:
            with engine().begin() as connection:
                done = apply(connection, m, action, chosen, actor=Person("p", role), at=AT, skip_others=skip)
        except SrdiError as refused:
            assert error is not None and isinstance(refused, error), (action, role, chosen, skip, before, refused)
            done = None
        else:
            assert error is None, (action, role, chosen, skip, before, error)
            assert done.ids == sorted(moved)
        with engine().connect() as connection:
            after, logs_after = _statuses(connection, m, ids), _logs(connection, m, ids)
        assert set(after.values()) <= reachable
        assert logs_before <= logs_after, "the log was rewritten"
        new_logs = logs_after - logs_before
        if done is None:
            assert after == before and not new_logs
            continue
        declared = m.actions[action]
        for i in ids:
            if i in moved:
                assert before[i] in declared.sources and after[i] == declared.leads_to(before[i])
            else:
                assert after[i] == before[i]
        if m.logged:
            assert sorted(log[2] for log in new_logs) == sorted(moved)
            assert all(log[3:] == (action, before[log[2]], after[log[2]]) for log in new_logs)
        else:
            assert not new_logs
