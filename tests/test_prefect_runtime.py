"""Prefect's temporary server never outlives the srdi process that started it.

A process that ran a flow is killed (kill -9, or SIGTERM, which skips Prefect's atexit handler);
its temporary API server (~200 MB) must be gone within seconds instead of running on for good.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]

RUN_A_FLOW = """
import sys, threading, time
from srdi import prefect_runtime
prefect_runtime.install()
from prefect import flow

@flow
def trivial():
    return 1

if sys.argv[1] == "worker-thread":          # the flow (and the server) started from a thread that then ends
    worker = threading.Thread(target=trivial)
    worker.start()
    worker.join()
else:
    trivial()
print(prefect_runtime.temporary_server_pid(), flush=True)
time.sleep(600)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:                                     # a zombie waiting for a parent is gone for our purposes
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.1)
    return False


@pytest.fixture(scope="module")
def prefect_home(tmp_path_factory) -> Path:
    """One Prefect home for these tests: the first server start migrates its database, the others reuse it."""
    return tmp_path_factory.mktemp("prefect-home")


def _srdi_with_a_flow(prefect_home: Path, mode: str = "main-thread") -> tuple[subprocess.Popen, int]:
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.update(PREFECT_HOME=str(prefect_home), PYTHONPATH=str(ROOT), PREFECT_LOGGING_LEVEL="WARNING",
               PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="120")
    errors = (prefect_home / f"stderr-{mode}-{time.monotonic_ns()}.txt").open("w")
    srdi = subprocess.Popen([sys.executable, "-c", RUN_A_FLOW, mode], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=errors, text=True)
    line = srdi.stdout.readline().strip()
    if not line.isdigit():
        srdi.kill()
        srdi.wait()
        pytest.fail(f"the flow process did not report a server pid (got {line!r}):\n{Path(errors.name).read_text()[-3000:]}")
    server = int(line)
    assert _alive(server) and server != srdi.pid
    return srdi, server


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["kill-9", "sigterm"])
def test_the_temporary_server_dies_with_its_srdi_process(prefect_home, sig):
    srdi, server = _srdi_with_a_flow(prefect_home)
    try:
        srdi.send_signal(sig)
        srdi.wait(timeout=10)
        assert _gone_within(server, 5), f"temporary server {server} outlived its srdi process ({sig.name})"
    finally:
        srdi.kill()
        if _alive(server):
            os.kill(server, signal.SIGKILL)


def test_a_server_started_from_a_finished_thread_lives_on_until_its_process_dies(prefect_home):
    srdi, server = _srdi_with_a_flow(prefect_home, "worker-thread")
    try:
        time.sleep(2)                          # PR_SET_PDEATHSIG bound to that thread would have fired by now
        assert _alive(server), "the temporary server died with the thread that started it, not with its process"
        srdi.send_signal(signal.SIGKILL)
        srdi.wait(timeout=10)
        assert _gone_within(server, 5)
    finally:
        srdi.kill()
        if _alive(server):
            os.kill(server, signal.SIGKILL)


INSTALL_TWICE = """
import json, os, sys
from srdi import prefect_runtime
prefect_runtime.install()
prefect_runtime.install()
hooks = sum(isinstance(f, prefect_runtime._PatchWhenImported) for f in sys.meta_path)
prefect_loaded = any(m.startswith("prefect") for m in sys.modules)
import prefect.server.api.server as server_module
print(json.dumps({"hooks": hooks, "prefect_loaded": prefect_loaded, "patched": type(server_module.subprocess).__name__,
                  "env": {k: os.environ.get(k) for k in prefect_runtime.ENV_DEFAULTS}}))
"""


def test_install_is_cheap_idempotent_and_keeps_what_the_environment_says():
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_SERVER_")}
    env.update(PYTHONPATH=str(ROOT), PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_BATCH_SIZE="7")
    done = subprocess.run([sys.executable, "-c", INSTALL_TWICE], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["hooks"] == 1 and found["prefect_loaded"] is False           # Prefect is patched when it loads, not before
    assert found["patched"] == "_SubprocessWithLifeline"
    assert found["env"]["PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_BATCH_SIZE"] == "7"
    assert found["env"]["PREFECT_SERVER_SERVICES_EVENT_PERSISTER_BATCH_SIZE"] == "500"
    assert found["env"]["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false"
    assert found["env"]["PREFECT_SERVER_SERVICES_EVENT_PERSISTER_ENABLED"] == "false"


def test_the_lifeline_wraps_only_the_uvicorn_server_command():
    from srdi.prefect_runtime import LIFELINE, with_lifeline

    command = [sys.executable, "-m", "uvicorn", "--factory", "prefect.server.api.server:create_app", "--port", "8123"]
    wrapped = with_lifeline(command)
    assert wrapped[:6] == [sys.executable, "-c", LIFELINE, str(os.getpid()), "thread", "uvicorn"]
    assert wrapped[6:] == command[3:]
    assert with_lifeline(["git", "status"]) == ["git", "status"]


WRITE_LOCK_PROBE = """
import asyncio, inspect, json
import prefect.server.api.flow_runs as api
import prefect.server.models.flow_runs as flow_runs
from prefect.server.database.configurations import SQLITE_BEGIN_MODE
from srdi.prefect_runtime import WRITE_LOCK_FIRST

calls_through_module = "models.flow_runs.create_flow_run(" in inspect.getsource(api.create_flow_run)
modes = []

async def create_flow_run(*args, **kwargs):      # stands in for Prefect's, to see the mode its BEGIN would use
    modes.append(SQLITE_BEGIN_MODE.get())
    return "created"

flow_runs.create_flow_run = create_flow_run
exec(WRITE_LOCK_FIRST)
exec(WRITE_LOCK_FIRST)                             # a second time changes nothing
mode = SQLITE_BEGIN_MODE.set("DEFERRED")           # what the endpoint's begin_transaction sets
result = asyncio.run(flow_runs.create_flow_run(session=None, flow_run=None))
print(json.dumps({"calls_through_module": calls_through_module, "result": result, "modes": modes,
                  "after": SQLITE_BEGIN_MODE.get()}))
"""


def test_the_temporary_server_creates_a_flow_run_holding_the_write_lock_from_its_begin():
    """The ≈2 s stall of issue 13: a DEFERRED flow-run creation lost the race to the server's own writers (503)."""
    from srdi.prefect_runtime import LIFELINE, WRITE_LOCK_FIRST

    assert WRITE_LOCK_FIRST in LIFELINE
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", WRITE_LOCK_PROBE], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["calls_through_module"] is True          # the API looks the function up when called: the patch is seen
    assert found == {"calls_through_module": True, "result": "created", "modes": ["IMMEDIATE"], "after": "DEFERRED"}
