"""Why a move was refused (拒绝原因): read only when the workflow writer refuses, in words a clerk acts on.

A row that does not exist, rows in a status the action does not start from (named with their
status), or — when nothing else explains it — a row that changed under the writer (刚被他人修改).
"""

from __future__ import annotations

from typing import Callable, Union

from sqlalchemy import select
from sqlalchemy.engine import Connection

from models.errors import IllegalMove, NotFound
from models.workflow import Action, Machine

SHOWN = 5             # rows named in a refusal
Conflict = Union[str, Callable[[int], str], None]


def refusal(connection: Connection, m: Machine, a: Action, ids: list[int], conflict: Conflict, creating: bool) -> Exception:
    """Why the rows of ``ids`` may not take the action (read only on refusal)."""
    t = m.table.__table__
    found = dict(connection.execute(select(t.c.id, t.c[m.column]).where(t.c.id.in_(ids))).all())
    missing = [i for i in ids if i not in found]
    if missing:
        return NotFound(f"{m.label} {_named(missing)} 不存在")
    allowed = {a.target} if creating else a.sources
    wrong = [i for i in ids if status_value(found[i]) not in allowed]
    if conflict is not None:
        count = len(wrong) or len(ids)
        return IllegalMove(conflict(count) if callable(conflict) else conflict)
    if wrong:
        shown = "、".join(f"{i}（{m.status_label(status_value(found[i]))}）" for i in wrong[:SHOWN])
        more = f" 等 {len(wrong)} 件" if len(wrong) > SHOWN else ""
        sources = "、".join(m.status_label(s) for s in sorted(allowed, key=list(m.statuses).index))
        return IllegalMove(f"{m.label} {shown}{more}不能“{a.label}”：该操作只适用于“{sources}”的{m.label}，本次未执行")
    return IllegalMove(f"{m.label} {_named(ids)} 刚被他人修改，本次“{a.label}”未执行，请刷新后重试")


def _named(ids: list[int]) -> str:
    return "、".join(map(str, ids[:SHOWN])) + (f" 等 {len(ids)} 件" if len(ids) > SHOWN else "")


def status_value(status) -> str:
    return getattr(status, "value", status)
