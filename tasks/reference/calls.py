"""Calls (申报批次): open one round of a programme for a year, and find a call's profile and route."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Optional

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection

from models.clock import clock, local
from models.errors import NotFound, RuleViolation
from models.profile import Level, Profile
from models.programme import Call, Programme
from tasks.reference.programmes import get_profile, load_all_files, programme_row
from tasks.reference.routing import route_levels

CALL_KINDS = ("recognition", "re_review")


@dataclass(frozen=True)
class CallContext:
    """A call with its profile and the levels it runs through, bottom-up."""

    call: Call
    profile: Profile
    levels: list[Level]

    def step(self, level: str) -> Level:
        for step in self.levels:
            if step.level == level:
                return step
        raise RuleViolation(f"批次 {self.call.id} 的审核路线 {[s.level.value for s in self.levels]} 不含 {level} 级")

    @property
    def entry(self) -> Level:
        return self.levels[0]

    @property
    def final(self) -> Level:
        return self.levels[-1]


_CALL = select(Call.__table__).where(Call.__table__.c.id == bindparam("call_id"))


def get_call(connection: Connection, call_id: str) -> Call:
    row = connection.execute(_CALL, {"call_id": call_id}).first()
    if row is None:
        raise NotFound(f"批次 {call_id} 不存在")
    return Call.model_validate(row._mapping)


def call_context(connection: Connection, call_id: str) -> CallContext:
    call = get_call(connection, call_id)
    profile = get_profile(call.programme_id)
    return CallContext(call, profile, route_levels(profile, call.kind))


def call_id_for(programme_id: str, year: int, batch: Optional[int] = None, kind: str = "recognition") -> str:
    """Deterministic id, e.g. ``hebei-provincial-srdi-2026`` or ``national-little-giant-2026-2-rereview``."""
    parts = [programme_id, str(year)] + ([str(batch)] if batch else []) + (["rereview"] if kind == "re_review" else [])
    return "-".join(parts)


def _ensure_programme(connection: Connection, programme_id: str, now: datetime) -> None:
    if connection.execute(select(Programme.id).where(Programme.id == programme_id)).first():
        return
    loaded = load_all_files()[programme_id]
    connection.execute(Programme.__table__.insert(), [{**programme_row(loaded), "loaded_at": now}])


def open_call(
    connection: Connection,
    programme_id: str,
    year: int,
    *,
    batch: Optional[int] = None,
    kind: str = "recognition",
    name: Optional[str] = None,
    opens_at: Optional[datetime] = None,
    closes_at: Optional[datetime] = None,
    now: Optional[datetime] = None,
) -> Call:
    """Open 申报批次 ``programme × year [× batch]``; opening the same call again returns it unchanged.

    ``closes_at`` (企业申报截止) defaults to the profile's ``applicant_deadline`` for the year.
    A 复核 call (``kind="re_review"``) runs the profile's re-review route.
    """
    if kind not in CALL_KINDS:
        raise RuleViolation(f"批次类型应为 {' / '.join(CALL_KINDS)}，实际为 {kind!r}")
    now = now or clock.now()
    profile = get_profile(programme_id)
    try:
        levels = route_levels(profile, kind)
    except ValueError as exc:
        raise RuleViolation(str(exc)) from None
    if not levels:
        raise RuleViolation(f"方案 {programme_id} 的复核路线为空")
    opens_at = opens_at or now
    if closes_at is None and profile.applicant_deadline is not None:
        closes_at = profile.applicant_deadline.due_at(year, event_at=opens_at)
    if closes_at is not None and closes_at <= opens_at:
        raise RuleViolation(f"申报截止 {local(closes_at):%Y-%m-%d %H:%M} 早于开始时间 {local(opens_at):%Y-%m-%d %H:%M}")
    call_id = call_id_for(programme_id, year, batch, kind)
    existing = connection.execute(select(Call).where(Call.id == call_id)).first()
    if existing is not None:
        return Call.model_validate(existing._mapping)
    _ensure_programme(connection, programme_id, now)
    label = f"{year}年" + (f"第{batch}批" if batch else "") + ("复核" if kind == "re_review" else "")
    row = {
        "id": call_id, "programme_id": programme_id, "name": name or f"{profile.name}（{label}）",
        "year": year, "batch": batch, "jurisdiction_code": profile.jurisdiction, "opens_at": opens_at,
        "closes_at": closes_at, "status": "open", "kind": kind, "created_at": now,
    }
    connection.execute(Call.__table__.insert(), [row])
    return Call.model_validate(row)


def open_calls(connection: Connection, only: Optional[list[str]] = None) -> list[Call]:
    """The open calls (申报批次), or those of ``only`` that are open."""
    query = select(Call).where(Call.status == "open").order_by(Call.id)
    rows = connection.execute(query if only is None else query.where(Call.id.in_(only)))
    return [Call.model_validate(row._mapping) for row in rows]
