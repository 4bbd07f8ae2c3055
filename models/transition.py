"""The transition log (流转记录): append-only, the legal record of every change of stage.

The database itself refuses UPDATE and DELETE on this table (a trigger on SQLite and on
PostgreSQL), so not even a bug in srdi can rewrite history.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Optional

from sqlalchemy import DDL, event
from sqlmodel import Field, SQLModel

from models.enums import ApplicationStatus, ReviewLevel, Role

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
    score: Optional[Decimal] = Field(default=None, max_digits=7, decimal_places=2)
    step_key: Optional[str] = Field(default=None, max_length=128, description="the pipeline step that wrote it")


SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER IF NOT EXISTS transition_no_update BEFORE UPDATE ON transition
        BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END""",
    f"""CREATE TRIGGER IF NOT EXISTS transition_no_delete BEFORE DELETE ON transition
        BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END""",
]
POSTGRES_TRIGGERS = [
    f"""CREATE OR REPLACE FUNCTION transition_append_only() RETURNS trigger AS $$
        BEGIN RAISE EXCEPTION '{APPEND_ONLY_MESSAGE}'; END; $$ LANGUAGE plpgsql""",
    """DROP TRIGGER IF EXISTS transition_append_only ON transition""",
    """CREATE TRIGGER transition_append_only BEFORE UPDATE OR DELETE ON transition
        FOR EACH ROW EXECUTE FUNCTION transition_append_only()""",
]

for _statement in SQLITE_TRIGGERS:
    event.listen(Transition.__table__, "after_create", DDL(_statement).execute_if(dialect="sqlite"))
for _statement in POSTGRES_TRIGGERS:
    event.listen(Transition.__table__, "after_create", DDL(_statement).execute_if(dialect="postgresql"))
