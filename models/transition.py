"""The transition log (流转记录): append-only, the legal record of every change of stage.

The database itself refuses UPDATE and DELETE on this table (a trigger on SQLite and on
PostgreSQL), so not even a bug in srdi can rewrite history.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Optional

from sqlmodel import Field, SQLModel

from models.append_only import append_only
from models.enums import ApplicationStatus, ReviewLevel, Role
from models.exact import exact

APPEND_ONLY_MESSAGE = "transition log is append-only"


class Transition(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id", index=True)
    at: datetime = Field(index=True)
    actor: str = Field(max_length=64, description="username, or 'system' for a flow")
    role: Role
    jurisdiction_code: str = Field(max_length=6, description="the actor's jurisdiction")
    action: str = Field(max_length=32, description="an action of the application machine of models/workflow.py "
                        "(submit, recommend, forward…); the workflow writer writes no other")
    from_level: Optional[ReviewLevel] = None
    from_status: Optional[ApplicationStatus] = None
    to_level: ReviewLevel
    to_status: ApplicationStatus
    reason: Optional[str] = None
    score: Optional[Decimal] = Field(default=None, **exact(7, 2))
    step_key: Optional[str] = Field(default=None, max_length=128, description="the pipeline step that wrote it")


append_only(Transition.__table__, APPEND_ONLY_MESSAGE)
