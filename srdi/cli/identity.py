"""The ``--as`` user of a command (操作人): checked before anything changes, and logged with the OS account."""

from __future__ import annotations

import getpass
import os
from typing import Optional

from typer._click.globals import get_current_context

from models.db import get_engine
from tasks.people.operators import check_operator, record_operator


def os_user() -> str:
    """The operating-system account running this process."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):           # no login name and no passwd entry (a bare container)
        return f"uid:{os.getuid()}"


def _command_line() -> str:
    context = get_current_context(silent=True)
    if context is None:
        return "srdi"
    params = " ".join(f"{key}={value}" for key, value in context.params.items() if value not in (None, False))
    words = context.command_path.split()[1:]           # the program name differs (srdi, python -m srdi, a test runner)
    return " ".join(["srdi", *words, params]).strip()


def operator(as_user: Optional[str], *, system_allowed: bool = False) -> str:
    """The checked ``--as`` name (refused unless an active user, or ``system`` where allowed); the run is logged."""
    with get_engine().begin() as connection:
        name = check_operator(connection, as_user, system_allowed=system_allowed)
        record_operator(connection, name, os_user(), _command_line())
    return name
