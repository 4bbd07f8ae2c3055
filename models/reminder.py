"""Reminders (提醒): one row per deadline × stage × recipient, never two.

The stages follow the profile's reminder policy: ``before-5``, ``before-3``, ``before-1``
(working days before the due date), ``due-day`` (截止当日，或截止日非工作日时其前最后一个工作日)
and ``overdue-escalation`` (逾期督办, to the bureau one level up). The unique constraint is what
makes the daily sweep safe to run any number of times. ``due_at`` is part of it: when a deadline
is extended (延期), its reminders start again for the new date.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from sqlmodel import Field, SQLModel, UniqueConstraint

DUE_DAY = "due-day"
ESCALATION = "overdue-escalation"


def before_stage(workdays: int) -> str:
    return f"before-{workdays}"


class Reminder(SQLModel, table=True):
    __tablename__ = "reminder"
    __table_args__ = (
        UniqueConstraint("deadline_id", "due_at", "stage", "recipient", name="uq_reminder_deadline_due_stage_recipient"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    deadline_id: int = Field(foreign_key="deadline.id", index=True)
    due_at: datetime = Field(description="the due time this reminder is about")
    stage: str = Field(max_length=32)
    recipient: str = Field(max_length=128, description="e-mail address, lower-case")
    recipient_name: Optional[str] = Field(default=None, max_length=128)
    recipient_kind: str = Field(max_length=16, description="bureau / user / applicant")
    recipient_jurisdiction: Optional[str] = Field(default=None, max_length=6)
    planned_on: date = Field(description="the working day (Beijing) it was due to go out")
    created_at: datetime
    mail_id: Optional[int] = Field(default=None, foreign_key="outgoing_mail.id", index=True)
