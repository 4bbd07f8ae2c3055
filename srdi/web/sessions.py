"""Server-side console sessions (控制台会话): opened at log-in, checked on every request, revoked at log-out.

The signed cookie carries a random token (and the CSRF token); the ``web_session`` row, found by the
token's digest, says whose session it is and whether it still stands. A session ends when revoked
(log-out, password change, user disabled), after ``idle_seconds`` without a request, or
``absolute_seconds`` after log-in however busy — both checked here, on the server.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Optional

from sqlalchemy import insert, select, update

from models.clock import clock
from models.jurisdiction import User
from models.settings import ConsoleSecurity
from models.web_session import RevokeReason, WebSession, password_stamp, token_digest

SEEN_REFRESH_SECONDS = 60
_TABLE = WebSession.__table__


def console_clock() -> float:
    """Epoch seconds for session ages and log-in locks: the project clock (so tests steer it), except while a
    simulated clock runs (``srdi clock set``) — an hour a second would sign every clerk out within seconds."""
    return time.time() if clock.simulated else clock.now().timestamp()


def instant(epoch_seconds: float) -> datetime:
    return datetime.fromtimestamp(epoch_seconds, timezone.utc)


@dataclass(frozen=True)
class Standing:
    """A session that still stands: whose it is, and whether its ``last_seen_at`` needs a refresh."""

    session_id: int
    user_id: int
    stale_seen: bool


def open_session(connection: Any, user_id: int, password_hash: Optional[str], client_address: Optional[str],
                 now: datetime) -> str:
    """Record a new session for ``user_id`` and return its token (the only copy: only its digest is stored)."""
    token = secrets.token_urlsafe(32)
    connection.execute(insert(_TABLE).values(token_hash=token_digest(token), user_id=user_id, created_at=now, last_seen_at=now,
                                             client_address=(client_address or "")[:64] or None,
                                             password_stamp=password_stamp(password_hash)))
    return token


def standing(connection: Any, token: str, now: datetime, policy: ConsoleSecurity) -> tuple[Optional[Standing], Optional[str]]:
    """The session of ``token`` if it still stands; else None and, when it has just lapsed, why (to record)."""
    users = User.__table__
    row = connection.execute(
        select(_TABLE.c.id, _TABLE.c.user_id, _TABLE.c.created_at, _TABLE.c.last_seen_at, _TABLE.c.revoked_at,
               _TABLE.c.password_stamp, users.c.password_hash, users.c.active)
        .join(users, users.c.id == _TABLE.c.user_id).where(_TABLE.c.token_hash == token_digest(token))).first()
    if row is None or row.revoked_at is not None:
        return None, None
    if not row.active:
        return None, RevokeReason.user_disabled
    if row.password_stamp != password_stamp(row.password_hash):
        return None, RevokeReason.password_changed
    if now - row.last_seen_at > timedelta(seconds=policy.idle_seconds):
        return None, RevokeReason.idle
    if now - row.created_at > timedelta(seconds=policy.absolute_seconds):
        return None, RevokeReason.expired
    stale = now - row.last_seen_at > timedelta(seconds=SEEN_REFRESH_SECONDS)
    return Standing(row.id, row.user_id, stale), None


def mark_seen(connection: Any, session_id: int, now: datetime) -> None:
    connection.execute(update(_TABLE).where(_TABLE.c.id == session_id).values(last_seen_at=now))


def revoke(connection: Any, token: str, reason: str, now: datetime) -> int:
    """End the session of ``token`` (log-out, lapse); an already ended one stays as it was."""
    return connection.execute(
        update(_TABLE).where(_TABLE.c.token_hash == token_digest(token), _TABLE.c.revoked_at.is_(None))
        .values(revoked_at=now, revoke_reason=reason)).rowcount
