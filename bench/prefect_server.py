"""A real Prefect server for bench/pipeline.py --prefect-server: ``prefect server start`` on a free port, a
process work pool with a ``prefect worker start`` polling it, and the advance flow (flows/advance.py) deployed
from this checkout without a schedule, so each advance is a ``run_deployment`` the worker runs in a fresh
process — the scaled-out mode of prefect.yaml, minus the cron.

Start the server before Prefect is imported (its settings read PREFECT_API_URL once); everything started
here is stopped by ``stop()``, by process id.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
POOL, DEPLOYMENT = "srdi-bench", "pipeline-advance/bench"


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the bench dies, even by kill -9 (Linux PR_SET_PDEATHSIG)."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrefectServer:
    def __init__(self, home: Path):
        self.home, self.port = home, _free_port()
        self.api = f"http://127.0.0.1:{self.port}/api"
        self.processes: list[subprocess.Popen] = []
        home.mkdir(parents=True, exist_ok=True)

    def env(self, **extra: str) -> dict:
        return {**os.environ, "PREFECT_HOME": str(self.home), "PREFECT_API_URL": self.api,
                "PREFECT_SERVER_ANALYTICS_ENABLED": "false", **extra}

    def _spawn(self, name: str, *args: str, env: dict) -> None:
        log = open(self.home / f"{name}.log", "ab")
        self.processes.append(subprocess.Popen([sys.executable, "-m", "prefect", *args], env=env, cwd=ROOT, stdout=log,
                                               stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=_die_with_parent))

    def start(self) -> str:
        """Launch the server (not waiting for it); sets PREFECT_API_URL for this process."""
        env = self.env()
        env.pop("PREFECT_API_URL")
        self._spawn("server", "server", "start", "--host", "127.0.0.1", "--port", str(self.port), env=env)
        os.environ["PREFECT_API_URL"] = self.api
        return self.api

    def wait_healthy(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.processes[0].poll() is not None:
                raise RuntimeError(f"prefect server start 退出（{self.processes[0].returncode}），见 {self.home / 'server.log'}")
            try:
                with urllib.request.urlopen(f"{self.api}/health", timeout=5) as response:
                    if response.read().strip() == b"true":
                        return
            except OSError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"prefect server 在 {timeout:.0f} 秒内未就绪，见 {self.home / 'server.log'}")

    def deploy_and_start_worker(self) -> str:
        """The process pool, the advance deployment (no schedule) and a worker polling every second."""
        from prefect import Flow

        done = subprocess.run([sys.executable, "-m", "prefect", "work-pool", "create", POOL, "--type", "process"],
                              env=self.env(), cwd=ROOT, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"prefect work-pool create 失败：{done.stdout[-1000:]}{done.stderr[-1000:]}")
        flow = Flow.from_source(source=str(ROOT), entrypoint="flows/advance.py:advance_flow")
        flow.deploy(name=DEPLOYMENT.split("/")[1], work_pool_name=POOL, build=False, push=False, print_next_steps=False,
                    ignore_warnings=True)
        self._spawn("worker", "worker", "start", "--pool", POOL, "--type", "process",
                    env=self.env(PREFECT_WORKER_QUERY_SECONDS="1", PYTHONPATH=str(ROOT)))
        return DEPLOYMENT

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
        self.processes.clear()


def advance_through(deployment: str):
    """An ``advance_flow(now)`` stand-in: one run of the deployment, waited for; a run that fails fails the bench."""
    from prefect.deployments import run_deployment

    def advance(now: str) -> None:
        run = run_deployment(deployment, parameters={"now": now}, job_variables={"env": {"SRDI_NOW": now}},
                             timeout=None, poll_interval=0.2, as_subflow=False)
        if not run.state or not run.state.is_completed():
            raise RuntimeError(f"{deployment} 运行 {run.id} 未完成：{run.state}")

    return advance
