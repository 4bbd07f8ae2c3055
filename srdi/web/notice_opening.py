"""Opening a 公示 from the console (lists waiting, a preview of who will be listed) and ending it when due.

The rules stay in tasks/notice/publication.py: ``open_notice`` decides who may publish and what is
listed, ``close_due_notices`` (the scheduler's own step) recognises and issues the certificates.
This module only finds what to offer a user, shows the list before it is published, and refuses a
confirmation whose list changed since the preview (another close or opening in between).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, Optional

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlmodel import Session

from models.application import Application
from models.clock import clock, local
from models.enterprise import Enterprise
from models.enums import ReviewLevel
from models.errors import Conflict, NotFound, RuleViolation, SrdiError
from models.jurisdiction import Jurisdiction
from models.notice import Notice, NoticeStatus
from models.programme import Call
from models.recognition import Recognition
from tasks.notice.publication import close_due_notices, notice_closes_at, open_notice, recommended_by_publisher
from tasks.people.actors import BUREAU_ROLES, Actor, bureau_actor
from tasks.pipeline.blocks import clear_block
from tasks.reference.calls import call_context

LEVELS = list(ReviewLevel)
CLOSE_STEP = "close-notices"        # tasks/pipeline/due.py: the scheduler's step of the same name


def _waiting_groups(connection: Connection, call_id: str) -> tuple[Any, dict[str, list], int]:
    """(call context, publisher code → rows ready to list, how many wait for their level window)."""
    context = call_context(connection, call_id)
    rule = context.profile.notice
    if rule is None:
        return context, {}, 0
    groups, waiting = recommended_by_publisher(connection, context.call, context.final.level, rule.publisher)
    return context, groups, waiting


def _places(connection: Connection, codes) -> dict[str, Any]:
    rows = connection.execute(select(Jurisdiction.code, Jurisdiction.name, Jurisdiction.path)
                              .where(Jurisdiction.code.in_(list(codes)))).all()
    return {row.code: row for row in rows}


def pending_lists(session: Session, scope: Actor) -> list[dict[str, Any]]:
    """Recommended lists ready for 公示 that this bureau user's subtree publishes, one per (call, publisher)."""
    if scope.role not in BUREAU_ROLES or scope.jurisdiction_level is None:
        return []
    connection = session.connection()
    calls = connection.execute(select(Call.id).where(Call.status == "open").order_by(Call.opens_at.desc(), Call.id)).scalars()
    found = []
    for call_id in calls:
        rule = call_context(connection, call_id).profile.notice
        if rule is None or LEVELS.index(scope.review_level) < LEVELS.index(rule.publisher):
            continue        # a bureau below the publishing level publishes nothing: no need to gather the list
        context, groups, _ = _waiting_groups(connection, call_id)
        places = _places(connection, groups) if groups else {}
        for code, rows in sorted(groups.items()):
            if code in places and scope.covers(places[code].path):
                found.append({"call_id": call_id, "call_name": context.call.name, "jurisdiction_code": code,
                              "jurisdiction_name": places[code].name, "count": len(rows)})
    return found


def list_digest(application_ids: list[int]) -> str:
    """A short fingerprint of the previewed list: the confirmation must publish exactly that list."""
    return hashlib.sha256(",".join(map(str, sorted(application_ids))).encode()).hexdigest()[:16]


