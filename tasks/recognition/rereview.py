"""复核: re-review of the cohort whose re-review falls due in a year.

1. ``open_rereview`` opens a re-review call (kind ``re_review``: it runs the profile's
   ``validity.re_review.route``) and one case per active recognition due that year, and moves each
   case's deadline to the call's closing time.
2. The enterprise applies (``apply_rereview``, `srdi rereview apply`) through the ordinary intake (create_applications);
   its application climbs the re-review route, goes on 公示 and, if recognised, renews the title
   (tasks/recognition/titles.py).
3. ``settle_rereviews`` (a due step) revokes the title of every case that did not apply by the
   call's closing time (when the profile says so: ``missing_revokes``) and of every re-review
   application that ended without recognition.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Iterable, Optional

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection

from models.application import Application
from models.clock import clock, local
from models.deadline import DeadlineState
from models.enterprise import Enterprise
from models.enums import ApplicationStatus
from models.errors import NotFound, RuleViolation
from models.programme import Call
from models.recognition import Recognition, RecognitionStatus
from models.rereview import ReReviewCase, ReReviewOutcome
from models.workflow import REREVIEW
from models.workflow_writer import SystemActor, apply, initial, record_created
from tasks.people.actors import bureau_actor
from tasks.recognition.titles import rereview_key, revoke_recognitions
from tasks.reference.calls import get_profile, open_call
from tasks.reminders.deadlines import close_deadlines, register_deadlines
from tasks.review.moves import chunks

ENDED_WITHOUT_RECOGNITION = {
    ApplicationStatus.rejected: "不予推荐",
    ApplicationStatus.withdrawn: "申请人撤回",
    ApplicationStatus.quota_cut: "超出名额未获推荐",
    ApplicationStatus.lapsed: "逾期未审，视同未申报",
    ApplicationStatus.removed: "公示异议成立",
}


def cohort(connection: Connection, programme_id: str, year: int) -> list:
    """Active recognitions of the programme whose re-review falls due in ``year`` and have no case for it."""
    open_cases = select(ReReviewCase.recognition_id).join(Call, Call.id == ReReviewCase.call_id).where(Call.year == year)
    return connection.execute(
        select(Recognition.id, Recognition.enterprise_id, Recognition.certificate_no, Recognition.jurisdiction_code,
               Recognition.re_review_due, Enterprise.name)
        .join(Enterprise, Enterprise.id == Recognition.enterprise_id)
        .where(Recognition.programme_id == programme_id, Recognition.status == RecognitionStatus.active,
               Recognition.re_review_due >= date(year, 1, 1), Recognition.re_review_due <= date(year, 12, 31),
               Recognition.id.not_in(open_cases))
        .order_by(Recognition.certificate_no)
    ).all()


def open_rereview(connection: Connection, programme_id: str, year: int, closes_at: datetime, *,
                  username: Optional[str] = None, now: Optional[datetime] = None) -> dict:
    """Open the re-review call of ``year`` and a case for each member of the cohort (idempotent)."""
    now = now or clock.now()
    profile = get_profile(programme_id)
    if not (profile.validity and profile.validity.re_review):
        raise RuleViolation(f"项目规程 {programme_id} 未规定复核（validity.re_review），不能开启复核")
    actor = bureau_actor(connection, username, profile.jurisdiction, "开启复核") if username else SystemActor(profile.jurisdiction)
    if closes_at <= now:
        raise RuleViolation(f"复核申请截止时间 {local(closes_at):%Y-%m-%d %H:%M} 不晚于当前时间，请重新确定")
    members = cohort(connection, programme_id, year)
    call = open_call(connection, programme_id, year, kind="re_review", opens_at=now, closes_at=closes_at, now=now)
    if members:
        connection.execute(ReReviewCase.__table__.insert(), [
            {"recognition_id": m.id, "call_id": call.id, "application_id": None, "enterprise_id": m.enterprise_id,
             **initial(REREVIEW, "open"), "created_at": now} for m in members])
        opened = []
        for ids in chunks([m.id for m in members]):
            opened += connection.execute(select(ReReviewCase.id).where(
                ReReviewCase.call_id == call.id, ReReviewCase.recognition_id.in_(ids))).scalars().all()
        record_created(connection, REREVIEW, "open", opened, actor=actor, at=now, step_key=f"rereview:{call.id}:open")
        register_deadlines(connection, [{
            "key": rereview_key(m.id, year), "kind": "re_review", "due_at": call.closes_at,
            "title": f"{m.name}须于{local(call.closes_at):%Y年%m月%d日 %H:%M}前申请复核（证书 {m.certificate_no}）",
            "jurisdiction_code": m.jurisdiction_code, "enterprise_id": m.enterprise_id, "call_id": call.id,
            "subject": f"recognition:{m.id}"} for m in members])
    return {"call_id": call.id, "cases_opened": len(members), "closes_at": local(call.closes_at)}


def _rereview_call(connection: Connection, call_id: str):
    call = connection.execute(select(Call).where(Call.id == call_id)).first()
    if call is None:
        raise NotFound(f"批次 {call_id} 不存在")
    if call.kind != "re_review":
        raise RuleViolation(f"批次 {call_id} 不是复核批次")
    return call


def rereview_records(connection: Connection, usccs: Iterable[str]) -> list[dict]:
    """Intake records for cohort enterprises built from their stored details (one query).

    A code srdi does not know stays a bare ``{"uscc": …}`` so that ``apply_rereview`` names it.
    """
    codes = list(dict.fromkeys(usccs))
    e = Enterprise.__table__.c
    known: dict[str, dict] = {}
    for chunk in chunks(codes):
        known.update({row.uscc: dict(row._mapping) for row in connection.execute(
            select(e.uscc, e.name, e.size, e.industry_code, e.jurisdiction_code, e.registered_on, e.listed_board)
            .where(e.uscc.in_(chunk)))})
    return [known.get(code, {"uscc": code}) for code in codes]


def apply_rereview(connection: Connection, call_id: str, records: list[dict], actor: str,
                   now: Optional[datetime] = None) -> dict:
    """申请复核: cohort enterprises apply through the ordinary intake; each case gets its application."""
    from tasks.intake.applications import create_applications

    now = now or clock.now()
    call = _rereview_call(connection, call_id)
    cases = dict(connection.execute(
        select(Enterprise.uscc, ReReviewCase.id).join(Enterprise, Enterprise.id == ReReviewCase.enterprise_id)
        .where(ReReviewCase.call_id == call.id, ReReviewCase.outcome == ReReviewOutcome.pending,
               ReReviewCase.application_id.is_(None))).all())
    strays = [str(r.get("uscc")) for r in records if r.get("uscc") not in cases]
    if strays:
        raise RuleViolation(f"以下企业不在本次复核名单中（或已申请）：{'、'.join(strays[:20])}")
    result = create_applications(connection, call.id, records, actor, now)
    links = [{"cid": cases[uscc], "aid": app_id} for uscc, app_id in result.applications.items()]
    table = ReReviewCase.__table__
    connection.execute(update(table).where(table.c.id == bindparam("cid")).values(application_id=bindparam("aid")), links)
    keys = connection.execute(
        select(ReReviewCase.recognition_id).where(ReReviewCase.id.in_([link["cid"] for link in links]))).scalars().all()
    close_deadlines(connection, [rereview_key(r, call.year) for r in keys], DeadlineState.met, at=now)
    return {"call_id": call.id, "applied": len(links)}


def settle_rereviews(connection: Connection, now: Optional[datetime] = None) -> dict:
    """Due step: absent cases after the call closed, and applications that ended unrecognised."""
    now = now or clock.now()
    absent = connection.execute(
        select(ReReviewCase.id, ReReviewCase.recognition_id, Call.programme_id, Call.year, Call.closes_at)
        .join(Call, Call.id == ReReviewCase.call_id)
        .where(ReReviewCase.outcome == ReReviewOutcome.pending, ReReviewCase.application_id.is_(None),
               Call.closes_at <= now)
    ).all()
    failed = connection.execute(
        select(ReReviewCase.id, ReReviewCase.recognition_id, Call.programme_id, Call.year, Application.status)
        .join(Call, Call.id == ReReviewCase.call_id).join(Application, Application.id == ReReviewCase.application_id)
        .where(ReReviewCase.outcome == ReReviewOutcome.pending, Application.status.in_(list(ENDED_WITHOUT_RECOGNITION)))
    ).all()
    _decide(connection, absent, "absent", now)
    _decide(connection, failed, "fail", now)
    reasons: dict[str, list[int]] = defaultdict(list)
    profiles = {pid: get_profile(pid) for pid in {case.programme_id for case in absent}}
    for case in absent:
        if profiles[case.programme_id].validity.re_review.missing_revokes:
            reasons[f"未在{local(case.closes_at):%Y年%m月%d日 %H:%M}前申请复核，撤销称号"].append(case.recognition_id)
    for case in failed:
        reasons[f"复核不合格（{ENDED_WITHOUT_RECOGNITION[ApplicationStatus(case.status)]}），撤销称号"].append(case.recognition_id)
    revoked = sum(revoke_recognitions(connection, ids, reason, now) for reason, ids in sorted(reasons.items()))
    close_deadlines(connection, [rereview_key(c.recognition_id, c.year) for c in absent], DeadlineState.missed, at=now)
    return {"rereview_absent": len(absent), "rereview_failed": len(failed), "rereview_revoked": revoked}


def _decide(connection: Connection, cases: list, action: str, now: datetime) -> None:
    """The pending cases among ``cases`` take ``action`` (absent / fail) of models/workflow.py REREVIEW."""
    apply(connection, REREVIEW, action, [case.id for case in cases], actor=SystemActor(), at=now, values={"decided_at": now},
          skip_others=True)


def rereview_cases(connection: Connection, call_id: str) -> list[dict]:
    rows = connection.execute(
        select(ReReviewCase.id, Recognition.certificate_no, Enterprise.uscc, Enterprise.name, ReReviewCase.outcome,
               Application.ref.label("application"), Application.status.label("application_status"))
        .join(Recognition, Recognition.id == ReReviewCase.recognition_id)
        .join(Enterprise, Enterprise.id == ReReviewCase.enterprise_id)
        .outerjoin(Application, Application.id == ReReviewCase.application_id)
        .where(ReReviewCase.call_id == call_id).order_by(Recognition.certificate_no)
    ).all()
    return [dict(r._mapping) for r in rows]
