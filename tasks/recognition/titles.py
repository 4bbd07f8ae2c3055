"""认定: recognitions issued when a notice closes, their validity, revocation and expiry.

Certificate numbers are ``{PROGRAMME-ID}-{year}-{seq:05d}``: the year the notice closed, and a
sequence per programme and year given in list order — deterministic and unique (the column is
unique in SQL, so two concurrent runs cannot hand out one number twice). A recognition that
passes re-review (复核) is a new recognition renewing the old one from the day after it ends.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Optional

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.engine import Connection

from models.clock import SHANGHAI, clock, local
from models.deadline import Deadline, DeadlineState
from models.enterprise import Enterprise
from models.enums import Role
from models.errors import NotFound, RuleViolation
from models.id_list import in_list
from models.profile import Profile
from models.programme import Call
from models.recognition import Recognition, RecognitionStatus
from models.rereview import ReReviewCase
from models.workflow import RECOGNITION, REREVIEW
from models.workflow_writer import Actor, SystemActor, apply, initial, record_created
from tasks.people.actors import bureau_actor
from tasks.reference.calls import get_profile
from tasks.reminders.deadlines import close_deadlines, register_deadlines
from tasks.review.moves import chunks

END_OF_DAY = time(23, 59, 59)


def add_years(day: date, years: int) -> date:
    """The same calendar day ``years`` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def end_of_day(day: date) -> datetime:
    return datetime.combine(day, END_OF_DAY, tzinfo=SHANGHAI)


def certificate_prefix(programme_id: str) -> str:
    return programme_id.upper()


def _next_sequence(connection: Connection, prefix: str, year: int) -> int:
    last = connection.execute(
        select(func.max(Recognition.certificate_no)).where(Recognition.certificate_no.like(f"{prefix}-{year}-%"))
    ).scalar()
    return int(last.rsplit("-", 1)[1]) + 1 if last else 1


def rereview_key(recognition_id: int, year: int) -> str:
    """Deadline key of one re-review cycle (复核) of a recognition: due in ``year``."""
    return f"rereview:{recognition_id}:{year}"


def issue_recognitions(connection: Connection, notice, listed: list[tuple[int, int]], now: datetime) -> list[int]:
    """Recognise (application id, enterprise id) pairs listed on a closed notice, in list order.

    A re-review application renews the title it re-reviews: at expiry a new recognition from the
    day after the old one ends; a periodic re-review within the validity (北京: 每年复评) only moves
    the old one's next re-review date. A profile without ``validity`` confers no title: nothing is
    issued (its applications are still recognised on the list).
    """
    if not listed:
        return []
    profile = get_profile(notice.programme_id)
    if profile.validity is None:
        return []   # a list that confers no title (e.g. 重点"小巨人" funding selection): no certificate
    issued: list[int] = []
    for part in chunks(listed, ISSUE_AT_ONCE):    # bounded memory; certificate numbers continue from part to part
        issued += _issue(connection, notice, profile, part, now)
    return issued


ISSUE_AT_ONCE = 5000


def _issue(connection: Connection, notice, profile: Profile, listed: list[tuple[int, int]], now: datetime) -> list[int]:
    renewals = _renewals(connection, [app_id for app_id, _ in listed])
    interim = {app_id: case for app_id, case in renewals.items() if case.re_review_due and case.re_review_due < case.valid_to}
    fresh = [(app_id, enterprise_id) for app_id, enterprise_id in listed if app_id not in interim]
    issued = _insert(connection, notice, profile, fresh, renewals, now) if fresh else []
    _extend(connection, profile, interim)
    new_ids = {row.application_id: row.id for row in issued}
    new_ids.update({app_id: case.recognition_id for app_id, case in interim.items()})
    _settle_renewals(connection, renewals, new_ids, now)
    return [row.id for row in issued]


