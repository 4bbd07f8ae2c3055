"""The running service's own record: blocked steps, scheduled jobs and their runs (运行记录).

* ``StepBlock`` — a due step that could not proceed for one call or tranche (a year without a
  holiday schedule, a broken profile, bad data). One row per subject × step; ``cleared_at`` is set when the
  step next succeeds. ``mailed_at`` makes the bureau's notice go out once per episode.
* ``ScheduledJob`` — each job of the embedded scheduler, its next due instant on the srdi clock and
  its lease (real wall time: a run killed with kill -9 is taken over once its lease has run out).
* ``JobRun`` — one row per run of a job, with its outcome, so a failing job is visible.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Optional

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

GLOBAL_SCOPE = "*"     # StepBlock.subject of a step that is not about one call or tranche


class StepBlock(SQLModel, table=True):
    """流程受阻: a due step that cannot proceed for one call or tranche, with the reason a bureau can act on."""

    __tablename__ = "step_block"
    __table_args__ = (UniqueConstraint("subject", "step", name="uq_step_block_subject_step"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    subject: str = Field(max_length=64, description="a call id, tranche:ID, or * for a step over everything")
    jurisdiction_code: Optional[str] = Field(default=None, max_length=12, description="the bureau told about it")
    step: str = Field(max_length=64, description="the due step, e.g. close-levels")
    reason: str = Field(sa_column=Column(Text, nullable=False))
    first_at: datetime = Field(description="first failure of this episode (srdi clock)")
    last_at: datetime = Field(description="latest failure (srdi clock)")
    failures: int = Field(default=1, description="failed attempts in this episode")
    mailed_at: Optional[datetime] = None
    cleared_at: Optional[datetime] = Field(default=None, index=True, description="when the step next succeeded")


class JobStatus(StrEnum):
    running = "running"
    succeeded = "succeeded"
    partial = "partial"           # ran, but some calls are blocked
    failed = "failed"
    interrupted = "interrupted"   # its process died; found by the next run (lease expired)


class ScheduledJob(SQLModel, table=True):
    """定时任务: when each job of ``srdi serve`` is next due, and who is running it now."""

    __tablename__ = "scheduled_job"

    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=128)
    trigger: str = Field(max_length=128, description="the schedule, e.g. workdays[09:00 Asia/Shanghai]")
    next_due_at: Optional[datetime] = Field(default=None, description="srdi clock")
    last_status: Optional[str] = Field(default=None, max_length=16)
    last_finished_at: Optional[datetime] = Field(default=None, description="srdi clock")
    running_run_id: Optional[int] = None
    lease_until: Optional[datetime] = Field(default=None, description="real wall time")


class JobRun(SQLModel, table=True):
    """One run of a scheduled job (by the scheduler, or `srdi scheduler run JOB`)."""

    __tablename__ = "job_run"
    __table_args__ = (Index("ix_job_run_job_started", "job_id", "started_at"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    job_id: str = Field(max_length=64)
    trigger: str = Field(max_length=16, description="schedule / manual")
    owner: str = Field(max_length=128, description="host:pid")
    status: JobStatus = JobStatus.running
    due_at: Optional[datetime] = Field(default=None, description="the due instant it ran for (srdi clock)")
    started_at: datetime = Field(description="srdi clock")
    finished_at: Optional[datetime] = None
    summary: Optional[dict] = Field(default=None, sa_column=Column(JSON))
    error: Optional[str] = Field(default=None, sa_column=Column(Text))
