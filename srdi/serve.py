"""``srdi serve``: the embedded default in one process — scheduler, then the web console.

The scheduler starts first (its jobs come back from the srdi database); then, if the console
application can be imported (``SRDI_CONSOLE_APP``, default ``srdi.web.app:create_app``), uvicorn
serves it until stopped; without a console the process just keeps the scheduler running.
"""

from __future__ import annotations

import importlib
import logging
import signal
import threading
from typing import Any

from srdi import scheduler as embedded
from srdi.config import setting

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


def serve(host: str = "127.0.0.1", port: int = 8000, console: bool = True) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    scheduler = embedded.start()
    for job in embedded.job_table(scheduler):
        print(f"定时任务 {job['id']:<24} 下次执行 {job['next_run_time']}", flush=True)
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
        embedded.stop(scheduler, wait=False)
