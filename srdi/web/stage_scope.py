"""What the round-stage pages share: which calls a user sees, whether the intake is open, who may
open a call or import, and the level windows inside the user's subtree with their counts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from models.application import Application
from models.enums import ApplicationStatus, JurisdictionLevel, ReviewLevel, Role
from models.errors import NotFound
from models.jurisdiction import Jurisdiction
from models.programme import Call
from models.review import LevelWindow
from srdi.web import queries
from tasks.people.actors import Actor
from tasks.people.scope import related

WINDOWS_SHOWN = 300
LEVEL_ORDER = {level: rank for rank, level in enumerate(ReviewLevel)}
OPENING_ROLES = frozenset({Role.admin, Role.clerk})
OPENING_LEVELS = frozenset({JurisdictionLevel.province, JurisdictionLevel.ministry})


def may_open_calls(scope: Actor) -> bool:
    """开启申报批次: an administrator or clerk of a provincial department or the ministry."""
    return scope.role in OPENING_ROLES and scope.jurisdiction_level in OPENING_LEVELS


def stage_calls(session: Session, scope: Actor, call_id: str | None = None) -> list[dict[str, Any]]:
    """Calls with applications in the subtree, and open calls organised above or inside it, newest first."""
    seen = {c["id"] for c in queries.visible_calls(session, scope)}
    stmt = (select(Call.id, Call.name, Call.year, Call.status, Call.kind, Call.opens_at, Call.closes_at, Call.programme_id,
                   Call.jurisdiction_code, Jurisdiction.path.label("jurisdiction_path"), Jurisdiction.name.label("organiser"))
            .join(Jurisdiction, Jurisdiction.code == Call.jurisdiction_code)
            .order_by(Call.opens_at.desc(), Call.id))
    if call_id is not None:
        stmt = stmt.where(Call.id == call_id)
    rows = [dict(r) for r in session.execute(stmt).mappings()]
    return [r for r in rows if r["id"] in seen or (r["status"] == "open" and related(scope.path, r["jurisdiction_path"]))]


def visible_call(session: Session, scope: Actor, call_id: str) -> dict[str, Any]:
    """One call as ``stage_calls`` shows it, or NotFound."""
    found = stage_calls(session, scope, call_id)
    if not found:
        raise NotFound(f"批次 {call_id} 不存在或不在您的辖区范围内")
    return found[0]


def intake_state(call: dict[str, Any], now: datetime) -> str:
    """受理: open / not_yet / closed."""
    if call["status"] != "open" or (call["closes_at"] is not None and now > call["closes_at"]):
        return "closed"
    return "not_yet" if now < call["opens_at"] else "open"


def may_import(scope: Actor, call: dict[str, Any], now: datetime) -> bool:
    """A bureau user inside the call's jurisdiction (or above it) while the intake is open."""
    return intake_state(call, now) == "open" and related(scope.path, call["jurisdiction_path"])


def windows_of(session: Session, scope: Actor, call_id: str) -> list[dict[str, Any]]:
    """The call's level windows whose desk lies in the subtree, with the applications at each by status."""
    stmt = (select(LevelWindow.id, LevelWindow.level, LevelWindow.jurisdiction_code, LevelWindow.due_at, LevelWindow.late_from,
                   LevelWindow.closed_at, LevelWindow.closed_by, LevelWindow.outcome, Jurisdiction.name.label("desk_name"))
            .join(Jurisdiction, Jurisdiction.code == LevelWindow.jurisdiction_code)
            .where(LevelWindow.call_id == call_id, scope.path_clause(Jurisdiction.path))
            .order_by(LevelWindow.jurisdiction_code).limit(WINDOWS_SHOWN))
    windows = [dict(r) for r in session.execute(stmt).mappings()]
    desk = Jurisdiction.__table__.alias("desk")
    counts = session.execute(
        select(Application.level, Application.review_jurisdiction_code, Application.status, func.count())
        .join(desk, desk.c.code == Application.review_jurisdiction_code)
        .where(Application.call_id == call_id, scope.path_clause(desk.c.path))
        .group_by(Application.level, Application.review_jurisdiction_code, Application.status)).all()
    by_window: dict[tuple, dict[str, int]] = {}
    for level, code, status, n in counts:
        by_window.setdefault((level, code), {})[ApplicationStatus(status).value] = n
    for w in windows:
        w["counts"] = by_window.get((w["level"], w["jurisdiction_code"]), {})
        w["own_desk"] = w["jurisdiction_code"] == scope.jurisdiction_code
    windows.sort(key=lambda w: (LEVEL_ORDER[ReviewLevel(w["level"])], w["jurisdiction_code"]))
    return windows


def applications_in_scope(session: Session, scope: Actor, call_ids: list[str]) -> dict[str, int]:
    if not call_ids:
        return {}
    return dict(session.execute(
        select(Application.call_id, func.count()).join(Jurisdiction, Jurisdiction.code == Application.jurisdiction_code)
        .where(Application.call_id.in_(call_ids), scope.path_clause(Jurisdiction.path))
        .group_by(Application.call_id)).all())
