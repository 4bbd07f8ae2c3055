"""The service's commands on a fresh database, as an operator types them, and a killed advance."""

from __future__ import annotations

import json
import signal
import subprocess
import time

import pytest
from sqlalchemy import create_engine, select

from models.operations import JobRun, JobStatus

from .harness import REPO, SRDI, Service, _group, wait_for

pytestmark = pytest.mark.slow


@pytest.fixture
def service(tmp_path):
    quiet = Service(tmp_path)
    yield quiet
    quiet.sink.stop()


def test_scheduler_run_and_status_on_a_fresh_database(service):
    ran = service.srdi("scheduler", "run", "pipeline-advance", "--json")
    run = json.loads(ran.stdout)
    assert run["status"] == "succeeded" and run["job"] == "pipeline-advance"
    assert "Traceback" not in ran.stdout + ran.stderr
    status = json.loads(service.srdi("status", "--json").stdout)
    assert status["blocked"] == [] and status["calls"] == []
    assert {job["id"] for job in status["jobs"]} == {"pipeline-advance", "reminder-sweep", "send-outbox", "funds-disbursement"}


def test_an_advance_killed_mid_way_is_taken_over_and_leaves_no_process(service):
    engine = create_engine(service.env["SRDI_DATABASE_URL"])
    service.srdi("status")                                       # the schema, before the race below
    killed = subprocess.Popen([str(SRDI), "pipeline", "advance"], env=service.env, cwd=REPO,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

    def running():
        with engine.connect() as c:
            return c.execute(select(JobRun.id).where(JobRun.status == JobStatus.running)).scalar()

    run_id = wait_for("the advance to start", running, timeout=60, every=0.05)
    time.sleep(1.0)                                              # inside the flow: the temporary server is up
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    deadline = time.monotonic() + 10
    while _group(killed.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _group(killed.pid) == [], "the killed advance left processes behind (Prefect's temporary server?)"

    again = json.loads(service.srdi("scheduler", "run", "pipeline-advance", "--json").stdout)
    assert again["status"] == "succeeded"                        # no waiting for the lease: its owner is gone
    with engine.connect() as c:
        first = c.execute(select(JobRun).where(JobRun.id == run_id)).first()
    assert first.status == JobStatus.interrupted and "中断" in first.error
