"""Prefect inside an srdi process: its temporary server lives and dies with srdi.

Without ``PREFECT_API_URL`` Prefect runs flows against a temporary API server, a uvicorn
subprocess started on the first flow run (``SubprocessASGIServer`` in
prefect/server/api/server.py) and stopped by an ``atexit`` handler. SIGTERM and kill -9 skip
``atexit``, so the server (~200 MB) would outlive srdi. ``install()`` gives every temporary
server a lifeline to the srdi process that started it: on Linux ``PR_SET_PDEATHSIG`` (SIGTERM as
soon as the spawning thread is gone) when started from the main thread, and everywhere a watchdog
in the server that stops it once its parent process has changed (≤ 0.5 s).

``start_temporary_server()`` starts that server at once from the calling thread (call it from the
main thread of a long-running process such as ``srdi serve``): later flow runs, from any thread,
reuse the same server. ``stop_temporary_server()`` lets the server record what the flows sent it
before stopping it, so a process exits without Prefect's "Error flushing … CancelledError"
tracebacks and without losing task-run history (stack-notes §2).

``install()`` also sets defaults a user can override in the environment: no telemetry (the
machines are offline), the larger task-run-recorder batches of stack-notes §2, and no event
persister. It imports no Prefect itself: the server module is patched when Prefect first imports it.

The ≈2 s stall of an advance (issue 13): Prefect's server creates a flow run in a DEFERRED SQLite
transaction that reads (the flow's labels) before it inserts. When one of the server's own
services writes in between — nearly always the event persister, whose flush is a burst of
autocommitted INSERTs —, SQLite cannot upgrade the read to a write (SQLITE_BUSY, or
SQLITE_BUSY_SNAPSHOT once the other write committed) and fails at once, without waiting out
its busy timeout; the API answers 503 and the client backs off 2 s (``2**1`` ± jitter) before
it asks again. So the temporary server starts that transaction with ``BEGIN IMMEDIATE``
(``WRITE_LOCK_FIRST``: it waits its turn for the write lock instead, as Prefect's own
state-setting endpoints do), and the event persister is off: srdi reads no Prefect events, and
events were most of what the server wrote (≈21 KB per task run). Flow runs, task runs (the
task-run recorder reads the event stream, not the event table), their states and logs are
recorded as before. bench/prefect_overhead.py measures both.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import logging
import os
import subprocess
import sys
import threading
import time
from typing import Optional

log = logging.getLogger("srdi.prefect")

SERVER_MODULE = "prefect.server.api.server"

ENV_DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",         # default 20: a fresh PREFECT_HOME migrates first
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_BATCH_SIZE": "200",       # default 1
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_READ_BATCH_SIZE": "50",   # default 1
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_FLUSH_INTERVAL": "1",     # default 5 s; a partial batch waits this long
    "PREFECT_SERVER_SERVICES_EVENT_PERSISTER_BATCH_SIZE": "500",         # default 20 (when it is enabled)
    "PREFECT_SERVER_SERVICES_EVENT_PERSISTER_READ_BATCH_SIZE": "50",     # default 1
    "PREFECT_SERVER_SERVICES_EVENT_PERSISTER_ENABLED": "false",          # its bursts of writes made flow-run creation fail (503)
}

# Runs in the server process before uvicorn: argv = parent-pid, "thread"|"process", module, its args.
WATCHDOG = r"""
import os, runpy, signal, sys, threading, time
parent, bound_to_thread = int(sys.argv[1]), sys.argv[2] == "thread"
if bound_to_thread and sys.platform.startswith("linux"):
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)   # PR_SET_PDEATHSIG
    except Exception:
        pass
if os.getppid() != parent:            # srdi died before the lifeline was in place
    sys.exit(0)
def watch():
    while os.getppid() == parent:
        time.sleep(0.5)
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(15)                    # uvicorn's graceful stop did not finish
    os._exit(1)
threading.Thread(target=watch, name="srdi-lifeline", daemon=True).start()
"""

# Flow-run creation takes SQLite's write lock at BEGIN (see the module docstring): the transaction
# begins at the first statement, which for a run without a work pool (every run on the temporary
# server) is inside ``models.flow_runs.create_flow_run``. Nothing else changes; a Prefect without
# these names starts unpatched.
WRITE_LOCK_FIRST = r"""
def _write_lock_first():
    import functools
    try:
        from prefect.server.database.configurations import SQLITE_BEGIN_MODE
        from prefect.server.models import flow_runs
    except ImportError:
        return
    create = getattr(flow_runs, "create_flow_run", None)
    if create is None or getattr(create, "srdi_write_lock_first", False):
        return

    @functools.wraps(create)
    async def create_flow_run(*args, **kwargs):
        token = SQLITE_BEGIN_MODE.set("IMMEDIATE")
        try:
            return await create(*args, **kwargs)
        finally:
            SQLITE_BEGIN_MODE.reset(token)

    create_flow_run.srdi_write_lock_first = True
    flow_runs.create_flow_run = create_flow_run
