"""The outbox (发件箱): every mail srdi sends is a row here first, then goes out.

A mail is written in the same step that decides it must be sent; the sender later claims due
rows, delivers them and records the outcome. An SMTP outage therefore loses nothing: the row
stays ``queued`` with a later ``next_attempt_at``. ``dedupe_key`` is unique, so re-running the
step that queues a mail never queues it twice; ``message_id`` is fixed at queue time, so even a
re-delivery after a crash carries the same Message-ID.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Optional

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel


class MailState(StrEnum):
    queued = "queued"          # 待发送 (also while being retried after a failure)
    sent = "sent"              # 已发送: the SMTP server accepted it
    failed = "failed"          # 发送失败: refused permanently, or too many transient failures
    cancelled = "cancelled"    # 已取消: no longer needed (the deadline was met before it went out)


class OutgoingMail(SQLModel, table=True):
    __tablename__ = "outgoing_mail"
    __table_args__ = (Index("ix_outgoing_mail_state_next_attempt", "state", "next_attempt_at"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    dedupe_key: str = Field(max_length=200, unique=True, description="e.g. reminder:42")
    kind: str = Field(max_length=32, description="reminder / escalation / announcement …")
    to_addr: str = Field(max_length=128)
    to_name: Optional[str] = Field(default=None, max_length=128)
    subject: str = Field(max_length=256)
    body_text: str = Field(sa_column=Column(Text, nullable=False))
    body_html: Optional[str] = Field(default=None, sa_column=Column(Text))
    ics: Optional[str] = Field(default=None, sa_column=Column(Text), description="text/calendar attachment")
    ics_filename: Optional[str] = Field(default=None, max_length=128)
    message_id: str = Field(max_length=200, unique=True)
    state: MailState = MailState.queued
    attempts: int = 0
    last_error: Optional[str] = Field(default=None, max_length=500)
    next_attempt_at: datetime
    claim: Optional[str] = Field(default=None, max_length=36, description="token of the sender run holding it")
    queued_at: datetime
    sent_at: Optional[datetime] = None
