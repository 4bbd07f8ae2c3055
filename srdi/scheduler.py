"""The embedded scheduler (APScheduler 3.11) that ``srdi serve`` runs.

Jobs live in the srdi database (SQLAlchemyJobStore, table ``apscheduler_jobs``), times are
Asia/Shanghai, and every job has a stable id, so a restart finds its jobs again — a job that
fell due while the scheduler was down runs at start — and never adds a second copy:

* ``reminder-sweep``   the daily sweep, on statutory working days only (WorkdayTrigger: 调休
                       Saturdays included, holidays skipped) at each profile's ``send_at``;
* ``send-outbox``      every 10 minutes, so mail deferred by an SMTP outage goes out once the
                       server is back;
* ``pipeline-advance`` every 15 minutes (SRDI_ADVANCE_EVERY_MINUTES), when flows/advance.py exists;
* ``notice-close:N``   each open 公示 at its exact ``closes_at`` (run however late);
* ``scheduler-sync``   every 5 minutes: picks up notices opened since, drops closed ones.

Jobs run the Prefect flows (``SRDI_SCHEDULER_MODE=prefect``, the default) or, with ``direct``,
the same domain steps without Prefect.
"""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import select
from sqlalchemy.engine import Engine

from models.db import get_engine
from srdi.calendar import CalendarYearMissing, statutory_calendar
from srdi.clock import SHANGHAI, local
from srdi.config import setting

log = logging.getLogger("srdi.scheduler")

JOB_TABLE = "apscheduler_jobs"
NOTICE_JOB_PREFIX = "notice-close:"
MANAGED = ("reminder-sweep", "send-outbox", "pipeline-advance", "scheduler-sync")
_running: BackgroundScheduler | None = None


class WorkdayTrigger(BaseTrigger):
    """Fires at the given Beijing wall-clock times on statutory working days only.

    A cron "Mon–Fri" would fire during 国庆 and stay silent on a make-up Saturday. For a year the
    calendar does not know yet the trigger falls back to Mon–Fri; the job itself then refuses with
    the missing-year error, which is what should be seen.
    """

    __slots__ = ("times",)

    def __init__(self, times: tuple[str, ...] = ("09:00",)):
        self.times = tuple(sorted({time.fromisoformat(t).strftime("%H:%M") for t in times}))

    def _workday(self, day) -> bool:
        try:
            return statutory_calendar().is_workday(day)
        except CalendarYearMissing:
            return day.weekday() < 5

    def get_next_fire_time(self, previous_fire_time, now):
        start = now if previous_fire_time is None else max(now, previous_fire_time + timedelta(microseconds=1))
        day = local(start).date()
        for _ in range(400):
            if self._workday(day):
                for hhmm in self.times:
                    candidate = datetime.combine(day, time.fromisoformat(hhmm), SHANGHAI)
                    if candidate >= start:
                        return candidate
            day += timedelta(days=1)
        return None

    def __getstate__(self):
        return {"version": 1, "times": self.times}

    def __setstate__(self, state):
        self.times = tuple(state["times"])

    def __str__(self) -> str:
        return f"workdays[{','.join(self.times)} Asia/Shanghai]"

    def __repr__(self) -> str:
        return f"<WorkdayTrigger times={self.times!r}>"


# ---- what the jobs run (importable by reference; arguments are plain values) -------------------

def _direct() -> bool:
    return (setting("SRDI_SCHEDULER_MODE", "prefect") or "prefect").lower() == "direct"


def run_reminder_sweep() -> dict:
    if _direct():
        from notifications.sender import send_queued
        from tasks.reminders import sweep

        result = sweep().as_dict()
        if not result["skipped"]:
            result["send"] = send_queued().as_dict()
        return result
    from flows.reminders import reminder_sweep

    return reminder_sweep()


def run_send_outbox() -> dict:
    if _direct():
        from notifications.sender import send_queued

        return send_queued().as_dict()
    from flows.reminders import send_outbox

    return send_outbox()


def run_pipeline_advance() -> dict:
    """`srdi pipeline advance` (flows/advance.py): every step due at the clock's now."""
    from flows.advance import advance_flow, advance_without_prefect

    return advance_without_prefect() if _direct() else advance_flow()


def run_notice_close(notice_id: int) -> dict:
    """Close every notice due by now (this one included); idempotent, so a late or repeated run is harmless."""
    if _direct():
        from models.db import get_engine
        from tasks.notice import close_due_notices

        with get_engine().begin() as connection:
            result = close_due_notices(connection)
    else:
        from flows.notice import notice_step

        result = notice_step()
    log.info("公示 %s 期满处理：%s", notice_id, result)
    return result


def run_scheduler_sync() -> list[str]:
    return sync_jobs(_running) if _running is not None else []