_write_lock_first()
"""

RUN_UVICORN = r"""
sys.argv = sys.argv[3:]
runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
"""

LIFELINE = WATCHDOG + WRITE_LOCK_FIRST + RUN_UVICORN

_install_lock = threading.Lock()
_installed = False


def with_lifeline(args):
    """``[python, -m, uvicorn, …]`` → the same server, started through the lifeline."""
    args = list(args) if isinstance(args, (list, tuple)) else args
    if not isinstance(args, list) or args[1:3] != ["-m", "uvicorn"]:
        return args
    binding = "thread" if threading.current_thread() is threading.main_thread() else "process"
    return [args[0], "-c", LIFELINE, str(os.getpid()), binding, "uvicorn", *args[3:]]


class _SubprocessWithLifeline:
    """Stands in for ``subprocess`` inside Prefect's server module: the only process that module
    starts is the temporary server, and it starts it through the lifeline."""

    def __getattr__(self, name):
        return getattr(subprocess, name)

    @staticmethod
    def Popen(args, *rest, **kwargs):  # noqa: N802 — the name Prefect calls
        return subprocess.Popen(with_lifeline(args), *rest, **kwargs)


def _patch(module) -> None:
    if not isinstance(module.subprocess, _SubprocessWithLifeline):
        module.subprocess = _SubprocessWithLifeline()


class _PatchingLoader(importlib.abc.Loader):
    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        self.loader.exec_module(module)
        _patch(module)

    def __getattr__(self, name):
        return getattr(self.loader, name)


class _PatchWhenImported(importlib.abc.MetaPathFinder):
    """Patches Prefect's server module when it is first imported (importing it costs ~2 s)."""

    def __init__(self):
        self._finding = threading.local()

    def find_spec(self, fullname, path, target=None):
        if fullname != SERVER_MODULE or getattr(self._finding, "active", False):
            return None
        self._finding.active = True
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            self._finding.active = False
        if spec is not None and spec.loader is not None:
            spec.loader = _PatchingLoader(spec.loader)
        return spec


def install() -> None:
    """Environment defaults and the lifeline for every temporary server; safe to call again."""
    global _installed
    for name, value in ENV_DEFAULTS.items():
        os.environ.setdefault(name, value)
    with _install_lock:
        if _installed:
            return
        if SERVER_MODULE in sys.modules:
            _patch(sys.modules[SERVER_MODULE])
        else:
            sys.meta_path.insert(0, _PatchWhenImported())
        _installed = True


def _uses_temporary_server() -> bool:
    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_EPHEMERAL_ENABLED

    return not PREFECT_API_URL.value() and bool(PREFECT_SERVER_EPHEMERAL_ENABLED.value())


def start_temporary_server(timeout: Optional[int] = None) -> Optional[str]:
    """Start Prefect's temporary server now, from this thread; its API URL, or None with PREFECT_API_URL set.

    Prefect keeps one temporary server per process (``SubprocessASGIServer()``, port None) and
    every client without ``PREFECT_API_URL`` uses it, so flows run later from worker threads
    reuse this one instead of starting their own from a thread that may end before the process."""
    install()
    if not _uses_temporary_server():
        return None
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()
    server.start(timeout=timeout)
    return server.api_url


def temporary_server_pid() -> Optional[int]:
    """The pid of this process's running temporary server, if any."""
    server_module = sys.modules.get(SERVER_MODULE)
    server = server_module and server_module.SubprocessASGIServer._instances.get(None)
    process = server and server.server_process
    return process.pid if process and process.poll() is None else None


def _recorder_counts(client, api_url: str) -> tuple[int, int]:
    """(task runs, task runs not yet in a final state) as the server has recorded them."""
    unfinished = {"task_runs": {"state": {"type": {"any_": ["SCHEDULED", "PENDING", "RUNNING", "PAUSED", "CANCELLING"]}}}}
    total = client.post(f"{api_url}/task_runs/count", json={})
    open_ = client.post(f"{api_url}/task_runs/count", json=unfinished)
    total.raise_for_status()
    open_.raise_for_status()
    return total.json(), open_.json()


def wait_until_recorded(api_url: str, timeout: float = 120.0) -> bool:
    """Wait until the server has recorded every task run it was sent; False after ``timeout``.

    The task-run recorder works from an in-memory queue that nothing reports on, so "done" is: no
    task run left unfinished and no new one for longer than the recorder's flush interval."""
    import httpx
    from prefect.settings import get_current_settings

    quiet_for = get_current_settings().server.services.task_run_recorder.flush_interval + 0.5
    deadline = time.monotonic() + timeout
    last, steady_since = None, time.monotonic()
    with httpx.Client(timeout=10) as client:
        while time.monotonic() < deadline:
            try:
                counts = _recorder_counts(client, api_url)
            except httpx.HTTPError:                # 503 while the recorder holds SQLite: ask again
                counts = None
            now = time.monotonic()
            if counts != last:
                last, steady_since = counts, now
            elif counts is not None and counts[1] == 0 and now - steady_since >= quiet_for:
                return True
            time.sleep(0.25)
    return False


def stop_temporary_server(timeout: float = 120.0) -> None:
    """Send what the client still holds, let the server record it, then stop the server.

    Without this the server is stopped at interpreter exit while its task-run recorder is still
    working through a backlog: the backlog is lost and each batch in flight is logged as an
    "Error flushing … CancelledError" traceback (stack-notes §2, "Lost task-run history")."""
    server_module = sys.modules.get(SERVER_MODULE)
    server = server_module and server_module.SubprocessASGIServer._instances.get(None)
    if not server or not server.server_process or server.server_process.poll() is not None:
        return
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all(timeout=timeout)
    EventsWorker.drain_all(timeout=timeout)
    if not wait_until_recorded(server.api_url, timeout):
        log.warning("Prefect 临时服务器在 %.0f 秒内未记录完全部任务运行，仍将停止", timeout)
    server.stop()
