"""The deadline registry is idempotent by key and closes items set-wise."""

from datetime import datetime, timedelta

from sqlmodel import select

from models.clock import SHANGHAI
from models.deadline import Deadline, DeadlineState
from tasks.reminders.deadlines import close_deadlines, mark_missed, register_deadlines


def _spec(key, due):
    return {"key": key, "kind": "level_decision", "title": f"{key} 截止", "due_at": due, "jurisdiction_code": "130102"}


def test_registering_twice_creates_nothing_new_and_moves_open_dates(engine, clock):
    due = datetime(2026, 3, 10, 17, 30, tzinfo=SHANGHAI)
    with engine.begin() as c:
        assert register_deadlines(c, [_spec("a", due), _spec("b", due)]) == 2
    with engine.begin() as c:
        assert register_deadlines(c, [_spec("a", due + timedelta(days=1)), _spec("b", due)]) == 0
    with engine.connect() as c:
        rows = {r.key: r for r in c.execute(select(Deadline))}
    assert len(rows) == 2 and rows["a"].due_at == due + timedelta(days=1)


def test_met_items_stay_met_and_overdue_items_become_missed(engine, clock):
    due = datetime(2026, 3, 3, 17, 30, tzinfo=SHANGHAI)
    with engine.begin() as c:
        register_deadlines(c, [_spec("met", due), _spec("late", due)])
        assert close_deadlines(c, ["met"]) == 1
    clock.set(due + timedelta(minutes=1))
    with engine.begin() as c:
        assert mark_missed(c) == 1
        assert close_deadlines(c, ["met"]) == 0
    with engine.connect() as c:
        states = {r.key: r.state for r in c.execute(select(Deadline))}
    assert states == {"met": DeadlineState.met, "late": DeadlineState.missed}