# ---- building and syncing ---------------------------------------------------------------------

def build_scheduler(engine: Engine | None = None) -> BackgroundScheduler:
    store = SQLAlchemyJobStore(engine=engine or get_engine(), tablename=JOB_TABLE)
    return BackgroundScheduler(
        jobstores={"default": store},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 6 * 3600},
        timezone=SHANGHAI,
    )


@dataclass(frozen=True)
class JobSpec:
    id: str
    func: str
    trigger: BaseTrigger
    name: str
    args: tuple = ()
    options: dict = field(default_factory=dict)


def _sweep_times() -> tuple[str, ...]:
    from tasks.reminders import DEFAULT_POLICY, reminder_policies

    policies, _ = reminder_policies()
    return tuple(p.send_at.strftime("%H:%M") for p in [DEFAULT_POLICY, *policies.values()])


def _open_notices(engine: Engine) -> list[tuple[int, datetime, str]]:
    try:
        from models.notice import Notice, NoticeStatus
    except ImportError:
        return []
    with engine.connect() as connection:
        return [(r.id, r.closes_at, r.title) for r in connection.execute(
            select(Notice.id, Notice.closes_at, Notice.title).where(Notice.status == NoticeStatus.open).order_by(Notice.id))]


def desired_jobs(engine: Engine | None = None) -> list[JobSpec]:
    engine = engine or get_engine()
    every = int(setting("SRDI_ADVANCE_EVERY_MINUTES", "15"))
    jobs = [
        JobSpec("reminder-sweep", "srdi.scheduler:run_reminder_sweep", WorkdayTrigger(_sweep_times()), "每日提醒（法定工作日）"),
        JobSpec("send-outbox", "srdi.scheduler:run_send_outbox", IntervalTrigger(minutes=10, timezone=SHANGHAI), "发送邮件队列"),
        JobSpec("scheduler-sync", "srdi.scheduler:run_scheduler_sync", IntervalTrigger(minutes=5, timezone=SHANGHAI), "同步定时任务"),
    ]
    if importlib.util.find_spec("flows.advance") is not None:
        jobs.append(JobSpec("pipeline-advance", "srdi.scheduler:run_pipeline_advance",
                            IntervalTrigger(minutes=every, timezone=SHANGHAI), "推进评审流程"))
    for notice_id, closes_at, title in _open_notices(engine):
        jobs.append(JobSpec(f"{NOTICE_JOB_PREFIX}{notice_id}", "srdi.scheduler:run_notice_close",
                            DateTrigger(run_date=local(closes_at), timezone=SHANGHAI), f"公示期满：{title}"[:120],
                            (notice_id,), {"misfire_grace_time": None}))
    return jobs


def _same(job, spec: JobSpec) -> bool:
    return (job.func_ref == spec.func and tuple(job.args) == spec.args
            and str(job.trigger) == str(spec.trigger) and job.name == spec.name)


def sync_jobs(scheduler: BackgroundScheduler, engine: Engine | None = None) -> list[str]:
    """Make the stored jobs what they should be; an unchanged job keeps its next run time."""
    wanted = {spec.id: spec for spec in desired_jobs(engine)}
    existing = {job.id: job for job in scheduler.get_jobs()}
    for spec in wanted.values():
        job = existing.get(spec.id)
        if job is None or not _same(job, spec):
            scheduler.add_job(spec.func, spec.trigger, args=list(spec.args), id=spec.id, name=spec.name,
                              replace_existing=True, **spec.options)
    for job_id in existing:
        if job_id not in wanted and (job_id in MANAGED or job_id.startswith(NOTICE_JOB_PREFIX)):
            scheduler.remove_job(job_id)
    return sorted(wanted)


def start(engine: Engine | None = None, paused: bool = False) -> BackgroundScheduler:
    """Start the scheduler on the srdi database with its jobs in place."""
    global _running
    scheduler = build_scheduler(engine)
    scheduler.start(paused=True)
    sync_jobs(scheduler, engine)
    if not paused:
        scheduler.resume()
        _running = scheduler
    return scheduler


def stop(scheduler: BackgroundScheduler, wait: bool = True) -> None:
    global _running
    scheduler.shutdown(wait=wait)
    if _running is scheduler:
        _running = None


def job_table(scheduler: BackgroundScheduler) -> list[dict]:
    """Every stored job with its next fire time (Beijing time), soonest first."""
    jobs = sorted(scheduler.get_jobs(), key=lambda j: (j.next_run_time is None, j.next_run_time or datetime.max.replace(tzinfo=SHANGHAI)))
    return [{"id": j.id, "name": j.name, "trigger": str(j.trigger),
             "next_run_time": local(j.next_run_time).isoformat() if j.next_run_time else None} for j in jobs]
