"""Writing decisions: guarded status changes, scores, and their transition rows, all set-wise.

Statements are built once (the console and batch reviews run them thousands of times). A status
change goes through the workflow writer (models/workflow_writer.py), guarded by what the writer read —
the version, or for a batch the pending status at the reviewer's desk — so of two concurrent writers
one matches nothing and gets ``Conflict``; the caller's transaction then rolls back whatever it had
written.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple, Optional

from sqlalchemy import and_, bindparam, case, select
from sqlalchemy.engine import Connection

from models.application import Application
from models.enums import ApplicationStatus
from models.id_list import in_list
from models.review import LevelWindow
from models.workflow import APPLICATION
from models.workflow_writer import Actor, apply

_A, _W = Application.__table__, LevelWindow.__table__
# Each of the ids with its ref and level, and whether it is pending at ``desk`` in a level window that is open and in time.
DECIDABLE = (
    select(_A.c.id, _A.c.ref, _A.c.level, _A.c.eligible, case((and_(
        _A.c.status == ApplicationStatus.pending, _A.c.review_jurisdiction_code == bindparam("desk"),
        _W.c.closed_at.is_(None), _W.c.late_from > bindparam("now", type_=_W.c.late_from.type)), 1), else_=0).label("decidable"))
    .select_from(_A.outerjoin(_W, and_(_W.c.call_id == _A.c.call_id, _W.c.level == _A.c.level,
                                       _W.c.jurisdiction_code == _A.c.review_jurisdiction_code)))
    .where(in_list(_A.c.id, "ids"))
)


class Decided(NamedTuple):
    """One decision to write: the application, the action, the version read (None: a batch at ``desk``)."""

    application_id: int
    action: str
    version: Optional[int]
    reason: Optional[str]
    score: Optional[Decimal]
    override: Optional[str] = None          # 资格审查不符合仍予推荐的理由, kept on the application


def write_decisions(connection: Connection, decided: list[Decided], who: Actor, now: datetime, conflict: str,
                    desk: Optional[str] = None) -> dict[int, int]:
    """Apply every decision through the workflow writer, one statement set per (action, version, reason); the new versions.

    The caller has checked every application in this transaction. A decision read by version is
    guarded by it; a batch (version None) by the reviewer's ``desk``. Scores (and an eligibility
    override) are written with the status; the score is logged with it. Conflict when any application moved meanwhile (the caller's
    transaction then rolls back).
    """
    groups: dict[tuple, list[Decided]] = defaultdict(list)
    for item in decided:
        groups[(item.action, item.version, item.reason, item.score is not None, item.override is not None)].append(item)
    versions: dict[int, int] = {}
    for (action, version, reason, scored, overridden), items in groups.items():
        guard = {"version": version} if version is not None else {"review_jurisdiction_code": desk}
        versions.update(apply(connection, APPLICATION, action, [i.application_id for i in items], actor=who, at=now, guard=guard,
                              reason=reason, row_values=_row_values(items, scored, overridden),
                              conflict=conflict, checked=True, versions=True).versions)
    return versions


def _row_values(items: list[Decided], scored: bool, overridden: bool) -> Optional[dict[int, dict]]:
    if not (scored or overridden):
        return None
    return {i.application_id: {**({"score": i.score} if scored else {}), **({"eligibility_override": i.override} if overridden else {})}
            for i in items}
