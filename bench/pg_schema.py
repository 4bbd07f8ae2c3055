"""A throw-away PostgreSQL schema for bench/pipeline.py --url: created at the start, dropped (CASCADE) at the end.

The srdi round runs with ``search_path`` set to that schema through the URL (libpq ``options``), so the server's
existing tables are never touched and the bench leaves nothing behind.
"""

from __future__ import annotations

import os
import secrets
from typing import Callable
from urllib.parse import quote


def _conninfo(url: str) -> str:
    return "postgresql://" + url.split("://", 1)[1]


def fresh_schema(url: str) -> tuple[str, Callable[[], None]]:
    """(the URL scoped to a new schema, a function that drops it)."""
    import psycopg

    name = f"srdi_bench_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(_conninfo(url), autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{name}"')
    scoped = f"{url}{'&' if '?' in url else '?'}options={quote(f'-csearch_path={name}')}"

    def drop() -> None:
        with psycopg.connect(_conninfo(url), autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')

    return scoped, drop


def server_version(url: str) -> str:
    import psycopg

    with psycopg.connect(_conninfo(url)) as connection:
        return connection.execute("SHOW server_version").fetchone()[0]
