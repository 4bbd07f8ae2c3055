"""prefect.yaml against a real `prefect server start` on 127.0.0.1 (slow: ~30–60 s; runs in `make test`).

Registers every deployment with `prefect deploy --all`, sees the server's scheduler create the
reminder sweep's runs at 09:00 Asia/Shanghai, then runs the sweep deployment through a process
worker of the `srdi-process` pool and finds the reminders in the SMTP sink.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from datetime import datetime

import pytest

from models.clock import SHANGHAI
from models.settings import REPO_ROOT
from notifications.smtp_sink import free_port, read_messages
from tasks.reminders.deadlines import register_deadlines
from tests.operating_day.harness import stop_group

pytestmark = pytest.mark.slow


def _api(base: str, path: str, body: dict | None = None):
    request = urllib.request.Request(f"{base}{path}", data=json.dumps(body or {}).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST" if body is not None else "GET")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


@pytest.fixture
def prefect_server(tmp_path):
    port = free_port()
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect-home"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "PREFECT_API_URL": f"http://127.0.0.1:{port}/api"}
    log = open(tmp_path / "prefect-server.log", "wb")
    server = subprocess.Popen([sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                              env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if _api(env["PREFECT_API_URL"], "/health") is True:
                    break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail("prefect server did not start:\n" + (tmp_path / "prefect-server.log").read_text()[-3000:])
            time.sleep(0.5)
        yield env
    finally:
        stop_group(server)
        log.close()


def _prefect(env: dict, *args: str, timeout: int = 120) -> str:
    done = subprocess.run([sys.executable, "-m", "prefect", *args], env=env, cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=timeout)
    assert done.returncode == 0, f"prefect {' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return done.stdout


def _wait_for(probe, seconds: float):
    deadline = time.monotonic() + seconds
    while True:
        value = probe()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(1)


def test_prefect_yaml_deploys_and_the_sweep_deployment_sends_the_reminders(prefect_server, people, sink):
    with people.begin() as c:
        register_deadlines(c, [{"key": "level:HB-2025:county:130102", "kind": "level_decision", "title": "长安区县级审核推荐",
                                "due_at": datetime(2025, 10, 14, 17, 30, tzinfo=SHANGHAI), "jurisdiction_code": "130102",
                                "call_id": "HB-2025"}])
    env = {**prefect_server, **{k: v for k, v in os.environ.items() if k.startswith("SRDI_")}, "SRDI_NOW": "2025-09-30T09:00"}
    api = env["PREFECT_API_URL"]

    _prefect(env, "work-pool", "create", "srdi-process", "--type", "process")
    _prefect(env, "--no-prompt", "deploy", "--all")
    deployments = {d["name"]: d for d in _api(api, "/deployments/filter", {})}
    assert set(deployments) == {"daily", "every-10-minutes", "every-15-minutes", "daily-disbursement"}
    daily = deployments["daily"]
    (schedule,) = daily["schedules"]
    assert (schedule["schedule"]["cron"], schedule["schedule"]["timezone"]) == ("0 9 * * *", "Asia/Shanghai")
    assert daily["work_pool_name"] == "srdi-process"

    # The server's scheduler creates the sweep's upcoming runs: 09:00 Beijing = 01:00 UTC.
    scheduled = _wait_for(lambda: _api(api, "/flow_runs/filter", {"deployments": {"id": {"any_": [daily["id"]]}}}), 60)
    assert scheduled, "no flow run was created from the deployment"
    assert all(run["expected_start_time"].endswith("T01:00:00Z") for run in scheduled)

    _prefect(env, "deployment", "run", "reminder-sweep/daily")
    _prefect(env, "worker", "start", "--pool", "srdi-process", "--run-once", timeout=180)
    runs = _api(api, "/flow_runs/filter", {"deployments": {"id": {"any_": [daily["id"]]}},
                                           "flow_runs": {"state": {"type": {"any_": ["COMPLETED"]}}}})
    assert len(runs) == 1

    received = read_messages(sink.directory)
    assert sorted(m["To"].addresses[0].addr_spec for m in received) == ["changan@gxj.example.cn", "li@gxj.example.cn"]
    assert {str(m["Subject"]) for m in received} == {
        "【截止提醒】长安区县级审核推荐：2025年10月14日（星期二）17:30截止（北京时间），还剩5个工作日"}
