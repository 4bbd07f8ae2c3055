"""Log-in throttling (登录限制): wrong passwords lock the account name, and the address, for a while.

- Per account name (as typed, known or not, so the answer never tells whether an account exists):
  after ``max_failures`` wrong passwords since its last successful log-in (within a day), the name is
  locked for ``lock_seconds`` after the last failure, doubled for every further failure (at most a day).
  A correct password during the lock is refused without being checked.
- Per client address: ``address_max_failures`` wrong passwords within an hour lock it for ``lock_seconds``.

Each attempt is recorded before its password is checked and then counts against every other attempt
(earlier or concurrent), so guesses sent in parallel are bounded too. Every failure is logged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Optional

from sqlalchemy import func, insert, select, update

from models.clock import local
from models.login_attempt import AttemptOutcome, LoginAttempt
from models.settings import ConsoleSecurity

log = logging.getLogger("srdi.web.login")

ACCOUNT_WINDOW = timedelta(days=1)
ADDRESS_WINDOW = timedelta(hours=1)
LONGEST_LOCK = timedelta(days=1)
_TABLE = LoginAttempt.__table__


@dataclass(frozen=True)
class Lock:
    until: datetime

    def message(self, now: datetime) -> str:
        minutes = max(1, -(-int((self.until - now).total_seconds()) // 60))
        return f"登录失败次数过多，已暂时锁定。请于北京时间 {local(self.until):%Y-%m-%d %H:%M} 之后（约 {minutes} 分钟后）再试。"


def begin_attempt(connection: Any, username: str, client_address: str, now: datetime) -> int:
    """Record an attempt as a failure until its password is found right; returns its id."""
    return connection.execute(insert(_TABLE).values(at=now, username=username, client_address=client_address,
                                                    outcome=AttemptOutcome.failure)).inserted_primary_key[0]


def lock_for(connection: Any, attempt_id: int, username: str, client_address: str, now: datetime,
             policy: ConsoleSecurity) -> Optional[Lock]:
    """The lock, if any, that refuses attempt ``attempt_id`` (its own row not counted)."""
    last_success = (select(func.coalesce(func.max(_TABLE.c.id), 0))
                    .where(_TABLE.c.username == username, _TABLE.c.outcome == AttemptOutcome.success).scalar_subquery())
    failures = (_TABLE.c.outcome == AttemptOutcome.failure) & (_TABLE.c.id != attempt_id)
    account = connection.execute(select(func.count(), func.max(_TABLE.c.at)).where(
        failures, _TABLE.c.username == username, _TABLE.c.at >= now - ACCOUNT_WINDOW, _TABLE.c.id > last_success)).one()
    address = connection.execute(select(func.count(), func.max(_TABLE.c.at)).where(
        failures, _TABLE.c.client_address == client_address, _TABLE.c.at >= now - ADDRESS_WINDOW)).one()
    until = []
    if account[0] >= policy.max_failures:
        doubling = min(account[0] - policy.max_failures, 16)
        until.append(account[1] + min(timedelta(seconds=policy.lock_seconds) * 2 ** doubling, LONGEST_LOCK))
    if address[0] >= policy.address_max_failures:
        until.append(address[1] + timedelta(seconds=policy.lock_seconds))
    latest = max(until, default=None)
    return Lock(latest) if latest is not None and latest > now else None


def finish_attempt(connection: Any, attempt_id: int, outcome: str) -> None:
    connection.execute(update(_TABLE).where(_TABLE.c.id == attempt_id).values(outcome=outcome))


def log_refusal(username: str, client_address: str, lock: Optional[Lock]) -> None:
    """Every refused log-in goes to the log (the name as typed, quoted: it is attacker-controlled)."""
    if lock is None:
        log.warning("console log-in failed: username=%r address=%s", username, client_address)
    else:
        log.warning("console log-in refused while locked until %s: username=%r address=%s",
                    lock.until.isoformat(), username, client_address)
