"""The embedded scheduler: working-day sweep times, schedules kept as data on the srdi clock,
missed runs coalesced, one run at a time (lease), a killed run taken over, every run recorded."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from models.clock import SHANGHAI
from models.operations import JobRun, JobStatus, ScheduledJob
from srdi import scheduler as embedded
from srdi.scheduler import Job, WorkdayTrigger, every

at = lambda *a: datetime(*a, tzinfo=SHANGHAI)  # noqa: E731


def test_the_sweep_fires_on_the_make_up_saturday_and_not_during_national_day():
    trigger = WorkdayTrigger(("09:00",))
    assert trigger.get_next_fire_time(None, at(2025, 9, 30, 10, 0)) == at(2025, 10, 9, 9, 0)
    assert trigger.get_next_fire_time(at(2025, 10, 10, 9, 0), at(2025, 10, 10, 9, 0, 1)) == at(2025, 10, 11, 9, 0)
    assert trigger.get_next_fire_time(at(2025, 10, 11, 9, 0), at(2025, 10, 11, 9, 0, 1)) == at(2025, 10, 13, 9, 0)
    assert trigger.get_next_fire_time(None, at(2025, 9, 27, 8, 0)) == at(2025, 9, 28, 9, 0)   # Sunday, 调休


def test_intervals_run_on_the_srdi_clock_aligned_to_the_hour():
    assert every(15).get_next_fire_time(None, at(2026, 3, 2, 9, 7)) == at(2026, 3, 2, 9, 15)
    assert embedded._next_after(every(15), at(2026, 3, 2, 9, 15), at(2026, 3, 2, 13, 1)) == at(2026, 3, 2, 13, 15)


@pytest.fixture
def fake_jobs(monkeypatch):
    """Two jobs whose runs are counted; ``fail`` makes the second one raise."""
    calls = {"a": 0, "b": 0, "fail": False}

    def run_a():
        calls["a"] += 1
        return {"done": calls["a"]}

    def run_b():
        calls["b"] += 1
        if calls["fail"]:
            raise RuntimeError("SMTP 服务器不可达")
        return {"blocked": {"call-x": "缺少2027年法定节假日安排"}}

    jobs = {"job-a": Job("job-a", "甲", every(15), run_a), "job-b": Job("job-b", "乙", WorkdayTrigger(("09:00",)), run_b)}
    monkeypatch.setattr(embedded, "jobs", lambda: jobs)
    return calls


def _job(engine, job_id):
    with engine.connect() as c:
        return c.execute(select(ScheduledJob).where(ScheduledJob.id == job_id)).first()


def _runs(engine):
    with engine.connect() as c:
        return c.execute(select(JobRun).order_by(JobRun.id)).all()


def test_a_tick_runs_what_is_due_once_and_records_it(engine, clock, fake_jobs):
    clock.set(at(2026, 3, 2, 8, 50))                   # Monday
    assert embedded.tick(engine) == []                 # first sight: schedules set, nothing due yet
    assert _job(engine, "job-a").next_due_at == at(2026, 3, 2, 9, 0)
    assert embedded.sync_jobs(engine) == embedded.sync_jobs(engine)     # a restart changes nothing

    clock.set(at(2026, 3, 2, 12, 5))                  # the service was down for three hours
    runs = embedded.tick(engine)
    assert [(r["job"], r["status"]) for r in runs] == [("job-a", "succeeded"), ("job-b", "partial")]
    assert fake_jobs == {"a": 1, "b": 1, "fail": False}         # missed runs coalesce into one
    assert _job(engine, "job-a").next_due_at == at(2026, 3, 2, 12, 15)
    assert _job(engine, "job-b").next_due_at == at(2026, 3, 3, 9, 0)
    assert embedded.tick(engine) == []                           # nothing due again until 12:15

    fake_jobs["fail"] = True
    clock.set(at(2026, 3, 3, 9, 1))
    runs = {r["job"]: r for r in embedded.tick(engine)}
    assert runs["job-b"]["status"] == "failed" and "SMTP 服务器不可达" in runs["job-b"]["error"]
    recorded = _runs(engine)
    assert [(r.job_id, r.status) for r in recorded] == [
        ("job-a", JobStatus.succeeded), ("job-b", JobStatus.partial), ("job-a", JobStatus.succeeded), ("job-b", JobStatus.failed)]
    assert recorded[1].summary == {"blocked": {"call-x": "缺少2027年法定节假日安排"}}
    assert _job(engine, "job-b").last_status == JobStatus.failed and _job(engine, "job-b").running_run_id is None


def test_a_live_run_holds_the_job_and_a_killed_one_is_taken_over(engine, clock, fake_jobs):
    embedded.sync_jobs(engine)
    real = datetime.now(timezone.utc)
    with engine.begin() as c:                          # a run of another process, still renewing its lease
        run_id = c.execute(JobRun.__table__.insert().values(
            job_id="job-a", trigger="schedule", owner="elsewhere:1", status=JobStatus.running,
            started_at=clock.now())).inserted_primary_key[0]
        c.execute(update(ScheduledJob).where(ScheduledJob.id == "job-a").values(
            running_run_id=run_id, lease_until=real + timedelta(minutes=1)))
    assert embedded.run_job("job-a", engine=engine)["status"] == "busy"
    assert fake_jobs["a"] == 0

    with engine.begin() as c:                          # that process was killed: its lease ran out
        c.execute(update(ScheduledJob).where(ScheduledJob.id == "job-a").values(lease_until=real - timedelta(seconds=1)))
    assert embedded.run_job("job-a", engine=engine)["status"] == "succeeded"
    assert fake_jobs["a"] == 1
    killed, taken_over = _runs(engine)
    assert killed.status == JobStatus.interrupted and "中断" in killed.error
    assert taken_over.status == JobStatus.succeeded and taken_over.trigger == "manual"


def test_scheduler_run_exits_by_outcome(engine, clock, fake_jobs):
    from typer.testing import CliRunner

    from srdi.cli.main import app

    runner = CliRunner()
    ok = runner.invoke(app, ["scheduler", "run", "job-a", "--json"])
    assert ok.exit_code == 0, ok.output
    assert '"status": "succeeded"' in ok.stdout
    partial = runner.invoke(app, ["scheduler", "run", "job-b"])
    assert partial.exit_code == 1 and "部分受阻" in partial.stdout
    unknown = runner.invoke(app, ["scheduler", "run", "nope"])
    assert unknown.exit_code == 2 and "job-a" in unknown.output
