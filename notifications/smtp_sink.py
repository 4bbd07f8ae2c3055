"""A small real SMTP server (aiosmtpd) on 127.0.0.1 that files every message as an .eml file.

Used by the tests, the demo and the mail benchmark in place of a bureau's mail server::

    with running_sink(Path("var/mail")) as sink:       # sink.port, sink.directory
        ...send...
    messages = read_messages(Path("var/mail"))

or as its own process: ``python -m notifications.smtp_sink var/mail --port 8025``.
"""

from __future__ import annotations

import argparse
import email
import itertools
import signal
import socket
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Iterator

from aiosmtpd.controller import Controller

HOST = "127.0.0.1"


def free_port(host: str = HOST) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


class EmlDirectory:
    """aiosmtpd handler: one ``NNNNNN.eml`` per accepted message (``count_only`` keeps none)."""

    def __init__(self, directory: Path | None, count_only: bool = False):
        self.directory = directory
        self.count_only = count_only
        self.accepted = 0
        self._lock = threading.Lock()
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
            start = len(list(directory.glob("*.eml")))
            self._numbers = itertools.count(start + 1)

    async def handle_DATA(self, server, session, envelope) -> str:
        with self._lock:
            self.accepted += 1
            number = next(self._numbers) if self.directory is not None else self.accepted
        if not self.count_only and self.directory is not None:
            (self.directory / f"{number:06d}.eml").write_bytes(envelope.original_content or envelope.content)
        return "250 Message accepted for delivery"


@dataclass
class Sink:
    host: str
    port: int
    directory: Path | None
    handler: EmlDirectory
    controller: Controller

    def stop(self) -> None:
        self.controller.stop()


def start_sink(directory: Path | None, port: int | None = None, host: str = HOST, count_only: bool = False) -> Sink:
    handler = EmlDirectory(directory, count_only)
    port = port or free_port(host)
    controller = Controller(handler, hostname=host, port=port, data_size_limit=10 * 1024 * 1024)
    controller.start()
    return Sink(host, port, directory, handler, controller)


@contextmanager
def running_sink(directory: Path | None, port: int | None = None, host: str = HOST) -> Iterator[Sink]:
    sink = start_sink(directory, port, host)
    try:
        yield sink
    finally:
        sink.stop()


def read_messages(directory: Path) -> list[EmailMessage]:
    """Every filed message, oldest first, parsed (headers decoded)."""
    return [
        email.message_from_bytes(path.read_bytes(), policy=default_policy)
        for path in sorted(directory.glob("*.eml"))
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description="Embedded SMTP sink: files each message as .eml")
    parser.add_argument("directory", type=Path, nargs="?")
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--host", default=HOST)
    parser.add_argument("--count-only", action="store_true", help="accept messages without filing them")
    args = parser.parse_args()
    sink = start_sink(args.directory, args.port, args.host, args.count_only)
    print(f"SMTP sink on {sink.host}:{sink.port} → {args.directory or '(not filed)'}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    sink.stop()
    print(f"accepted {sink.handler.accepted} messages", flush=True)


if __name__ == "__main__":
    main()
