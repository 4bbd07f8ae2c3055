"""公示期 arithmetic: statutory working days with 调休, natural days, the opening-day rule."""

from datetime import date, time

import pytest

from models.calendar import CalendarYearMissing
from models.profile import NoticeRule
from tasks.notice.publication import notice_closes_at, notice_end_date

from .conftest import beijing


def rule(length, unit="working_days", counts=False):
    return NoticeRule(length=length, unit=unit, opening_day_counts=counts, publisher="provincial")


def test_five_working_days_skip_national_day_and_count_the_make_up_saturday():
    # Opened Tue 2025-09-30: 10-01..10-08 are off, Sat 10-11 is a 调休 working day.
    # Counting from the next day: 10-09, 10-10, 10-11, 10-13, 10-14.
    assert notice_end_date(date(2025, 9, 30), rule(5)) == date(2025, 10, 14)


def test_the_close_time_is_stored_as_the_profiles_beijing_time_on_the_last_day():
    closes = notice_closes_at(beijing(2025, 9, 30, 10, 0), rule(5))
    assert closes == beijing(2025, 10, 14, 17, 30)
    assert closes.utcoffset() is not None


def test_when_the_opening_day_counts_it_is_day_one():
    assert notice_end_date(date(2025, 9, 30), rule(5, counts=True)) == date(2025, 10, 13)


def test_an_opening_day_that_is_a_holiday_does_not_count_even_when_the_rule_says_it_does():
    assert notice_end_date(date(2025, 10, 3), rule(5, counts=True)) == date(2025, 10, 14)


def test_seven_natural_days_run_through_weekends_and_holidays():
    assert notice_end_date(date(2025, 9, 30), rule(7, "natural_days")) == date(2025, 10, 7)
    assert notice_end_date(date(2025, 9, 30), rule(7, "natural_days", counts=True)) == date(2025, 10, 6)


def test_the_close_time_follows_the_profile():
    custom = NoticeRule(length=7, unit="natural_days", publisher="municipal", close_time=time(18, 0))
    assert notice_closes_at(beijing(2026, 3, 2, 9), custom) == beijing(2026, 3, 9, 18, 0)


def test_a_window_reaching_into_a_year_without_a_holiday_schedule_is_refused():
    with pytest.raises(CalendarYearMissing, match="2027"):
        notice_end_date(date(2026, 12, 28), rule(5))
