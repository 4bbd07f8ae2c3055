"""运行状态: scheduled jobs with their last and next runs, failures and blocked calls (admins).

The jobs run the whole service, so their table, runs and errors are shown to provincial and ministry
administrators (as the dashboard's failed-jobs box, srdi.web.dashboard.failed_jobs); the blocked steps
are those of the administrator's subtree (dashboard.blocked_steps). The next run is the job's stored
``next_due_at`` — what the scheduler itself reads (srdi/scheduler.py), on the srdi clock.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from sqlalchemy import func, select
from sqlmodel import Session

from models.clock import clock
from models.enums import JurisdictionLevel, Role
from models.operations import JobRun, JobStatus, ScheduledJob
from srdi.web import dashboard
from srdi.web.auth import csrf_protect, current_user, db_session
from srdi.web.pages import render
from tasks.people.actors import Actor
from tasks.pipeline.due import STEPS_BY_NAME

router = APIRouter(dependencies=[Depends(csrf_protect)], include_in_schema=False)

SERVICE_LEVELS = (JurisdictionLevel.ministry, JurisdictionLevel.province)
MAX_RUNS = 200
TROUBLE = (JobStatus.failed, JobStatus.partial, JobStatus.interrupted)


def admin_only(scope: Actor = Depends(current_user)) -> Actor:
    if scope.role != Role.admin:
        raise HTTPException(403, "仅管理员可访问此页面")
    return scope


def sees_service(scope: Actor) -> bool:
    """Whether this user looks after the service itself (省级及以上)."""
    return scope.jurisdiction_level in SERVICE_LEVELS


def jobs(session: Session, since) -> list[dict[str, Any]]:
    """Each job with its schedule, last and next run, and its runs (and failed ones) since ``since``."""
    counts = (select(JobRun.job_id, func.count().label("runs"),
                     func.count().filter(JobRun.status.in_(TROUBLE)).label("failures"))
              .where(JobRun.started_at >= since).group_by(JobRun.job_id).subquery())
    stmt = (select(ScheduledJob.id, ScheduledJob.name, ScheduledJob.trigger, ScheduledJob.next_due_at, ScheduledJob.last_status,
                   ScheduledJob.last_finished_at, ScheduledJob.running_run_id, func.coalesce(counts.c.runs, 0).label("runs"),
                   func.coalesce(counts.c.failures, 0).label("failures"))
            .outerjoin(counts, counts.c.job_id == ScheduledJob.id).order_by(ScheduledJob.next_due_at, ScheduledJob.id))
    return [dict(r) for r in session.execute(stmt).mappings()]


def recent_runs(session: Session, since) -> list[dict[str, Any]]:
    """The runs since ``since``, newest first, with their errors."""
    stmt = (select(JobRun.id, JobRun.job_id, ScheduledJob.name, JobRun.trigger, JobRun.status, JobRun.due_at, JobRun.started_at,
                   JobRun.finished_at, JobRun.error, JobRun.owner)
            .outerjoin(ScheduledJob, ScheduledJob.id == JobRun.job_id)
            .where(JobRun.started_at >= since).order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(MAX_RUNS))
    return [dict(r) for r in session.execute(stmt).mappings()]


def step_label(step: str) -> str:
    found = STEPS_BY_NAME.get(step)
    return found.label if found else step


@router.get("/admin/status")
def status_page(request: Request, days: int = Query(7, ge=1, le=90), scope: Actor = Depends(admin_only),
                session: Session = Depends(db_session)):
    now = clock.now()
    since = now - timedelta(days=days)
    service = sees_service(scope)
    blocked = [{**b, "step_label": step_label(b["step"])} for b in dashboard.blocked_steps(session, scope)]
    return render(request, "admin_status.html", scope, now=now, days=days, service=service, blocked=blocked,
                  jobs=jobs(session, since) if service else [],
                  failed_jobs=dashboard.failed_jobs(session, scope),
                  runs=recent_runs(session, since) if service else [])
