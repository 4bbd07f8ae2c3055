"""Calendar attachment (.ics, RFC 5545) for deadline mails, built with ``icalendar``.

The event ends at the deadline itself (Asia/Shanghai, with its VTIMEZONE) and starts half an
hour earlier, so calendars show it on the right day and time; an alarm fires one day before.
Its UID is derived from the deadline's key, so a moved deadline updates the same calendar entry
(DTSTAMP, the time the attachment was made, tells clients which version is newer).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from functools import lru_cache

import icalendar

from models.clock import clock, local

PRODID = "-//srdi//专精特新管理系统//ZH"


@lru_cache(maxsize=1)
def _shanghai_vtimezone() -> icalendar.Timezone:
    # China has kept UTC+8 without daylight saving since 1991; one STANDARD rule describes it.
    tz = icalendar.Timezone()
    tz.add("tzid", "Asia/Shanghai")
    standard = icalendar.TimezoneStandard()
    standard.add("dtstart", datetime(1991, 9, 15, 2, 0))
    standard.add("tzoffsetfrom", timedelta(hours=8))
    standard.add("tzoffsetto", timedelta(hours=8))
    standard.add("tzname", "CST")
    tz.add_component(standard)
    return tz


def deadline_ics(key: str, title: str, due_at: datetime, description: str = "", url: str | None = None,
                 stamp: datetime | None = None) -> str:
    """The .ics text for one deadline (encode as UTF-8)."""
    due = local(due_at)
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    calendar.add_component(_shanghai_vtimezone())
    event = icalendar.Event()
    event.add("uid", f"deadline-{key}@srdi")
    event.add("dtstamp", (stamp or clock.now()).astimezone(timezone.utc))
    event.add("summary", f"截止：{title}")
    event.add("dtstart", due - timedelta(minutes=30))
    event.add("dtend", due)
    if description:
        event.add("description", description)
    if url:
        event.add("url", url)
    alarm = icalendar.Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", f"明天截止：{title}")
    alarm.add("trigger", timedelta(days=-1))
    event.add_component(alarm)
    calendar.add_component(event)
    return calendar.to_ical().decode("utf-8")
