"""The building blocks of a programme profile: strict models, documents and deadline rules.

A deadline rule (截止规则) is the one way a profile says when something is due: a fixed date-time, a
yearly month-day, or N working/natural days after an event, with a Beijing cut-off time.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from models.clock import SHANGHAI, aware, local
from models.errors import SrdiError

DayUnit = Literal["working_days", "natural_days"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Document(Strict):
    """A policy document the profile encodes."""

    number: str                      # 文号, e.g. 工信厅企业函〔2021〕79号
    title: str
    issuer: Optional[str] = None
    date: Optional[str] = None
    seed: Optional[str] = None       # file in shared/seeds
    lines: Optional[str] = None      # e.g. "816-1539"


class DeadlineRule(Strict):
    """When a level must have decided: a fixed date-time, a yearly month-day, or N days after an event.

    - ``fixed``: one date-time (a one-off round, e.g. 财建〔2021〕2号 batch 1: 2021-03-31);
    - ``annual``: ``month_day`` ("07-12") in the call's year — a programme runs every year while
      each call is one yearly round (四川: "于7月12日前");
    - ``after_event``: ``days`` working or natural days after the event.

    ``cutoff`` is the wall-clock time in Beijing; ``exclusive`` means "before" (8:00前: a decision
    at 08:00:00 is late), otherwise the whole minute/second named is still in time. ``assumed``
    marks a value the documents do not state; ``note`` then says why it was chosen.
    """

    kind: Literal["fixed", "annual", "after_event"]
    at: Optional[datetime] = None
    month_day: Optional[str] = None
    event: Optional[Literal["call_opens", "call_closes", "level_opens"]] = None
    days: Optional[int] = Field(default=None, ge=0)
    unit: DayUnit = "working_days"
    cutoff: time = time(23, 59, 59)
    exclusive: bool = False
    assumed: bool = False
    cite: Optional[str] = None
    note: Optional[str] = None

    @field_validator("at")
    @classmethod
    def _aware(cls, value: Optional[datetime]) -> Optional[datetime]:
        return aware(value) if value else value

    @field_validator("month_day")
    @classmethod
    def _month_day(cls, value: Optional[str]) -> Optional[str]:
        if value is None:
            return value
        try:
            parsed = datetime.strptime(f"2001-{value}", "%Y-%m-%d")  # 2001: not a leap year
        except ValueError:
            raise ValueError(f"month_day 应为存在于每一年的 MM-DD（如 07-12），实际为 {value!r}") from None
        if len(value) != 5 or parsed.strftime("%m-%d") != value:
            raise ValueError(f"month_day 应写作两位月-两位日（如 05-08），实际为 {value!r}")
        return value

    @model_validator(mode="after")
    def _shape(self) -> "DeadlineRule":
        if self.kind == "fixed" and self.at is None:
            raise ValueError("@at: kind=fixed 的截止规则需要 at（日期时间）")
        if self.kind == "annual" and self.month_day is None:
            raise ValueError("@month_day: kind=annual 的截止规则需要 month_day（MM-DD）")
        if self.kind == "after_event" and (self.event is None or self.days is None):
            raise ValueError("@days: kind=after_event 的截止规则需要 event 和 days")
        if self.assumed and not self.note:
            raise ValueError("@note: 标为 assumed 的截止规则需要 note 说明取值理由")
        return self

    def due_at(self, call_year: int, event_at: Optional[datetime] = None, calendar=None) -> datetime:
        """The aware instant of the cut-off for a call of ``call_year``.

        ``event_at`` is required for ``after_event``; ``calendar`` (a StatutoryCalendar, default
        the statutory one) counts working days and refuses a year it has no schedule for.
        """
        if self.kind == "fixed":
            return self.at
        if self.kind == "annual":
            day = date.fromisoformat(f"{call_year:04d}-{self.month_day}")
        else:
            if event_at is None:
                raise ValueError(f"截止规则以事件 {self.event} 起算，需要事件时间")
            start = local(event_at).date()
            if self.unit == "natural_days":
                day = start + timedelta(days=self.days)
            else:
                if calendar is None:
                    from models.calendar import statutory_calendar

                    calendar = statutory_calendar()
                day = calendar.add_workdays(start, self.days)
        return datetime.combine(day, self.cutoff, tzinfo=SHANGHAI)

    def in_time(self, when: datetime, due: datetime) -> bool:
        """Whether an act at ``when`` meets a cut-off at ``due`` (``exclusive``: strictly before)."""
        return aware(when) < due if self.exclusive else aware(when) <= due


class ProfileError(SrdiError, ValueError):
    """A profile that does not load: one line naming the file, the field and what was expected."""
