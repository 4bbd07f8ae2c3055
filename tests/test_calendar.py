"""Statutory working days: weekends, public holidays and 调休 make-up days."""

from datetime import date

import pytest

from models.calendar import CalendarYearMissing, StatutoryCalendar


@pytest.fixture
def cal(tmp_path):
    return StatutoryCalendar(tmp_path)


def test_national_day_2025_make_up_saturday_is_a_working_day(cal):
    assert cal.is_workday(date(2025, 10, 11))          # Saturday, 调休
    assert not cal.is_workday(date(2025, 10, 8))       # weekday inside the holiday
    assert cal.add_workdays(date(2025, 9, 30), 5) == date(2025, 10, 14)


def test_spring_festival_2026_counts_the_make_up_saturday(cal):
    # 2026-02-14 (Sat) is a working day; 02-15…02-23 off.
    assert cal.add_workdays(date(2026, 2, 12), 5) == date(2026, 2, 26)
    assert cal.workdays_between(date(2026, 2, 12), date(2026, 2, 26)) == 5


def test_a_year_without_schedule_is_refused_not_guessed(cal):
    with pytest.raises(CalendarYearMissing) as err:
        cal.add_workdays(date(2026, 12, 28), 5)
    assert err.value.year == 2027
    assert "2027" in str(err.value) and "2027.yaml" in str(err.value)


def test_override_file_supplies_a_new_year(tmp_path):
    (tmp_path / "2027.yaml").write_text(
        "year: 2027\nsource: 测试用安排\nholidays: [2027-01-01]\nworkdays: [2027-01-09]\n", encoding="utf-8"
    )
    cal = StatutoryCalendar(tmp_path)
    assert not cal.is_workday(date(2027, 1, 1))        # Friday, holiday
    assert cal.is_workday(date(2027, 1, 9))            # Saturday, 调休
    assert cal.add_workdays(date(2026, 12, 30), 2) == date(2027, 1, 4)


def test_override_with_a_date_of_another_year_is_rejected(tmp_path):
    (tmp_path / "2027.yaml").write_text("year: 2027\nsource: x\nholidays: [2028-01-01]\n", encoding="utf-8")
    with pytest.raises(ValueError, match="2028-01-01"):
        StatutoryCalendar(tmp_path)
