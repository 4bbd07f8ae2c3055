"""惩戒: a ban on applying after false information (提供虚假材料), for the profile's Ban.years.

The ban revokes the enterprise's titles under the programme and sets ``Enterprise.banned_until``
(the last banned day, inclusive), which intake (tasks/intake/applications.py) checks: an application
from a banned enterprise is refused until that day has passed. Every ban is kept as a Sanction row.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Optional

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from models.clock import clock, local
from models.enterprise import Enterprise, normalise_uscc
from models.errors import NotFound, RuleViolation
from models.recognition import Recognition, RecognitionStatus
from models.sanction import Sanction
from tasks.people.actors import bureau_actor
from tasks.recognition.titles import add_years, revoke_recognitions
from tasks.reference.calls import get_profile
from tasks.review.moves import chunks


def find_enterprise(connection: Connection, uscc: str):
    code = normalise_uscc(uscc)
    row = connection.execute(select(Enterprise).where(Enterprise.uscc == code)).first()
    if row is None:
        raise NotFound(f"统一社会信用代码 {code} 对应的企业不存在")
    return row


def ban_enterprise(connection: Connection, uscc: str, programme_id: str, reason: str, username: str,
                   now: Optional[datetime] = None) -> dict:
    """禁止申报: ban for the programme's Ban.years from today and revoke its titles under the programme."""
    now = now or clock.now()
    if not reason or not reason.strip():
        raise RuleViolation("须写明禁止申报的事实和理由")
    profile = get_profile(programme_id)
    if profile.ban is None:
        raise RuleViolation(f"项目规程 {programme_id} 未规定禁止申报年限（ban），不能据此作出禁止申报")
    enterprise = find_enterprise(connection, uscc)
    actor = bureau_actor(connection, username, profile.jurisdiction, "作出禁止申报决定")
    starts_on = local(now).date()
    until = add_years(starts_on, profile.ban.years) - timedelta(days=1)
    reason = reason.strip()
    connection.execute(Sanction.__table__.insert().values(
        enterprise_id=enterprise.id, programme_id=programme_id, kind="ban", reason=reason, starts_on=starts_on,
        banned_until=until, decided_by=actor.username, decided_at=now, cite=profile.ban.cite))
    in_force = max(until, enterprise.banned_until) if enterprise.banned_until else until
    connection.execute(update(Enterprise).where(Enterprise.id == enterprise.id)
                       .values(banned_until=in_force, ban_reason=f"提供虚假材料：{reason}"))
    titles = connection.execute(
        select(Recognition.id).where(Recognition.enterprise_id == enterprise.id, Recognition.programme_id == programme_id,
                                     Recognition.status == RecognitionStatus.active)).scalars().all()
    revoked = revoke_recognitions(
        connection, titles, f"提供虚假材料，撤销称号，{profile.ban.years}年内（至{until}）不得申报：{reason}", now, actor=actor)
    return {"enterprise": enterprise.uscc, "banned_until": in_force, "revoked": revoked}


def banned_until(connection: Connection, enterprise_ids: list[int], on: Optional[date] = None) -> dict[int, date]:
    """The enterprises among ``enterprise_ids`` banned on ``on`` (default today), with their last banned day."""
    on = on or clock.today()
    found: dict[int, date] = {}
    for ids in chunks(sorted(set(enterprise_ids))):
        found.update(connection.execute(
            select(Enterprise.id, Enterprise.banned_until).where(Enterprise.id.in_(ids), Enterprise.banned_until >= on)).all())
    return found