def _insert(connection: Connection, notice, profile: Profile, listed: list, renewals: dict, now: datetime) -> list:
    re_review = profile.validity.re_review
    recognised_on = local(notice.closes_at).date()
    prefix = certificate_prefix(notice.programme_id)
    first = _next_sequence(connection, prefix, recognised_on.year)
    rows = []
    for i, (app_id, enterprise_id) in enumerate(listed):
        renewal = renewals.get(app_id)
        valid_from = renewal.valid_to + timedelta(days=1) if renewal else recognised_on
        rows.append({
            "certificate_no": f"{prefix}-{recognised_on.year}-{first + i:05d}",
            "enterprise_id": enterprise_id, "programme_id": notice.programme_id, "tier": profile.tier,
            "call_id": notice.call_id, "application_id": app_id, "jurisdiction_code": notice.jurisdiction_code,
            "valid_from": valid_from, "valid_to": add_years(valid_from, profile.validity.years) - timedelta(days=1),
            "re_review_due": add_years(valid_from, re_review.every_years) - timedelta(days=1) if re_review else None,
            "notice_id": notice.id, "renews_id": renewal.recognition_id if renewal else None, "created_at": now,
            **initial(RECOGNITION, "issue"),
        })
    connection.execute(Recognition.__table__.insert(), rows)   # one executemany, logged below in one INSERT … SELECT
    issued = _by_ids(connection, Recognition.application_id, [app_id for app_id, _ in listed])
    record_created(connection, RECOGNITION, "issue", [row.id for row in issued], actor=SystemActor(notice.jurisdiction_code),
                   at=now, step_key=f"notice:{notice.id}:close")
    if re_review:
        _register_rereview_due(connection, profile, issued)
    return issued


def _extend(connection: Connection, profile: Profile, interim: dict) -> None:
    if not interim:
        return
    every = profile.validity.re_review.every_years
    moves = [{"rid": case.recognition_id,
              "due": min(add_years(case.re_review_due + timedelta(days=1), every) - timedelta(days=1), case.valid_to)}
             for case in interim.values()]
    table = Recognition.__table__
    connection.execute(update(table).where(table.c.id == bindparam("rid")).values(re_review_due=bindparam("due")), moves)
    _register_rereview_due(connection, profile, _by_ids(connection, Recognition.id, [m["rid"] for m in moves]))


def _renewals(connection: Connection, application_ids: list[int]) -> dict:
    found = {}
    for ids in chunks(application_ids, 5000):
        for row in connection.execute(
            select(ReReviewCase.id, ReReviewCase.application_id, ReReviewCase.recognition_id, Recognition.valid_to,
                   Recognition.re_review_due, Call.year)
            .join(Recognition, Recognition.id == ReReviewCase.recognition_id)
            .join(Call, Call.id == ReReviewCase.call_id)
            .where(in_list(ReReviewCase.application_id, "ids")), {"ids": ids}
        ):
            found[row.application_id] = row
    return found


def _by_ids(connection: Connection, column, ids: list[int]) -> list:
    rows = []
    for chunk in chunks(ids, 5000):
        rows += connection.execute(
            select(Recognition.id, Recognition.application_id, Recognition.enterprise_id, Recognition.certificate_no,
                   Recognition.re_review_due, Recognition.jurisdiction_code, Enterprise.name)
            .join(Enterprise, Enterprise.id == Recognition.enterprise_id)
            .where(in_list(column, "ids")), {"ids": chunk}
        ).all()
    return rows


def _register_rereview_due(connection: Connection, profile: Profile, issued: list) -> None:
    register_deadlines(connection, [{
        "key": rereview_key(row.id, row.re_review_due.year), "kind": "re_review",
        "due_at": end_of_day(row.re_review_due),
        "title": f"{row.name}「{profile.name}」认定复核到期（证书 {row.certificate_no}）",
        "jurisdiction_code": row.jurisdiction_code, "enterprise_id": row.enterprise_id,
        "subject": f"recognition:{row.id}",
    } for row in issued])


def _settle_renewals(connection: Connection, renewals: dict, new_ids: dict[int, int], now: datetime) -> None:
    if not renewals:
        return
    apply(connection, REREVIEW, "pass", [case.id for case in renewals.values()], actor=SystemActor(), at=now,
          values={"decided_at": now},
          row_values={case.id: {"renewed_recognition_id": new_ids[app_id]} for app_id, case in renewals.items()})
    close_deadlines(connection, [rereview_key(case.recognition_id, case.year) for case in renewals.values()],
                    DeadlineState.met, at=now)


def cancel_rereview_deadlines(connection: Connection, recognition_ids: list[int], now: datetime,
                              state: DeadlineState = DeadlineState.cancelled) -> int:
    """Close the open re-review deadlines of these recognitions (revoked: nothing left to re-review)."""
    keys = []
    for chunk in chunks([f"recognition:{i}" for i in recognition_ids]):
        keys += connection.execute(select(Deadline.key).where(
            Deadline.subject.in_(chunk), Deadline.kind == "re_review", Deadline.state == DeadlineState.open)).scalars().all()
    return close_deadlines(connection, keys, state, at=now)


