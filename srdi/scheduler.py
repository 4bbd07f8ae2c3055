"""The embedded scheduler of `srdi serve` (定时任务): the jobs, when each is due, and one way to run one.

A job is a trigger of a flow, nothing more; the same flows are the prefect.yaml deployments and
the commands (`srdi pipeline advance` is the ``pipeline-advance`` flow):

* ``pipeline-advance``   every 15 minutes (SRDI_ADVANCE_EVERY_MINUTES): flows/advance.py;
* ``reminder-sweep``     on statutory working days at each profile's ``send_at`` (调休 Saturdays
                         included, holidays skipped): flows/reminders.py ``reminder_sweep``;
* ``send-outbox``        every 10 minutes, so mail deferred by an SMTP outage goes out once the
                         server is back: flows/reminders.py ``send_outbox``;
* ``funds-disbursement`` on statutory working days at 10:00: flows/funds_schedule.py.

When a job is due is data: ``scheduled_job.next_due_at`` on the srdi clock (so a simulated clock
that runs fast runs the schedule fast too, and a restart finds its schedule again; a run missed
while the service was down runs once at start). APScheduler only provides the heartbeat: a ``tick``
every SRDI_TICK_SECONDS of real time runs whatever is due. Each run is a ``job_run`` row, and
holds a lease in real time renewed while it runs, so two services never run a job at once and a
run killed with kill -9 is marked interrupted by the next one.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from typing import Callable, Optional

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from models.calendar import CalendarYearMissing, statutory_calendar
from models.clock import SHANGHAI, clock, local
from models.db import get_engine
from models.errors import SrdiError
from models.operations import JobRun, JobStatus, ScheduledJob
from models.settings import setting
from models.workflow import JOB_RUN
from models.workflow_writer import SystemActor, apply, initial
from notifications.outbox import insert_new

log = logging.getLogger("srdi.scheduler")

JOBS_TABLE = ScheduledJob.__table__
RUNS_TABLE = JobRun.__table__
SCHEDULER = SystemActor()
FINISHING = {JobStatus.succeeded: "succeed", JobStatus.partial: "partial", JobStatus.failed: "fail"}   # JOB_RUN's actions
LEASE = timedelta(minutes=2)
INTERVAL_ORIGIN = datetime(2000, 1, 3, 0, 0, tzinfo=SHANGHAI)     # interval jobs fall on :00, :15, …
MAX_CATCH_UP = 100_000


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

    def __str__(self) -> str:
        return f"workdays[{','.join(self.times)} Asia/Shanghai]"


def every(minutes: int) -> IntervalTrigger:
    """An interval on the srdi clock, aligned to the hour (no real-time start date)."""
    return IntervalTrigger(minutes=minutes, start_date=INTERVAL_ORIGIN, timezone=SHANGHAI)


# ---- the jobs: each a trigger of a flow -------------------------------------------------------

def run_pipeline_advance() -> dict:
    from flows.advance import advance_flow

    return advance_flow()


def run_reminder_sweep() -> dict:
    from flows.reminders import reminder_sweep

    return reminder_sweep()


def run_send_outbox() -> dict:
    from flows.reminders import send_outbox

    return send_outbox()


def run_funds_disbursement() -> dict:
    from flows.funds_schedule import disburse_due_tranches

    return disburse_due_tranches()


def _sweep_times() -> tuple[str, ...]:
    from tasks.reminders.sweep import DEFAULT_POLICY, reminder_policies

    policies, _ = reminder_policies()
    return tuple(p.send_at.strftime("%H:%M") for p in [DEFAULT_POLICY, *policies.values()])


@dataclass(frozen=True)
class Job:
    id: str
    name: str
    trigger: BaseTrigger
    run: Callable[[], dict]


def jobs() -> dict[str, Job]:
    """The scheduled jobs, by id, as the settings and profiles make them now."""
    advance = int(setting("SRDI_ADVANCE_EVERY_MINUTES", "15") or 15)
    listed = [
        Job("pipeline-advance", "推进评审流程", every(advance), run_pipeline_advance),
        Job("reminder-sweep", "每日提醒（法定工作日）", WorkdayTrigger(_sweep_times()), run_reminder_sweep),
        Job("send-outbox", "发送邮件队列", every(10), run_send_outbox),
        Job("funds-disbursement", "按期拨付（法定工作日）", WorkdayTrigger(("10:00",)), run_funds_disbursement),
    ]
    return {job.id: job for job in listed}


def job_named(job_id: str) -> Job:
    found = jobs()
    if job_id not in found:
        raise SrdiError(f"没有名为 {job_id} 的定时任务；应为 {'、'.join(found)} 之一")
    return found[job_id]


# ---- when each job is due (data on the srdi clock) --------------------------------------------

def _next_after(trigger: BaseTrigger, previous: Optional[datetime], now: datetime) -> Optional[datetime]:
    """The next fire time after ``previous`` that is later than ``now`` (missed ones coalesce)."""
    moment = trigger.get_next_fire_time(previous, now)
    for _ in range(MAX_CATCH_UP):
        if moment is None or moment > now:
            return moment
        moment = trigger.get_next_fire_time(moment, now + timedelta(microseconds=1))
    return moment


def sync_jobs(engine: Optional[Engine] = None, now: Optional[datetime] = None) -> list[dict]:
    """Make the ``scheduled_job`` rows what the job list says; a changed schedule is recomputed."""
    engine, now = engine or get_engine(), now or clock.now()
    wanted = jobs()
    with engine.begin() as connection:
        stored = {r.id: r for r in connection.execute(select(JOBS_TABLE))}
        insert_new(connection, JOBS_TABLE, [
            {"id": job.id, "name": job.name, "trigger": str(job.trigger),
             "next_due_at": job.trigger.get_next_fire_time(None, now)}
            for job in wanted.values() if job.id not in stored], ["id"])
        for job in wanted.values():
            row = stored.get(job.id)
            if row is not None and (row.trigger != str(job.trigger) or row.name != job.name):
                connection.execute(update(JOBS_TABLE).where(JOBS_TABLE.c.id == job.id).values(
                    name=job.name, trigger=str(job.trigger), next_due_at=job.trigger.get_next_fire_time(None, now)))
        connection.execute(JOBS_TABLE.delete().where(JOBS_TABLE.c.id.not_in(list(wanted))))
    return job_table(engine)


def job_table(engine: Optional[Engine] = None) -> list[dict]:
    """Every job with its next due time and its last run (Beijing time), soonest first."""
    with (engine or get_engine()).connect() as connection:
        rows = connection.execute(select(JOBS_TABLE).order_by(JOBS_TABLE.c.next_due_at, JOBS_TABLE.c.id)).all()
    show = lambda value: local(value).isoformat() if value else None  # noqa: E731
    return [{"id": r.id, "name": r.name, "trigger": r.trigger, "next_run_time": show(r.next_due_at),
             "last_status": r.last_status, "last_finished_at": show(r.last_finished_at),
             "running": r.running_run_id is not None} for r in rows]


# ---- running a job once: lease, run, record -----------------------------------------------------

def _real_now() -> datetime:
    return datetime.now(timezone.utc)


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _owner_gone(owner: Optional[str]) -> bool:
    """A run's process on this host that no longer exists (killed): its lease need not run out."""
    host, _, pid = (owner or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class _Busy(Exception):
    pass


def _claim(engine: Engine, job: Job, trigger: str, due_at: Optional[datetime]) -> Optional[int]:
    """A job_run row holding the job's lease, or None while another live run holds it."""
    real = _real_now()
    try:
        with engine.begin() as connection:
            row = connection.execute(select(JOBS_TABLE).where(JOBS_TABLE.c.id == job.id)).first()
            held = row.running_run_id
            owner = connection.execute(select(RUNS_TABLE.c.owner).where(RUNS_TABLE.c.id == held)).scalar() if held else None
            if held is not None and row.lease_until is not None and row.lease_until > real and not _owner_gone(owner):
                raise _Busy
            if held is not None:
                apply(connection, JOB_RUN, "interrupt", [held], actor=SCHEDULER, at=clock.now(), skip_others=True,
                      values={"finished_at": clock.now(), "error": "运行中断（进程已退出，由下一次运行接手）"})
            run_id = connection.execute(RUNS_TABLE.insert().values(
                job_id=job.id, trigger=trigger, owner=_owner(), **initial(JOB_RUN, "start"), due_at=due_at,
                started_at=clock.now())).inserted_primary_key[0]
            guard = JOBS_TABLE.c.running_run_id.is_(None) if held is None else JOBS_TABLE.c.running_run_id == held
            taken = connection.execute(update(JOBS_TABLE).where(JOBS_TABLE.c.id == job.id, guard)
                                       .values(running_run_id=run_id, lease_until=real + LEASE)).rowcount
            if taken != 1:
                raise _Busy          # another process claimed it between our read and write: roll back
    except _Busy:
        return None
    return run_id


class _Heartbeat:
    """Renews a run's lease while it runs (a run killed with kill -9 stops renewing it)."""

    def __init__(self, engine: Engine, job_id: str, run_id: int):
        self.engine, self.job_id, self.run_id = engine, job_id, run_id
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._beat, name=f"lease-{job_id}", daemon=True)

    def _beat(self) -> None:
        while not self.stop.wait(LEASE.total_seconds() / 4):
            with self.engine.begin() as connection:
                connection.execute(update(JOBS_TABLE).where(JOBS_TABLE.c.id == self.job_id,
                                                            JOBS_TABLE.c.running_run_id == self.run_id)
                                   .values(lease_until=_real_now() + LEASE))

    def __enter__(self) -> "_Heartbeat":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join()


