"""Send the outbox with aiosmtplib: reused connections, bounded concurrency, retries with back-off.

One run claims due mails in batches, hands them to ``concurrency`` workers that each keep one
SMTP connection open for the whole run, and records every outcome in the outbox:

* accepted by the server → ``sent``;
* refused permanently (5xx) → ``failed`` with the server's answer;
* refused temporarily (4xx) → stays ``queued`` and is retried later with back-off, ``failed``
  after ``max_attempts`` such refusals;
* server unreachable (after ``connect_retries`` attempts with back-off within the run), login
  refused, or our sender address refused → the run stops and every mail not yet accepted stays
  ``queued`` for a later run. Nothing is lost, and nothing already accepted is sent again.

Exactly once across a crash: MAIL and RCPT run on all connections at once, but the DATA step — whose
250 makes the mail the server's — runs on one connection at a time, and its acceptance is committed
(``mark_accepted``) before the next DATA may start. A kill -9 at any moment therefore leaves at most
one mail accepted but unrecorded; the next run settles the accepted ones, takes back the dead run's
claims and re-sends that one mail with the same Message-ID (fixed in the outbox row).
"""

from __future__ import annotations

import asyncio
import socket
import time
from contextlib import suppress
from dataclasses import asdict, dataclass, field
from functools import lru_cache

import aiosmtplib
from sqlalchemy.engine import Engine, Row

from models.clock import clock
from models.db import get_engine
from models.outbox import MailState
from notifications.claims import new_token
from notifications.config import SmtpConfig
from notifications.mime import mime_bytes
from notifications.outbox import Outcome, claim_due, mark_accepted, record_outcomes, recover, release

BATCH = 200


@dataclass
class SendReport:
    claimed: int = 0
    sent: int = 0
    deferred: int = 0
    failed: int = 0
    settled: int = 0                 # accepted before an earlier run died: recorded as sent now
    released: int = 0                # claimed by a dead run: handed back
    server_unavailable: str | None = None
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


class ServerUnavailable(Exception):
    pass


@lru_cache(maxsize=1)
def _local_hostname() -> str:
    return socket.gethostname() or "localhost"


def _client(config: SmtpConfig) -> aiosmtplib.SMTP:
    return aiosmtplib.SMTP(
        hostname=config.host, port=config.port, timeout=config.timeout, local_hostname=_local_hostname(),
        use_tls=config.tls == "tls", start_tls=config.tls == "starttls",
        username=config.username, password=config.password,
    )


class Connections:
    """SMTP connections kept open across batches of one run."""

    def __init__(self, config: SmtpConfig):
        self.config = config
        self.idle: list[aiosmtplib.SMTP] = []
        self.unavailable: str | None = None

    async def get(self) -> aiosmtplib.SMTP:
        while self.idle:
            smtp = self.idle.pop()
            if smtp.is_connected:
                return smtp
        return await self._open()

    async def _open(self) -> aiosmtplib.SMTP:
        delay, error = self.config.retry_delay, None
        for attempt in range(self.config.connect_retries):
            if self.unavailable:
                break
            smtp = _client(self.config)
            try:
                await smtp.connect()
                return smtp
            except (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError) as exc:
                error = f"{type(exc).__name__}: {exc}"
                if attempt + 1 < self.config.connect_retries:
                    await asyncio.sleep(delay)
                    delay *= 2
        self.unavailable = self.unavailable or f"SMTP {self.config.host}:{self.config.port} 无法连接（{error}）"
        raise ServerUnavailable(self.unavailable)

    def put(self, smtp: aiosmtplib.SMTP | None) -> None:
        if smtp is not None and smtp.is_connected:
            self.idle.append(smtp)

    async def close(self) -> None:
        for smtp in self.idle:
            try:
                await smtp.quit()
            except (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError):
                smtp.close()
        self.idle.clear()


def _refusal(exc: aiosmtplib.SMTPResponseException) -> tuple[int, str]:
    return exc.code, f"{exc.code} {exc.message}"


class Acceptances:
    """Records each acceptance durably the moment the server gives it, one DATA step at a time."""

    def __init__(self, engine: Engine, token: str):
        self.token = token
        self.gate = asyncio.Lock()
        self.connection = engine.connect()

    def record(self, row: Row, outcomes: dict[int, Outcome]) -> None:
        at = clock.now()
        outcomes[row.id] = Outcome(row.id, MailState.sent, at=at)
        with self.connection.begin():
            mark_accepted(self.connection, self.token, row.id, row.attempts, at)

    def close(self) -> None:
        self.connection.close()


