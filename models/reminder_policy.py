"""Reminder policy of a profile (提醒规则), counted in statutory working days."""

from __future__ import annotations

from datetime import time

from pydantic import BaseModel, ConfigDict, Field


class ReminderPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    before_workdays: list[int] = Field(default_factory=lambda: [5, 3, 1])
    on_due_day: bool = True
    escalate_when_overdue: bool = True      # to the bureau one level up
    send_at: time = time(9, 0)              # Beijing time on a working day