def _json_safe(value) -> Optional[dict]:
    if value is None:
        return None
    return json.loads(json.dumps(value if isinstance(value, dict) else {"result": value}, ensure_ascii=False, default=str))


def _outcome(result) -> JobStatus:
    """partial when some call or tranche is blocked (the result names them), else succeeded."""
    if not isinstance(result, dict):
        return JobStatus.succeeded
    parts = [result, *[v for v in result.values() if isinstance(v, dict)]]
    return JobStatus.partial if any(part.get("blocked") for part in parts) else JobStatus.succeeded


def run_job(job_id: str, trigger: str = "manual", due_at: Optional[datetime] = None,
            engine: Optional[Engine] = None, sync: bool = True) -> dict:
    """Run one job now (`srdi scheduler run JOB`, or the tick when it is due) and record the run.

    Returns the run: ``status`` is succeeded, partial (some call blocked), failed, or busy (another
    live run holds the lease; nothing was run).
    """
    engine = engine or get_engine()
    job = job_named(job_id)
    if sync:                                   # the tick has just synced
        sync_jobs(engine)
    run_id = _claim(engine, job, trigger, due_at)
    if run_id is None:
        return {"job": job.id, "status": "busy", "error": "该任务正在由另一进程运行"}
    result, error, status = None, None, JobStatus.failed
    try:
        with _Heartbeat(engine, job.id, run_id):
            result = job.run()
        status = _outcome(result)
    except Exception as exc:  # noqa: BLE001 — recorded and reported; the scheduler goes on
        from tasks.pipeline.due import describe

        error = describe(exc)
        log.warning("定时任务 %s 失败：%s", job.id, error, exc_info=exc)
    finished = clock.now()
    values = {"last_status": status, "last_finished_at": finished, "running_run_id": None, "lease_until": None}
    if trigger == "schedule":
        values["next_due_at"] = _next_after(job.trigger, due_at, finished)
    with engine.begin() as connection:
        apply(connection, JOB_RUN, FINISHING[status], [run_id], actor=SCHEDULER, at=finished, skip_others=True,
              values={"finished_at": finished, "summary": _json_safe(result), "error": error})
        connection.execute(update(JOBS_TABLE).where(JOBS_TABLE.c.id == job.id).values(**values))
    return {"job": job.id, "run_id": run_id, "status": status.value, "error": error, "result": result}


