"""Statutory working days (法定工作日): weekends and public holidays off, 调休 make-up days on.

The official schedule comes from ``chinesecalendar`` (published State Council notices up to the
library's last year). A year the library does not know can be supplied as an override file
``<calendar_dir>/<year>.yaml``::

    year: 2027
    source: 国务院办公厅关于2027年部分节假日安排的通知
    holidays: [2027-01-01, ...]   # days off (a weekday listed here is not a working day)
    workdays: [2027-02-20, ...]   # 调休: weekend days that are working days

A working-day computation that touches a year with neither is refused (never guessed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

import chinese_calendar
import yaml

from models.errors import SrdiError
from models.settings import settings


class CalendarYearMissing(SrdiError, LookupError):
    """No official holiday schedule for a year: refuse rather than guess."""

    def __init__(self, year: int, calendar_dir: Path):
        self.year = year
        super().__init__(
            f"缺少{year}年法定节假日安排：chinesecalendar 未收录该年，且没有覆盖文件 "
            f"{calendar_dir / f'{year}.yaml'}。请按国务院办公厅当年节假日安排通知添加该文件"
            f"（year / source / holidays / workdays），或升级 chinesecalendar。"
        )


@dataclass(frozen=True)
class YearOverride:
    year: int
    source: str
    holidays: frozenset[date] = field(default_factory=frozenset)
    workdays: frozenset[date] = field(default_factory=frozenset)

    def is_workday(self, day: date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5


def load_override(path: Path) -> YearOverride:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    year = int(data.get("year", 0))
    if year != int(path.stem):
        raise ValueError(f"{path}: year 应为 {path.stem}，实际为 {data.get('year')!r}")
    days = {key: frozenset(date.fromisoformat(str(d)) for d in data.get(key) or []) for key in ("holidays", "workdays")}
    for key, values in days.items():
        strays = sorted(d for d in values if d.year != year)
        if strays:
            raise ValueError(f"{path}: {key} 中的日期 {strays[0]} 不属于 {year} 年")
    if not data.get("source"):
        raise ValueError(f"{path}: source 必填（写明所依据的国务院办公厅通知）")
    return YearOverride(year, str(data["source"]), days["holidays"], days["workdays"])


@lru_cache(maxsize=None)
def _library_covers(year: int) -> bool:
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


class StatutoryCalendar:
    def __init__(self, calendar_dir: Path | None = None):
        self.calendar_dir = calendar_dir or settings().calendar_dir
        self._overrides: dict[int, YearOverride] = {}
        if self.calendar_dir.is_dir():
            for path in sorted(self.calendar_dir.glob("[0-9][0-9][0-9][0-9].yaml")):
                override = load_override(path)
                self._overrides[override.year] = override

    def covers(self, year: int) -> bool:
        return year in self._overrides or _library_covers(year)

    def is_workday(self, day: date) -> bool:
        override = self._overrides.get(day.year)
        if override:
            return override.is_workday(day)
        if not _library_covers(day.year):
            raise CalendarYearMissing(day.year, self.calendar_dir)
        return chinese_calendar.is_workday(day)

    def add_workdays(self, start: date, n: int) -> date:
        """The n-th working day after ``start`` (``start`` itself is not counted); n ≥ 0."""
        if n < 0:
            raise ValueError("n 必须为非负整数")
        day, counted = start, 0
        while counted < n:
            day += timedelta(days=1)
            if self.is_workday(day):
                counted += 1
        return day

    def workdays_between(self, start: date, end: date) -> int:
        """Working days in (start, end]."""
        return sum(1 for i in range(1, (end - start).days + 1) if self.is_workday(start + timedelta(days=i)))


@lru_cache(maxsize=4)
def _calendar_for(calendar_dir: Path) -> StatutoryCalendar:
    return StatutoryCalendar(calendar_dir)


def statutory_calendar() -> StatutoryCalendar:
    return _calendar_for(settings().calendar_dir)
