"""Who runs the scheduled jobs in an operating-day test: `srdi serve` itself, or a Prefect server.

* ``Embedded``: the service's own scheduler. The test only sets the simulated clock a little before
  the moment something is due and lets it run (300× real time); the job fires on its schedule.
* ``PrefectServer``: `prefect server start`, a process worker of the ``srdi-process`` pool and
  `prefect deploy --all` from prefect.yaml; `srdi serve --no-scheduler` serves only the console.
  Prefect's scheduler runs on real time (a cron of every 15 minutes cannot be sped up), so the test
  stops the simulated clock just after the moment and starts the deployments' runs itself, as
  that scheduler would, each executed by the worker in a process of its own.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable

from .harness import REPO, Service, free_port, stop_group, wait_for

DEPLOYMENTS = {                 # scheduler job → the prefect.yaml deployment of the same flow
    "pipeline-advance": "pipeline-advance/every-15-minutes",
    "reminder-sweep": "reminder-sweep/daily",
    "send-outbox": "send-outbox/every-10-minutes",
    "funds-disbursement": "funds-disbursement-schedule/daily-disbursement",
}
SPEED = 300.0


class Embedded:
    name = "embedded"
    serve_args: tuple[str, ...] = ()

    def __init__(self, root: Path):
        self.root = root

    def environment(self) -> dict[str, str]:
        return {}

    def start(self, service: Service) -> None:
        self.service = service

    def at(self, when: datetime, what: str, check: Callable[[], Any], jobs: tuple[str, ...] = ()) -> Any:
        """Let the simulated clock run into ``when``; the service's scheduler does the rest."""
        self.service.set_clock(when - timedelta(minutes=10), speed=SPEED)
        value = wait_for(what, check)
        self.service.set_clock(self.service.now())
        return value

    def stop(self) -> None:
        pass


class PrefectServer:
    name = "prefect-server"
    serve_args = ("--no-scheduler",)

    def __init__(self, root: Path):
        self.root = root
        self.port = free_port()
        self.api = f"http://127.0.0.1:{self.port}/api"
        self.processes: list[subprocess.Popen] = []

    def environment(self) -> dict[str, str]:
        return {"PREFECT_API_URL": self.api, "PREFECT_WORKER_QUERY_SECONDS": "1",
                "PREFECT_WORKER_PREFETCH_SECONDS": "1"}

    def _prefect(self, *args: str, timeout: int = 180) -> str:
        done = subprocess.run([sys.executable, "-m", "prefect", *args], env=self.env, cwd=REPO, capture_output=True,
                              text=True, timeout=timeout)
        assert done.returncode == 0, f"prefect {' '.join(args)}:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        return done.stdout

    def _background(self, name: str, *args: str) -> None:
        log = (self.root / f"{name}.log").open("wb")
        self.processes.append(subprocess.Popen([sys.executable, "-m", "prefect", *args], env=self.env, cwd=REPO,
                                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True))

    def api_get(self, path: str, body: dict | None = None) -> Any:
        request = urllib.request.Request(f"{self.api}{path}", data=json.dumps(body or {}).encode(),
                                         headers={"Content-Type": "application/json"},
                                         method="POST" if body is not None else "GET")
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def _healthy(self) -> bool:
        try:
            return self.api_get("/health") is True
        except OSError:
            return False

    def start(self, service: Service) -> None:
        self.service, self.env = service, service.env
        self._background("prefect-server", "server", "start", "--host", "127.0.0.1", "--port", str(self.port))
        wait_for("prefect server start", self._healthy, timeout=120)
        self._prefect("work-pool", "create", "srdi-process", "--type", "process")
        self._prefect("--no-prompt", "deploy", "--all")
        self._background("prefect-worker", "worker", "start", "--pool", "srdi-process")

    def deployments(self) -> dict[str, dict]:
        return {d["name"]: d for d in self.api_get("/deployments/filter", {})}

    def at(self, when: datetime, what: str, check: Callable[[], Any], jobs: tuple[str, ...] = ()) -> Any:
        """Stop the clock just after ``when`` and run the deployments of ``jobs`` until ``check`` holds."""
        self.service.set_clock(when + timedelta(minutes=5))
        for _ in range(3):
            for job in jobs:
                self._prefect("deployment", "run", DEPLOYMENTS[job], "--watch", "--watch-timeout", "240", timeout=300)
            value = check()
            if value:
                return value
        raise AssertionError(f"after three rounds of {', '.join(jobs)}: still waiting for {what}")

    def stop(self) -> None:
        for process in reversed(self.processes):
            stop_group(process)
