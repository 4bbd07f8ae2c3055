"""The product as it runs: `srdi serve` as a subprocess, a real SMTP server, a clock we steer, HTTP.

``Service`` starts the real console script on a fresh database with a simulated clock (a file the
service and the test both read: ``srdi clock set`` writes it), an aiosmtpd server on 127.0.0.1 and
its own PREFECT_HOME. ``Browser`` logs in and acts through the console's forms like a clerk. Nothing
here calls a flow or a step directly: the service's scheduler must do everything by itself.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Callable, Optional

import httpx

from models.clock import Simulation, SimulationFile
from notifications.smtp_sink import read_messages, start_sink

REPO = Path(__file__).resolve().parents[2]
SRDI = Path(sys.executable).with_name("srdi")
PASSWORD = "Op-day-2026!"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what: str, check: Callable[[], Any], timeout: float = 90, every: float = 0.3) -> Any:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` after ``timeout`` real seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for: {what}")
        time.sleep(every)


class Service:
    """`srdi serve` on a fresh SQLite database, its mailbox and its clock."""

    def __init__(self, root: Path, extra_env: Optional[dict[str, str]] = None, serve_args: tuple[str, ...] = ()):
        self.root = root
        self.serve_args = serve_args
        self.port = free_port()
        self.mail_dir = root / "mail"
        self.mail_dir.mkdir(parents=True, exist_ok=True)
        self.sink = start_sink(self.mail_dir, port=free_port())
        self.clock_file = SimulationFile(root / "clock.json")
        self.db_path = root / "srdi.db"
        self.log_path = root / "serve.log"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SRDI_", "PREFECT_"))},
            "SRDI_DATABASE_URL": f"sqlite:///{self.db_path}",
            "SRDI_HOME": str(root / "home"),
            "SRDI_CLOCK_FILE": str(self.clock_file.path),
            "SRDI_TICK_SECONDS": "0.5",
            "SRDI_SMTP_HOST": "127.0.0.1",
            "SRDI_SMTP_PORT": str(self.sink.port),
            "SRDI_MAIL_FROM": "srdi@gxt.hebei.example.cn",
            "PREFECT_HOME": str(root / "prefect"),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PYTHONUNBUFFERED": "1",
            **(extra_env or {}),
        }
        self.process: Optional[subprocess.Popen] = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def set_clock(self, when: datetime, speed: float = 0.0) -> None:
        """The admin action `srdi clock set`: the simulated time now, and how fast it runs."""
        self.clock_file.write(Simulation(when, time.time(), speed))

    def now(self) -> datetime:
        return self.clock_file.read().now()

    def srdi(self, *args: str, stdin: Optional[str] = None, check: bool = True) -> subprocess.CompletedProcess:
        """Run the real `srdi` command against the same database and clock as the service."""
        done = subprocess.run([str(SRDI), *args], env=self.env, cwd=REPO, input=stdin, capture_output=True,
                              text=True, timeout=180)
        if check and done.returncode != 0:
            raise AssertionError(f"srdi {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
        return done

    def start(self) -> None:
        log = self.log_path.open("w", encoding="utf-8")
        self.process = subprocess.Popen([str(SRDI), "serve", "--port", str(self.port), *self.serve_args], env=self.env, cwd=REPO,
                                        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_for("srdi serve to answer /login", self._answers, timeout=120)

    def _answers(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"srdi serve exited {self.process.returncode}:\n{self.log()}")
        try:
            return httpx.get(f"{self.url}/login", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    def mails(self) -> list[EmailMessage]:
        return read_messages(self.mail_dir) if self.mail_dir.exists() else []

    def stop(self) -> list[int]:
        """SIGTERM to `srdi serve` alone, as a service manager would; returns the pids of its process
        group still alive 15 s later (the Prefect temporary server must not be among them)."""
        self.sink.stop()
        if self.process is None:
            return []
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        deadline = time.monotonic() + 15
        while (left := _group(self.process.pid)) and time.monotonic() < deadline:
            time.sleep(0.2)
        for pid in left:
            os.kill(pid, signal.SIGKILL)
        return left


def stop_group(process: subprocess.Popen, timeout: float = 20) -> None:
    """SIGTERM to a process started with start_new_session, and all of its group; SIGKILL after ``timeout``."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _group(pgid: int) -> list[int]:
    """Live processes of a process group (from /proc; zombies do not count)."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            alive.append(int(stat.parent.name))
    return alive


class Browser:
    """A clerk at the console: logs in with the form, reads pages, posts decisions with the CSRF token."""

    def __init__(self, service: Service, username: str):
        self.client = httpx.Client(base_url=service.url, timeout=30, follow_redirects=False)
        page = self.client.get("/login").text
        answer = self.client.post("/login", data={"username": username, "password": PASSWORD,
                                                  "csrf_token": _csrf(page), "next": "/"})
        assert answer.status_code == 303, f"log-in of {username} failed: {answer.status_code} {answer.text[:300]}"

    def page(self, path: str) -> str:
        answer = self.client.get(path)
        assert answer.status_code == 200, f"GET {path}: {answer.status_code}"
        return answer.text

    def applications(self, **filters: str) -> list[dict]:
        return self.client.get("/api/v1/applications", params={"per_page": 500, **filters}).json()["items"]

    def decide(self, application_id: int, decision: str, reason: str = "", score: str = "", override: str = "") -> str:
        """The decision form of the application page, as submitted by a browser; returns the flash text.

        ``override``: the 推荐理由 a clerk writes when the page warns that the eligibility check said 不符合."""
        page = self.page(f"/applications/{application_id}")
        version = re.search(r'name="version" value="(\d+)"', page).group(1)
        answer = self.client.post(f"/applications/{application_id}/decision", data={
            "decision": decision, "reason": reason, "score": score, "version": version, "csrf_token": _csrf(page),
            **({"override": override} if 'id="eligibility-warning"' in page else {})})
        assert answer.status_code == 303, f"decision on {application_id}: {answer.status_code}"
        flashed = self.page(answer.headers["location"])
        return re.search(r'class="flash (?:ok|error)" role="status">([^<]*)<', flashed).group(1)


def _csrf(html: str) -> str:
    return html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
