"""Where a call stands (办理进度): counts by level, reviewing jurisdiction and status; one application's timeline."""

from __future__ import annotations

from typing import Optional

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from models.application import Application
from models.clock import local
from models.enterprise import Enterprise
from models.enums import ApplicationStatus, ReviewLevel
from models.errors import NotFound
from models.jurisdiction import Jurisdiction
from models.review import LevelWindow
from models.transition import Transition
from tasks.people.scope import related, subtree_clause
from tasks.pipeline.blocks import active_blocks
from tasks.reference.calls import call_context, open_calls
from tasks.reports.labels import action_label, status_label
from tasks.review.decisions import load_applications


def _path_of(connection: Connection, code: Optional[str]) -> Optional[str]:
    if code is None:
        return None
    path = connection.execute(select(Jurisdiction.path).where(Jurisdiction.code == code)).scalar()
    if path is None:
        raise NotFound(f"行政区划代码 {code} 不存在")
    return path


def _related(path: str, scope: Optional[str]) -> bool:
    """Inside the scope's subtree, or one of its ancestors (the province's window concerns a city)."""
    return scope is None or related(scope, path)


def call_status(connection: Connection, call_id: str, level: Optional[str] = None,
                jurisdiction_code: Optional[str] = None) -> dict:
    """Counts of a call's applications by level × reviewing jurisdiction × status, and its level windows.

    ``jurisdiction_code`` keeps the applicants inside that subtree (a city sees its counties' too).
    """
    context = call_context(connection, call_id)
    desk = Jurisdiction.__table__.alias("desk")
    query = (select(Application.level, Application.review_jurisdiction_code, desk.c.name, Application.status, func.count())
             .join(Jurisdiction, Jurisdiction.code == Application.jurisdiction_code)
             .join(desk, desk.c.code == Application.review_jurisdiction_code)
             .where(Application.call_id == call_id)
             .group_by(Application.level, Application.review_jurisdiction_code, desk.c.name, Application.status))
    if level:
        query = query.where(Application.level == ReviewLevel(level))
    scope = _path_of(connection, jurisdiction_code)
    if scope is not None:
        query = query.where(subtree_clause(Jurisdiction.path, scope))
    order = [s.level for s in context.levels]
    rows = sorted(
        ({"level": ReviewLevel(lv).value, "jurisdiction_code": code, "jurisdiction_name": name,
          "status": ApplicationStatus(st).value, "status_label": status_label(st), "count": n}
         for lv, code, name, st, n in connection.execute(query)),
        key=lambda r: (order.index(ReviewLevel(r["level"])), r["jurisdiction_code"], r["status"]))
    by_level: dict[str, dict[str, int]] = {}
    for row in rows:
        cell = by_level.setdefault(row["level"], {})
        cell[row["status"]] = cell.get(row["status"], 0) + row["count"]
    return {
        "call_id": call_id, "call_name": context.call.name, "route": [s.value for s in order],
        "total": sum(r["count"] for r in rows), "by_level": by_level, "rows": rows,
        "windows": _windows(connection, call_id, level, scope),
    }


def _windows(connection: Connection, call_id: str, level: Optional[str], scope: Optional[str]) -> list[dict]:
    query = (select(LevelWindow, Jurisdiction.name, Jurisdiction.path)
             .join(Jurisdiction, Jurisdiction.code == LevelWindow.jurisdiction_code)
             .where(LevelWindow.call_id == call_id).order_by(LevelWindow.id))
    if level:
        query = query.where(LevelWindow.level == ReviewLevel(level))
    return [{"level": ReviewLevel(r.level).value, "jurisdiction_code": r.jurisdiction_code, "jurisdiction_name": r.name,
             "due_at": r.due_at, "closed_at": r.closed_at, "close_reason": r.close_reason, "outcome": r.outcome}
            for r in connection.execute(query) if _related(r.path, scope)]


def timeline(connection: Connection, application: int | str) -> dict:
    """An application with every transition of the log, times in Beijing time (办理记录)."""
    row = load_applications(connection, [application])[application]
    enterprise = connection.execute(select(Enterprise.name, Enterprise.uscc).where(Enterprise.id == row.enterprise_id)).first()
    events = connection.execute(select(Transition).where(Transition.application_id == row.id).order_by(Transition.id)).all()
    return {
        "id": row.id, "ref": row.ref, "call_id": row.call_id, "enterprise": enterprise.name, "uscc": enterprise.uscc,
        "home": row.home_name, "level": ReviewLevel(row.level).value, "desk": row.desk_name,
        "status": ApplicationStatus(row.status).value, "status_label": status_label(row.status), "version": row.version,
        "events": [
            {"at": local(t.at), "actor": t.actor, "role": t.role, "jurisdiction_code": t.jurisdiction_code,
             "action": t.action, "action_label": action_label(t.action),
             "from_level": t.from_level, "from_status": t.from_status, "to_level": t.to_level, "to_status": t.to_status,
             "reason": t.reason, "score": t.score}
            for t in events
        ],
    }


def overview(connection: Connection) -> dict:
    """Every open call with its counts by status, and every step that is blocked now (流程受阻)."""
    counts: dict[str, dict[str, int]] = {}
    for call_id, status, n in connection.execute(
            select(Application.call_id, Application.status, func.count()).group_by(Application.call_id, Application.status)):
        counts.setdefault(call_id, {})[ApplicationStatus(status).value] = n
    calls = [{"call_id": call.id, "call_name": call.name, "total": sum(counts.get(call.id, {}).values()),
              "by_status": counts.get(call.id, {})} for call in open_calls(connection)]
    blocked = [{**block, "since": local(block["since"]), "last_at": local(block["last_at"])}
               for block in active_blocks(connection)]
    return {"calls": calls, "blocked": blocked}
