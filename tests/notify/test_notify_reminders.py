"""The right people get the right reminders on the right working days, across National Day 2025.

National Day / Mid-Autumn 2025: 10-01 … 10-08 off; Sunday 09-28 and Saturday 10-11 are make-up
working days (调休). A cron "Mon–Fri" would remind during the holiday and stay silent on 10-11.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

import icalendar
import pytest
from sqlalchemy import func, select

from models.clock import SHANGHAI
from models.outbox import OutgoingMail
from models.reminder import Reminder
from notifications.sender import send_queued
from notifications.smtp_sink import read_messages
from tasks.reminders.deadlines import close_deadlines, register_deadlines
from tasks.reminders.sweep import sweep

COUNTY = {"changan@gxj.example.cn", "li@gxj.example.cn"}          # not 王离岗: inactive
CITY = {"sjz@gxj.example.cn", "zhao@gxj.example.cn"}


def _register(engine):
    with engine.begin() as c:
        register_deadlines(c, [
            {"key": "level:HB-2025:county:130102", "kind": "level_decision", "title": "长安区县级审核推荐",
             "due_at": datetime(2025, 10, 14, 17, 30, tzinfo=SHANGHAI), "jurisdiction_code": "130102", "call_id": "HB-2025"},
            {"key": "name-change:1", "kind": "name_change", "title": "企业更名备案",
             "due_at": datetime(2025, 10, 13, 17, 30, tzinfo=SHANGHAI), "jurisdiction_code": "130102", "enterprise_id": 1},
        ])


def _run_days(engine, clock, sink, first: date, last: date) -> dict[date, set[tuple[str, str]]]:
    """Each morning at 09:00: sweep and send; returns day → {(recipient, subject)} received."""
    received: dict[date, set[tuple[str, str]]] = defaultdict(set)
    seen = len(read_messages(sink.directory))
    day = first
    while day <= last:
        clock.set(datetime(day.year, day.month, day.day, 9, 0, tzinfo=SHANGHAI))
        sweep(engine)
        send_queued(engine)
        messages = read_messages(sink.directory)
        for message in messages[seen:]:
            received[day].add((message["To"].addresses[0].addr_spec, str(message["Subject"])))
        seen = len(messages)
        day += timedelta(days=1)
    return received


def _who(received, day, fragment):
    return {to for to, subject in received.get(day, set()) if fragment in subject}


@pytest.mark.postgres
def test_reminders_follow_the_statutory_calendar_across_national_day(people, clock, sink):
    engine = people
    _register(engine)
    received = _run_days(engine, clock, sink, date(2025, 9, 26), date(2025, 10, 16))

    level = "长安区县级审核推荐"
    # 5 working days before 10-14 is 09-30 (10-01…10-08 off; 10-09, 10, 11, 13, 14 count).
    assert _who(received, date(2025, 9, 30), level) == COUNTY
    assert _who(received, date(2025, 10, 10), level) == COUNTY     # 3 left: 10-11 (Sat, 调休), 10-13, 10-14
    assert _who(received, date(2025, 10, 13), level) == COUNTY     # 1 left
    assert _who(received, date(2025, 10, 14), level) == COUNTY     # due today
    assert _who(received, date(2025, 10, 15), level) == CITY       # overdue → 石家庄市 one level up
    level_days = sorted(d for d, got in received.items() if any(level in s for _, s in got))
    assert level_days == [date(2025, 9, 30), date(2025, 10, 10), date(2025, 10, 13), date(2025, 10, 14), date(2025, 10, 15)]

    # The enterprise's own deadline (Monday 10-13): its 1-working-day reminder goes out on the
    # make-up Saturday 10-11 to the applicant; overdue goes to 长安区, which supervises it.
    change = "企业更名备案"
    assert _who(received, date(2025, 10, 11), change) == {"chen@jinggong.example.cn"}
    assert _who(received, date(2025, 10, 13), change) == {"chen@jinggong.example.cn"}
    assert _who(received, date(2025, 10, 14), change) == COUNTY
    assert not any(received.get(date(2025, 10, d)) for d in range(1, 9)), "nothing during the holiday"

    subjects = {s for got in received.values() for _, s in got}
    assert "【截止提醒】长安区县级审核推荐：2025年10月14日（星期二）17:30截止（北京时间），还剩5个工作日" in subjects
    assert "【今日截止】长安区县级审核推荐：2025年10月14日（星期二）17:30截止（北京时间）" in subjects
    assert "【逾期督办】长安区：长安区县级审核推荐，已于2025年10月14日（星期二）17:30（北京时间）逾期" in subjects


def test_reminder_mail_has_text_html_and_a_calendar_entry_at_the_deadline(people, clock, sink):
    engine = people
    _register(engine)
    clock.set(datetime(2025, 9, 30, 9, 0, tzinfo=SHANGHAI))
    sweep(engine)
    assert send_queued(engine).sent == 3        # 2 at 长安区 + the applicant (name change, 4 working days left)
    message = next(m for m in read_messages(sink.directory) if m["To"].addresses[0].addr_spec == "li@gxj.example.cn")
    assert message["To"].addresses[0].display_name == "李审核"
    assert message["From"].addresses[0].display_name == "河北省专精特新管理系统"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "截止时间：2025年10月14日（星期二）17:30（北京时间）" in text and "剩余：5 个工作日" in text
    assert "<strong>2025年10月14日（星期二）17:30</strong>" in html and "河北省2025年专精特新中小企业认定" in html
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    event = icalendar.Calendar.from_ical(attachment.get_content()).walk("VEVENT")[0]
    assert event.decoded("dtend") == datetime(2025, 10, 14, 17, 30, tzinfo=SHANGHAI)
    assert str(event["summary"]) == "截止：长安区县级审核推荐"


@pytest.mark.postgres
def test_the_sweep_run_again_queues_nothing_twice(people, clock, sink):
    engine = people
    _register(engine)
    clock.set(datetime(2025, 9, 30, 9, 0, tzinfo=SHANGHAI))
    first = sweep(engine)
    again = [sweep(engine) for _ in range(3)]
    assert (first.reminders, first.mails) == (3, 3)
    assert all((r.reminders, r.mails) == (0, 0) for r in again)
    send_queued(engine)
    send_queued(engine)
    assert len(read_messages(sink.directory)) == 3
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(Reminder)).scalar() == 3
        assert c.execute(select(func.count()).select_from(OutgoingMail)).scalar() == 3


def test_a_deadline_met_before_its_mail_goes_out_is_not_reminded(people, clock, sink):
    engine = people
    _register(engine)
    clock.set(datetime(2025, 9, 30, 9, 0, tzinfo=SHANGHAI))
    sweep(engine)
    with engine.begin() as c:
        close_deadlines(c, ["level:HB-2025:county:130102"])
    assert sweep(engine).cancelled == 2
    assert send_queued(engine).sent == 1        # only the applicant's, whose deadline is still open
    clock.set(datetime(2025, 10, 15, 9, 0, tzinfo=SHANGHAI))
    sweep(engine)
    send_queued(engine)
    subjects = [str(m["Subject"]) for m in read_messages(sink.directory)]
    assert not any("长安区县级审核推荐" in s for s in subjects), "a met deadline is neither reminded nor escalated"


def test_no_reminder_on_a_weekend_even_when_a_deadline_is_near(people, clock, sink):
    engine = people
    _register(engine)
    clock.set(datetime(2025, 10, 12, 9, 0, tzinfo=SHANGHAI))       # Sunday, not a make-up day
    result = sweep(engine)
    assert result.skipped and "不是法定工作日" in result.skipped
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(Reminder)).scalar() == 0


@pytest.mark.postgres
def test_an_extended_deadline_is_reminded_again_for_its_new_date_and_not_escalated_at_the_old(people, clock, sink):
    engine = people
    _register(engine)
    received = _run_days(engine, clock, sink, date(2025, 9, 30), date(2025, 10, 10))
    assert _who(received, date(2025, 10, 10), "长安区县级审核推荐") == COUNTY       # before-3 for 10-14
    with engine.begin() as c:                                                      # 延期 to Tuesday 10-21
        register_deadlines(c, [{"key": "level:HB-2025:county:130102", "kind": "level_decision", "title": "长安区县级审核推荐",
                                "due_at": datetime(2025, 10, 21, 17, 30, tzinfo=SHANGHAI), "jurisdiction_code": "130102",
                                "call_id": "HB-2025"}])
    later = _run_days(engine, clock, sink, date(2025, 10, 11), date(2025, 10, 22))
    subjects = {day: {s for _, s in got if "长安区县级审核推荐" in s} for day, got in later.items()}
    assert subjects[date(2025, 10, 14)] == {"【截止提醒】长安区县级审核推荐：2025年10月21日（星期二）17:30截止（北京时间），还剩5个工作日"}
    assert not subjects.get(date(2025, 10, 15)), "no escalation at the old date"
    assert subjects[date(2025, 10, 21)] == {"【今日截止】长安区县级审核推荐：2025年10月21日（星期二）17:30截止（北京时间）"}
    assert _who(later, date(2025, 10, 22), "长安区县级审核推荐") == CITY
