"""The one clock: every "now" in srdi comes from here (time is data).

``SRDI_NOW`` (an ISO date-time; Asia/Shanghai when it has no offset) freezes the clock for
demos and tests; ``clock.set`` / ``clock.advance`` move it in-process.
"""

from __future__ import annotations

import os
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def aware(dt: datetime) -> datetime:
    """Read a naive datetime as Asia/Shanghai local time; leave aware ones alone."""
    return dt.replace(tzinfo=SHANGHAI) if dt.tzinfo is None else dt


def parse_instant(text: str) -> datetime:
    return aware(datetime.fromisoformat(text.strip()))


def local(dt: datetime) -> datetime:
    """The same instant on a Beijing-time wall clock (for screens, mail and calendars)."""
    return aware(dt).astimezone(SHANGHAI)


class Clock:
    def __init__(self, fixed: datetime | None = None):
        self._fixed = aware(fixed) if fixed else None

    @classmethod
    def from_env(cls) -> "Clock":
        value = os.environ.get("SRDI_NOW")
        return cls(parse_instant(value) if value else None)

    @property
    def frozen(self) -> bool:
        return self._fixed is not None

    def now(self) -> datetime:
        """Aware UTC now."""
        current = self._fixed or datetime.now(timezone.utc)
        return current.astimezone(timezone.utc)

    def today(self) -> date:
        """Today's date in Beijing time (the date the policy documents mean)."""
        return local(self.now()).date()

    def set(self, when: datetime) -> None:
        self._fixed = aware(when)

    def advance(self, delta: timedelta) -> None:
        self._fixed = self.now() + delta

    def release(self) -> None:
        self._fixed = None


clock = Clock.from_env()
