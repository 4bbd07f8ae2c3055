"""The state-change log (状态变更记录): append-only, one row per changed row of every logged machine.

Applications keep their own log of moves (``transition``, with levels and scores); every other logged
machine of models/workflow.py — notices, objections, plans, tranches, runs, recognitions… — writes here,
and so does an application's non-move (an eligibility verdict, which changes no stage). Like
``transition``, the database refuses UPDATE and DELETE on this table (a trigger on SQLite and PostgreSQL).
"""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from models.append_only import append_only
from models.enums import Role

APPEND_ONLY_MESSAGE = "state_change log is append-only"


class StateChange(SQLModel, table=True):
    __tablename__ = "state_change"
    __table_args__ = (Index("ix_state_change_subject", "machine", "subject_id"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    machine: str = Field(max_length=32, description="the machine of models/workflow.py: notice, objection, tranche…")
    subject_id: int = Field(description="the id of the changed row in the machine's table")
    action: str = Field(max_length=32)
    from_status: Optional[str] = Field(default=None, max_length=32, description="None when the action created the row")
    to_status: str = Field(max_length=32)
    at: datetime = Field(index=True)
    actor: str = Field(max_length=64, description="username, or 'system' for a flow")
    role: Role
    jurisdiction_code: Optional[str] = Field(default=None, max_length=6, description="the actor's jurisdiction")
    reason: Optional[str] = None
    step_key: Optional[str] = Field(default=None, max_length=128, description="the pipeline step that wrote it")


append_only(StateChange.__table__, APPEND_ONLY_MESSAGE)
