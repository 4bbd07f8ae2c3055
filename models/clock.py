"""The one clock: every "now" in srdi comes from here (time is data).

Three kinds of time, chosen by settings, never by code:

* real time — production: nothing is set;
* ``SRDI_NOW`` (an ISO date-time; Asia/Shanghai when it has no offset) freezes the clock for demos
  and tests; ``clock.set`` / ``clock.advance`` move it in-process;
* a simulated clock that runs (``srdi clock set``): only where ``SRDI_CLOCK_FILE`` names a file,
  which production never does. The file holds the simulated instant at a real moment and a speed
  (e.g. 3600: an hour a second), so every process sharing the file — `srdi serve`, a Prefect
  worker, a test — reads the same time. It is re-read when it changes.
"""

from __future__ import annotations

import json
import os
import time as _time
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
CLOCK_FILE_VARIABLE = "SRDI_CLOCK_FILE"


def aware(dt: datetime) -> datetime:
    """Read a naive datetime as Asia/Shanghai local time; leave aware ones alone."""
    return dt.replace(tzinfo=SHANGHAI) if dt.tzinfo is None else dt


def parse_instant(text: str) -> datetime:
    return aware(datetime.fromisoformat(text.strip()))


def local(dt: datetime) -> datetime:
    """The same instant on a Beijing-time wall clock (for screens, mail and calendars)."""
    return aware(dt).astimezone(SHANGHAI)


@dataclass(frozen=True)
class Simulation:
    """A running simulated time: ``at`` was the simulated instant at real epoch ``anchor``."""

    at: datetime
    anchor: float
    speed: float

    def now(self) -> datetime:
        return self.at + timedelta(seconds=(_time.time() - self.anchor) * self.speed)

    def as_json(self) -> str:
        return json.dumps({"at": self.at.isoformat(), "anchor": self.anchor, "speed": self.speed})

    @classmethod
    def from_json(cls, text: str) -> "Simulation":
        data = json.loads(text)
        return cls(parse_instant(data["at"]), float(data["anchor"]), float(data.get("speed", 1)))


class SimulationFile:
    """The file behind a simulated clock, re-read only when its modification time changes."""

    def __init__(self, path: Path):
        self.path = path
        self._seen: tuple[int, Simulation | None] = (-1, None)

    def read(self) -> Simulation | None:
        try:
            stamp = self.path.stat().st_mtime_ns
        except FileNotFoundError:
            return None
        if stamp != self._seen[0]:
            text = self.path.read_text(encoding="utf-8").strip()
            self._seen = (stamp, Simulation.from_json(text) if text else None)
        return self._seen[1]

    def write(self, simulation: Simulation) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        partial.write_text(simulation.as_json(), encoding="utf-8")
        partial.replace(self.path)


def simulation_file() -> SimulationFile | None:
    """The simulated clock's file, when this process is allowed one (``SRDI_CLOCK_FILE``)."""
    path = os.environ.get(CLOCK_FILE_VARIABLE)
    return SimulationFile(Path(path)) if path else None


class Clock:
    def __init__(self, fixed: datetime | None = None, simulation: SimulationFile | None = None):
        self._fixed = aware(fixed) if fixed else None
        self._simulation = simulation

    @classmethod
    def from_env(cls) -> "Clock":
        value = os.environ.get("SRDI_NOW")
        return cls(parse_instant(value) if value else None, simulation_file())

    @property
    def frozen(self) -> bool:
        return self._fixed is not None

    @property
    def simulated(self) -> Simulation | None:
        """The running simulation, if this process runs on one."""
        return self._simulation.read() if self._simulation and not self._fixed else None

    def now(self) -> datetime:
        """Aware UTC now."""
        current = self._fixed
        if current is None:
            simulation = self.simulated
            current = simulation.now() if simulation else datetime.now(timezone.utc)
        return current.astimezone(timezone.utc)

    def today(self) -> date:
        """Today's date in Beijing time (the date the policy documents mean)."""
        return local(self.now()).date()

    def set(self, when: datetime) -> None:
        self._fixed = aware(when)

    def advance(self, delta: timedelta) -> None:
        self._fixed = self.now() + delta

    def release(self) -> None:
        self._fixed = None


clock = Clock.from_env()