def revoke_recognitions(connection: Connection, recognition_ids: list[int], reason: str, now: datetime,
                        actor: Optional[Actor] = None) -> int:
    """Revoke the active recognitions among ``recognition_ids`` (already revoked ones are left alone);
    ``actor`` is the bureau user deciding it, by default the pipeline step (``system``)."""
    if not reason or not reason.strip():
        raise RuleViolation("撤销认定必须写明理由")
    actor = actor or SystemActor()
    revoked = apply(connection, RECOGNITION, "revoke", recognition_ids, actor=actor, at=now, reason=reason.strip(),
                    values={"revoked_at": now, "revoked_reason": reason.strip(), "revoked_by": actor.username},
                    jurisdiction_column="jurisdiction_code" if actor.role == Role.system else None, skip_others=True)
    cancel_rereview_deadlines(connection, revoked.ids, now)
    return revoked.count


def find_recognition(connection: Connection, certificate_no: str):
    row = connection.execute(select(Recognition).where(Recognition.certificate_no == certificate_no)).first()
    if row is None:
        raise NotFound(f"证书编号 {certificate_no} 不存在")
    return row


def revoke_recognition(connection: Connection, certificate_no: str, reason: str, username: str,
                       now: Optional[datetime] = None) -> int:
    """撤销: a bureau user covering the recognising jurisdiction revokes one title, with a reason."""
    now = now or clock.now()
    row = find_recognition(connection, certificate_no)
    actor = bureau_actor(connection, username, row.jurisdiction_code, "撤销该认定")
    if row.status != RecognitionStatus.active:
        raise RuleViolation(f"证书 {certificate_no} 当前状态为 {row.status}，不能撤销")
    revoke_recognitions(connection, [row.id], reason, now, actor=actor)
    return row.id


def expire_recognitions(connection: Connection, now: Optional[datetime] = None) -> dict:
    """期满: active recognitions whose last valid day is past become expired (set-based)."""
    now = now or clock.now()
    expired = apply(connection, RECOGNITION, "expire", where=Recognition.valid_to < local(now).date(), actor=SystemActor(),
                    at=now, jurisdiction_column="jurisdiction_code")
    return {"recognitions_expired": expired.count}


def active_recognitions(connection: Connection, tier: str, enterprise_ids: Optional[list[int]] = None,
                        on: Optional[date] = None) -> list[dict]:
    """Recognitions of ``tier`` in force on ``on`` (default: today in Beijing), one dict each.

    Used by funding to select 重点"小巨人" from the recognised 小巨人.
    """
    on = on or clock.today()
    query = (
        select(Recognition.id, Recognition.certificate_no, Recognition.enterprise_id, Recognition.programme_id,
               Recognition.tier, Recognition.call_id, Recognition.jurisdiction_code, Recognition.valid_from,
               Recognition.valid_to, Recognition.re_review_due)
        .where(Recognition.tier == tier, Recognition.status == RecognitionStatus.active,
               Recognition.valid_from <= on, Recognition.valid_to >= on)
        .order_by(Recognition.certificate_no)
    )
    if enterprise_ids is None:
        return [dict(r._mapping) for r in connection.execute(query)]
    rows = []
    for ids in chunks(sorted(set(enterprise_ids))):
        rows += [dict(r._mapping) for r in connection.execute(query.where(Recognition.enterprise_id.in_(ids)))]
    return sorted(rows, key=lambda r: r["certificate_no"])


def list_recognitions(connection: Connection, *, programme_id: Optional[str] = None, tier: Optional[str] = None,
                      status: Optional[str] = None, enterprise_id: Optional[int] = None) -> list[dict]:
    query = (select(Recognition.certificate_no, Enterprise.uscc, Enterprise.name, Recognition.programme_id,
                    Recognition.tier, Recognition.valid_from, Recognition.valid_to, Recognition.re_review_due,
                    Recognition.status, Recognition.revoked_reason)
             .join(Enterprise, Enterprise.id == Recognition.enterprise_id).order_by(Recognition.certificate_no))
    for column, value in ((Recognition.programme_id, programme_id), (Recognition.tier, tier),
                          (Recognition.status, status), (Recognition.enterprise_id, enterprise_id)):
        if value is not None:
            query = query.where(column == value)
    return [dict(r._mapping) for r in connection.execute(query)]


def recognition_detail(connection: Connection, certificate_no: str) -> dict:
    row = find_recognition(connection, certificate_no)
    enterprise = connection.execute(select(Enterprise.uscc, Enterprise.name).where(Enterprise.id == row.enterprise_id)).first()
    detail = {c: getattr(row, c) for c in Recognition.__table__.columns.keys()}
    detail.update(enterprise_uscc=enterprise.uscc, enterprise_name=enterprise.name)
    if row.revoked_at:
        detail["revoked_at"] = local(row.revoked_at)
    return detail