def tick(engine: Optional[Engine] = None) -> list[dict]:
    """Run every job whose due time has come on the srdi clock, one after the other."""
    engine = engine or get_engine()
    sync_jobs(engine)
    with engine.connect() as connection:
        due = connection.execute(select(JOBS_TABLE.c.id, JOBS_TABLE.c.next_due_at).where(
            JOBS_TABLE.c.next_due_at <= clock.now()).order_by(JOBS_TABLE.c.next_due_at)).all()
    return [run_job(row.id, "schedule", row.next_due_at, engine, sync=False) for row in due]


# ---- the heartbeat -----------------------------------------------------------------------------

def _safe_tick() -> None:
    try:
        for run in tick():
            log.info("定时任务 %s：%s%s", run["job"], run["status"], f"（{run['error']}）" if run.get("error") else "")
    except Exception:  # noqa: BLE001 — the next tick tries again
        log.exception("定时任务调度失败")


def tick_seconds() -> float:
    return float(setting("SRDI_TICK_SECONDS", "30") or 30)


def start() -> BackgroundScheduler:
    """Start the heartbeat: a tick now, then every SRDI_TICK_SECONDS of real time."""
    scheduler = BackgroundScheduler(timezone=SHANGHAI, job_defaults={"coalesce": True, "max_instances": 1})
    scheduler.add_job(_safe_tick, "interval", seconds=tick_seconds(), id="tick", name="定时任务心跳",
                      next_run_time=datetime.now(SHANGHAI))
    scheduler.start()
    return scheduler


def stop(scheduler: BackgroundScheduler, wait: bool = True) -> None:
    scheduler.shutdown(wait=wait)
