"""The embedded scheduler: working-day sweep times, jobs kept across restarts, none duplicated."""

from __future__ import annotations

import time as wall
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, text

from models.notice import Notice, NoticeStatus
from srdi import scheduler as embedded
from srdi.clock import SHANGHAI
from srdi.scheduler import WorkdayTrigger


def test_the_sweep_fires_on_the_make_up_saturday_and_not_during_national_day():
    trigger = WorkdayTrigger(("09:00",))
    at = lambda *a: datetime(*a, tzinfo=SHANGHAI)  # noqa: E731
    assert trigger.get_next_fire_time(None, at(2025, 9, 30, 10, 0)) == at(2025, 10, 9, 9, 0)
    assert trigger.get_next_fire_time(at(2025, 10, 10, 9, 0), at(2025, 10, 10, 9, 0, 1)) == at(2025, 10, 11, 9, 0)
    assert trigger.get_next_fire_time(at(2025, 10, 11, 9, 0), at(2025, 10, 11, 9, 0, 1)) == at(2025, 10, 13, 9, 0)
    assert trigger.get_next_fire_time(None, at(2025, 9, 27, 8, 0)) == at(2025, 9, 28, 9, 0)   # Sunday, 调休


@pytest.fixture
def notice_rows(engine, call_maker, monkeypatch):
    monkeypatch.setenv("SRDI_SCHEDULER_MODE", "direct")
    now = datetime.now(timezone.utc)
    call_maker("c", "p")

    def add(notice_id: int, closes_at: datetime) -> None:
        with engine.begin() as c:
            c.execute(Notice.__table__.insert(), [{
                "id": notice_id, "call_id": "c", "programme_id": "p", "level": "provincial", "jurisdiction_code": "130000",
                "round": notice_id, "title": f"第{notice_id}批公示", "opens_at": now - timedelta(days=5), "closes_at": closes_at,
                "length": 5, "unit": "working_days", "opening_day_counts": False, "status": NoticeStatus.open,
                "opened_by": "system", "closed_at": None, "cite": None, "created_at": now}])
    return add


def _stored_rows(engine) -> int:
    with engine.connect() as c:
        return c.execute(select(func.count()).select_from(text(embedded.JOB_TABLE))).scalar()


def test_restarting_keeps_every_job_and_adds_none(engine, notice_rows):
    closes = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=10)
    notice_rows(1, closes)
    first = embedded.start(engine, paused=True)
    before = embedded.job_table(first)
    embedded.stop(first)

    for _ in range(2):                              # restart twice
        again = embedded.start(engine, paused=True)
        after = embedded.job_table(again)
        embedded.stop(again)
        assert after == before

    ids = [job["id"] for job in before]
    assert len(ids) == len(set(ids)) == _stored_rows(engine)
    assert {"reminder-sweep", "send-outbox", "scheduler-sync", "notice-close:1"} <= set(ids)
    notice_job = next(job for job in before if job["id"] == "notice-close:1")
    assert datetime.fromisoformat(notice_job["next_run_time"]) == closes
    sweep_at = datetime.fromisoformat(next(job for job in before if job["id"] == "reminder-sweep")["next_run_time"])
    assert sweep_at.strftime("%H:%M") == "09:00"


def test_a_notice_that_closed_while_the_scheduler_was_down_is_closed_at_restart(engine, notice_rows):
    notice_rows(2, datetime.now(timezone.utc) + timedelta(seconds=1.5))
    embedded.stop(embedded.start(engine))          # up, then down before the notice closes
    wall.sleep(2.0)
    with engine.connect() as c:
        assert c.execute(select(Notice.status).where(Notice.id == 2)).scalar() == NoticeStatus.open

    running = embedded.start(engine)               # restart: the missed close runs at once
    try:
        deadline = wall.monotonic() + 15
        status = None
        while wall.monotonic() < deadline:
            with engine.connect() as c:
                status = c.execute(select(Notice.status).where(Notice.id == 2)).scalar()
            if status == NoticeStatus.closed:
                break
            wall.sleep(0.1)
        assert status == NoticeStatus.closed
        embedded.sync_jobs(running, engine)
        assert "notice-close:2" not in {job.id for job in running.get_jobs()}
    finally:
        embedded.stop(running)