async def _transaction(smtp: aiosmtplib.SMTP, config: SmtpConfig, row: Row, accepted: Acceptances,
                       outcomes: dict[int, Outcome]) -> None:
    """MAIL, RCPT, then DATA under the gate with its acceptance recorded; RSET after a refusal (as sendmail does)."""
    payload = mime_bytes(row, config)
    try:
        await smtp.mail(config.sender)
        await smtp.rcpt(row.to_addr)
        async with accepted.gate:
            await smtp.data(payload)
            accepted.record(row, outcomes)
    except aiosmtplib.SMTPResponseException:
        with suppress(aiosmtplib.SMTPException, OSError, asyncio.TimeoutError):
            await smtp.rset()
        raise


async def _deliver(rows: list[Row], connections: Connections, config: SmtpConfig, outcomes: dict[int, Outcome],
                   accepted: Acceptances) -> None:
    """Send ``rows``, writing each row's outcome into ``outcomes`` as soon as it is known."""
    pending = list(reversed(rows))
    retried: set[int] = set()

    async def worker() -> None:
        smtp = None
        while pending and not connections.unavailable:
            row = pending.pop()
            try:
                smtp = smtp if smtp is not None and smtp.is_connected else await connections.get()
            except ServerUnavailable as exc:
                outcomes[row.id] = Outcome(row.id, MailState.queued, str(exc))
                break
            try:
                await _transaction(smtp, config, row, accepted, outcomes)
            except aiosmtplib.SMTPSenderRefused as exc:
                # Refusing our own address is the configuration's fault, not this mail's: stop, keep all queued.
                connections.unavailable = f"SMTP 服务器拒绝发件人 {config.sender}（{exc.code} {exc.message}）"
                outcomes[row.id] = Outcome(row.id, MailState.queued, connections.unavailable)
            except aiosmtplib.SMTPResponseException as exc:
                code, text = _refusal(exc)
                permanent = code >= 500 or row.attempts + 1 >= config.max_attempts
                outcomes[row.id] = Outcome(row.id, MailState.failed if permanent else MailState.queued, text)
            except (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError) as exc:
                # The connection broke before the server accepted the message: try once more.
                smtp = None
                if row.id in retried:
                    outcomes[row.id] = Outcome(row.id, MailState.queued, f"{type(exc).__name__}: {exc}")
                else:
                    retried.add(row.id)
                    pending.append(row)
        connections.put(smtp)

    await asyncio.gather(*(worker() for _ in range(min(config.concurrency, len(rows)))))
    reason = connections.unavailable or "本轮未发送"
    for row in rows:
        outcomes.setdefault(row.id, Outcome(row.id, MailState.queued, reason))


async def asend_queued(engine: Engine | None = None, config: SmtpConfig | None = None,
                       limit: int | None = None, batch: int = BATCH) -> SendReport:
    engine = engine or get_engine()
    config = config or SmtpConfig.from_settings()
    report, token = SendReport(), new_token()
    connections = Connections(config)
    started = time.perf_counter()
    with engine.begin() as connection:
        report.settled, report.released = recover(connection, clock.now())
    accepted = Acceptances(engine, token)
    try:
        while limit is None or report.claimed < limit:
            size = batch if limit is None else min(batch, limit - report.claimed)
            with engine.begin() as connection:
                rows = claim_due(connection, token, size)
            if not rows:
                break
            report.claimed += len(rows)
            outcomes: dict[int, Outcome] = {}
            try:
                await _deliver(rows, connections, config, outcomes, accepted)
            finally:
                # Even when interrupted, record what the server accepted; the rest goes back.
                with engine.begin() as connection:
                    record_outcomes(connection, token, list(outcomes.values()), {row.id: row.attempts for row in rows}, clock.now())
                    release(connection, token)
            for o in outcomes.values():
                if o.state == MailState.sent:
                    report.sent += 1
                elif o.state == MailState.failed:
                    report.failed += 1
                    report.errors.append(f"#{o.mail_id}: {o.error}")
                else:
                    report.deferred += 1
            if connections.unavailable:
                report.server_unavailable = connections.unavailable
                break
    finally:
        accepted.close()
        await connections.close()
        report.seconds = round(time.perf_counter() - started, 3)
    return report


def send_queued(engine: Engine | None = None, config: SmtpConfig | None = None,
                limit: int | None = None, batch: int = BATCH) -> SendReport:
    """Send every due queued mail (synchronous entry point for flows, the CLI and the scheduler)."""
    return asyncio.run(asend_queued(engine, config, limit, batch))
