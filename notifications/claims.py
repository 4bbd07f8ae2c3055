"""Sender-run tokens (发送批次标识): which run holds a claimed mail, and whether that run is dead.

A token names its run's host and process: ``<host tag>:<pid>:<random>`` (≤ 36 characters, the
outbox's ``claim`` column). A claim is *stale* when its run provably ended without handing its rows
back — the token names this host and no live process has its pid (a kill -9, a power cut of the
process). Rows held by a run on another host, or under a token of another form, are never taken
from a live run: they come back when the claim's lease runs out.
"""

from __future__ import annotations

import hashlib
import os
import socket
import uuid
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=1)
def host_tag() -> str:
    """Eight hex digits naming this host (its hostname hashed: fixed length, no odd characters)."""
    return hashlib.sha1((socket.gethostname() or "localhost").encode()).hexdigest()[:8]


def new_token() -> str:
    """The token of a new sender run in this process."""
    return f"{host_tag()}:{os.getpid()}:{uuid.uuid4().hex[:16]}"


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:            # someone else's process: alive
        return True
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().rpartition(")")[2].split()[0] != "Z"       # a zombie runs nothing
    except (OSError, IndexError):
        return True


def is_stale(token: str) -> bool:
    """True when ``token``'s run was on this host and its process is gone."""
    host, _, rest = token.partition(":")
    pid, _, _ = rest.partition(":")
    if host != host_tag() or not pid.isdigit():
        return False
    return not _process_alive(int(pid))
