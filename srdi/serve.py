"""``srdi serve``: the embedded default in one process — schema, Prefect, scheduler, console.

1. the database is brought up to date (SQLite) or checked (PostgreSQL: `srdi db upgrade` first);
2. Prefect's temporary server is started from the main thread (unless PREFECT_API_URL names a
   server) and dies with this process, whatever ends it;
3. the scheduler's heartbeat starts (srdi/scheduler.py): due jobs run on the srdi clock — unless
   ``--no-scheduler``, when a Prefect server runs the same flows from prefect.yaml;
4. uvicorn serves the console (``SRDI_CONSOLE_APP``, default ``srdi.web.app:create_app``) until
   SIGINT/SIGTERM; without a console the process just keeps the scheduler running.
"""

from __future__ import annotations

import importlib
import logging
import signal
import threading
from typing import Any

from models.clock import clock, local
from models.settings import setting
from srdi import scheduler as embedded

log = logging.getLogger("srdi.serve")
DEFAULT_CONSOLE = "srdi.web.app:create_app"


def console_app() -> Any | None:
    """The console ASGI app, or None when it is not installed."""
    target = setting("SRDI_CONSOLE_APP", DEFAULT_CONSOLE) or ""
    module_name, _, attribute = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            return None
        raise
    factory = getattr(module, attribute or "app")
    return factory() if attribute.startswith("create") else factory


def _wait_for_signal() -> None:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()


def _announce_clock() -> None:
    simulation = clock.simulated
    if simulation is not None:
        print(f"模拟时钟：当前 {local(clock.now()):%Y-%m-%d %H:%M}（北京时间），倍速 {simulation.speed:g}"
              "（仅用于测试与演示；由 SRDI_CLOCK_FILE 启用）", flush=True)


def _log_to_stderr() -> None:
    """srdi's own log lines (job runs, blocked steps) on stderr, whatever Prefect did to logging."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    srdi_log = logging.getLogger("srdi")
    srdi_log.handlers[:] = [handler]
    srdi_log.setLevel(logging.INFO)
    srdi_log.propagate = False
    logging.getLogger("httpx").setLevel(logging.WARNING)


def serve(host: str = "127.0.0.1", port: int = 8000, console: bool = True, scheduler: bool = True) -> None:
    from srdi.database import ensure_schema
    from srdi.prefect_runtime import start_temporary_server, stop_temporary_server

    _log_to_stderr()
    ensure_schema()
    _announce_clock()
    heartbeat = None
    if scheduler:
        start_temporary_server()
        for job in embedded.sync_jobs():
            print(f"定时任务 {job['id']:<20} 下次执行 {job['next_run_time']}", flush=True)
        heartbeat = embedded.start()
    else:
        print("内置调度器未启动（--no-scheduler）：定时任务由 Prefect 服务器按 prefect.yaml 调度", flush=True)
    try:
        app = console_app() if console else None
        if app is None:
            print("调度器运行中（无管理控制台）；Ctrl-C 结束", flush=True)
            _wait_for_signal()
        else:
            import uvicorn

            print(f"管理控制台：http://{host}:{port}/", flush=True)
            uvicorn.run(app, host=host, port=port, log_level="info")
    finally:
        if heartbeat is not None:
            embedded.stop(heartbeat, wait=False)
            stop_temporary_server(timeout=10)
