"""Who runs a command (操作人): the ``--as`` user must be an existing, active account; each run is logged.

The command line names its srdi user with ``--as``; ``system`` (a flow's identity) is accepted only by
commands that document it as their default. Each accepted run writes an ``operator_log`` row with the
operating-system account beside the ``--as`` user (chained, append-only: models/audit_log.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import select
from sqlalchemy.engine import Connection

from models.audit_log import OperatorLog
from models.clock import clock
from models.errors import Forbidden, NotFound, RuleViolation
from models.jurisdiction import User

SYSTEM = "system"


def check_operator(connection: Connection, username: Optional[str], *, system_allowed: bool) -> str:
    """The ``--as`` name, refused unless an active user (or ``system`` where the command allows it)."""
    if username is None or username == SYSTEM:
        if system_allowed:
            return SYSTEM
        raise RuleViolation("本命令须用 --as 指定办理人（已启用的用户）；system 是流程的身份，不能在此使用")
    row = connection.execute(select(User.active).where(User.username == username)).first()
    if row is None:
        raise NotFound(f"--as 指定的用户 {username} 不存在（srdi user list 查看已有用户）")
    if not row.active:
        raise Forbidden(f"--as 指定的用户 {username} 已停用，不能办理")
    return username


def record_operator(connection: Connection, as_user: str, os_user: str, command: str, *, now: Optional[datetime] = None) -> None:
    """操作记录: the srdi user and the operating-system account that ran ``command``."""
    connection.execute(OperatorLog.__table__.insert().values(at=now or clock.now(), as_user=as_user, os_user=os_user[:64],
                                                             command=command[:512]))
