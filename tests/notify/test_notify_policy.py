"""Reminder policy per profile, who is responsible, and refusing to guess an unknown year."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from models.clock import SHANGHAI
from models.reminder import Reminder
from models.reminder_policy import ReminderPolicy
from tasks.reminders.deadlines import register_deadlines
from tasks.reminders.sweep import sweep


def _at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=SHANGHAI)


def _stages(engine) -> set[tuple[str, str, str]]:
    with engine.connect() as c:
        return {(r.stage, r.recipient, r.planned_on.isoformat()) for r in c.execute(select(Reminder))}


def _register(engine, *specs):
    with engine.begin() as c:
        register_deadlines(c, [{"jurisdiction_code": "130102", **s} for s in specs])


def test_a_profile_policy_of_two_working_days_and_no_escalation(people, clock):
    engine = people
    _register(engine, {"key": "level:HB-2025:county:130102", "kind": "level_decision", "title": "长安区县级审核推荐",
                       "due_at": _at(date(2025, 10, 14), 17), "call_id": "HB-2025"})
    policies = {"hebei-srdi": ReminderPolicy(before_workdays=[2], on_due_day=False, escalate_when_overdue=False)}
    day = date(2025, 9, 29)
    while day <= date(2025, 10, 17):
        clock.set(_at(day))
        sweep(engine, policies=policies)
        day += timedelta(days=1)
    # Two working days before Tuesday 10-14 is the make-up Saturday 10-11; nothing else.
    assert _stages(engine) == {("before-2", "changan@gxj.example.cn", "2025-10-11"),
                               ("before-2", "li@gxj.example.cn", "2025-10-11")}


def test_reminders_wait_for_the_policy_send_time(people, clock):
    engine = people
    _register(engine, {"key": "k", "kind": "level_decision", "title": "长安区县级审核推荐",
                       "due_at": _at(date(2025, 10, 14), 17), "call_id": "HB-2025"})
    policies = {"hebei-srdi": ReminderPolicy(send_at=time(14, 0))}
    clock.set(_at(date(2025, 9, 30), 9))
    assert sweep(engine, policies=policies).reminders == 0
    clock.set(_at(date(2025, 9, 30), 14))
    assert sweep(engine, policies=policies).reminders == 2


def test_funding_deadlines_reach_the_finance_bureau_and_a_gap_above_is_reported(people, clock):
    engine = people
    _register(engine, {"key": "allocation-plan:130000:2025", "kind": "allocation_plan", "title": "河北省资金分配方案报送",
                       "due_at": _at(date(2025, 10, 13), 17), "jurisdiction_code": "130000"})
    clock.set(_at(date(2025, 10, 13)))
    result = sweep(engine)
    assert {r for _, r, _ in _stages(engine)} == {"hebei@gxt.example.cn", "hebei@czt.example.cn"}
    clock.set(_at(date(2025, 10, 14)))
    result = sweep(engine)                     # overdue: the ministry above has no mailbox on file
    assert result.without_recipient == ["allocation-plan:130000:2025"]


def test_a_year_without_a_holiday_schedule_is_reported_not_guessed(people, clock):
    engine = people
    _register(engine,
              {"key": "in-2027", "kind": "level_decision", "title": "跨年审核", "due_at": _at(date(2027, 1, 5), 17), "call_id": "HB-2025"},
              {"key": "in-2026", "kind": "level_decision", "title": "年内审核", "due_at": _at(date(2026, 12, 30), 17),
               "call_id": "HB-2025"})
    clock.set(_at(date(2026, 12, 28)))
    result = sweep(engine)
    about = [e for e in result.errors if e.startswith(("in-2027", "in-2026"))]
    assert len(about) == 1 and about[0].startswith("in-2027: ") and "缺少2027年法定节假日安排" in about[0]
    assert {stage for stage, _, _ in _stages(engine)} == {"before-3"}        # 2026-12-30 still reminded