def preview(session: Session, scope: Actor, call_id: str, code: str) -> dict[str, Any]:
    """The list that ``open_notice`` would publish for ``code``, with the window it would get."""
    connection = session.connection()
    place = _places(connection, [code]).get(code)
    if place is None or not scope.covers(place.path):
        raise NotFound(f"辖区 {code} 不存在或不在您的辖区范围内")
    try:
        context, groups, waiting = _waiting_groups(connection, call_id)
    except NotFound:
        raise NotFound(f"批次 {call_id} 不存在") from None
    rule = context.profile.notice
    rows = groups.get(code, [])
    ids = [row.id for row in rows]
    entries = [dict(r) for r in connection.execute(
        select(Application.id, Application.ref, Application.score, Enterprise.name, Enterprise.uscc,
               Jurisdiction.name.label("jurisdiction_name"))
        .join(Enterprise, Enterprise.id == Application.enterprise_id)
        .join(Jurisdiction, Jurisdiction.code == Application.jurisdiction_code)
        .where(Application.id.in_(ids)).order_by(Application.ref)).mappings()] if ids else []
    closes_at, calendar_error = None, None
    if rule is not None:
        try:
            closes_at = notice_closes_at(clock.now(), rule)
        except SrdiError as exc:
            calendar_error = str(exc)
    return {"call": context.call, "rule": rule, "jurisdiction_code": code, "jurisdiction_name": place.name,
            "entries": entries, "waiting": waiting, "digest": list_digest(ids), "opens_at": clock.now(),
            "closes_at": closes_at, "calendar_error": calendar_error}


def open_previewed(connection: Connection, scope: Actor, call_id: str, code: str, digest: str) -> Optional[int]:
    """Publish the previewed list through ``open_notice``; refused if the list is no longer the one previewed."""
    _, groups, _ = _waiting_groups(connection, call_id)
    if list_digest([row.id for row in groups.get(code, [])]) != digest:
        raise Conflict("待公示名单在预览之后已发生变化，请重新预览后再确认")
    opened = open_notice(connection, call_id, jurisdiction_code=code, username=scope.username)
    return opened[0] if opened else None


def is_due(notice: dict[str, Any], now: Optional[datetime] = None) -> bool:
    """The window has ended and the notice is still open (what the scheduler's close step looks for)."""
    return notice["status"] == NoticeStatus.open and notice["closes_at"] <= (now or clock.now())


def close_when_due(connection: Connection, scope: Actor, notice_id: int) -> dict:
    """结束公示并认定: the scheduler's ``close_due_notices`` for this notice's call, by a user covering its publisher."""
    now = clock.now()
    notice = connection.execute(select(Notice).where(Notice.id == notice_id)).first()
    if notice is None:
        raise NotFound(f"公示 {notice_id} 不存在")
    bureau_actor(connection, scope.username, notice.jurisdiction_code, "结束该公示并认定")
    if notice.status != NoticeStatus.open:
        when = f"已于 {local(notice.closed_at):%Y-%m-%d %H:%M} " if notice.closed_at else "已"
        raise Conflict(f"《{notice.title}》{when}结束公示")
    if notice.closes_at > now:
        raise RuleViolation(f"《{notice.title}》公示至 {local(notice.closes_at):%Y年%m月%d日 %H:%M}（北京时间），尚未期满，不能结束")
    others = connection.execute(select(Notice.jurisdiction_code).distinct().where(
        Notice.call_id == notice.call_id, Notice.status == NoticeStatus.open, Notice.closes_at <= now)).scalars()
    for code in others:     # the step closes every due notice of the call: the user must cover each publisher
        bureau_actor(connection, scope.username, code, "结束该批次的公示并认定")
    result = close_due_notices(connection, now, calls=[notice.call_id])
    clear_block(connection, notice.call_id, CLOSE_STEP, now)
    return result


def certificates(session: Session, scope: Actor, notice_id: int) -> list[dict[str, Any]]:
    """Recognitions issued when this notice closed, for enterprises inside the subtree, in certificate order."""
    stmt = (
        select(Recognition.id, Recognition.certificate_no, Recognition.valid_from, Recognition.valid_to,
               Recognition.re_review_due, Recognition.status, Enterprise.name, Enterprise.uscc,
               Recognition.application_id)
        .join(Enterprise, Enterprise.id == Recognition.enterprise_id)
        .join(Jurisdiction, Jurisdiction.code == Enterprise.jurisdiction_code)
        .where(Recognition.notice_id == notice_id, scope.path_clause(Jurisdiction.path))
        .order_by(Recognition.certificate_no)
    )
    return [dict(r) for r in session.execute(stmt).mappings()]
