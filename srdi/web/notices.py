"""公示 pages: the lists, their windows, objections, and recording an objection or its outcome;
opening a notice after a preview of its list, and ending it when due (结束公示并认定).

Entries and objections are shown only for applications inside the user's subtree. Recording goes
through ``tasks.notice.objections`` (window, actor and state are checked there, not here); opening
and closing through ``tasks.notice.publication`` (see srdi/web/notice_opening.py).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from models.application import Application
from models.enterprise import Enterprise
from models.errors import NotFound, SrdiError
from models.jurisdiction import Jurisdiction
from models.notice import Notice, NoticeEntry, Objection
from srdi.web import notice_opening
from srdi.web.auth import csrf_protect, current_user, db_session
from srdi.web.bounds import MAX_CODE, RowId
from srdi.web.pages import flash, render
from srdi.web.render import label
from tasks.people.actors import BUREAU_ROLES, Actor
from tasks.people.scope import place_in_subtree

router = APIRouter(dependencies=[Depends(csrf_protect)], include_in_schema=False)

OBJECTION_LABELS = {"open": "调查中", "upheld": "异议成立", "rejected": "异议不成立"}
EVIDENCE_MARK = "证据材料："
ENTRY_LABELS = {"listed": "公示中", "on_hold": "异议调查中", "removed": "已移出", "recognised": "已认定"}


def _ours(scope: Actor):
    """Applications inside the subtree (sub-select of ids; its own alias, so it never correlates)."""
    place = aliased(Jurisdiction)
    return (select(Application.id).join(place, place.code == Application.jurisdiction_code)
            .where(scope.path_clause(place.path)))


def visible_notices(session: Session, scope: Actor, notice_id: int | None = None) -> list[dict[str, Any]]:
    """Notices published inside the subtree or listing one of its applications, newest first."""
    entry = aliased(NoticeEntry)
    ours = _ours(scope)
    listed_here = func.count(NoticeEntry.id).filter(NoticeEntry.application_id.in_(ours))
    stmt = (
        select(Notice.id, Notice.title, Notice.call_id, Notice.level, Notice.jurisdiction_code, Notice.opens_at,
               Notice.closes_at, Notice.length, Notice.unit, Notice.status, Notice.closed_at,
               Jurisdiction.name.label("publisher_name"), listed_here.label("entries"))
        .join(Jurisdiction, Jurisdiction.code == Notice.jurisdiction_code)
        .outerjoin(NoticeEntry, NoticeEntry.notice_id == Notice.id)
        .where(or_(Notice.jurisdiction_code.in_(scope.codes()),
                   exists(select(entry.id).where(entry.notice_id == Notice.id, entry.application_id.in_(ours)))))
        .group_by(Notice.id, Jurisdiction.name)
        .order_by(Notice.opens_at.desc(), Notice.id.desc())
    )
    if notice_id is not None:
        stmt = stmt.where(Notice.id == notice_id)
    return [dict(r) for r in session.execute(stmt).mappings()]


def notice_entries(session: Session, scope: Actor, notice_id: int) -> list[dict[str, Any]]:
    stmt = (
        select(NoticeEntry.position, NoticeEntry.status, Application.id.label("application_id"), Application.ref,
               Application.status.label("application_status"), Application.eligibility_override, Enterprise.name, Enterprise.uscc,
               Jurisdiction.name.label("jurisdiction_name"))
        .join(Application, Application.id == NoticeEntry.application_id)
        .join(Enterprise, Enterprise.id == Application.enterprise_id)
        .join(Jurisdiction, Jurisdiction.code == Application.jurisdiction_code)
        .where(NoticeEntry.notice_id == notice_id, scope.path_clause(Jurisdiction.path))
        .order_by(NoticeEntry.position)
    )
    return [dict(r) for r in session.execute(stmt).mappings()]


def notice_objections(session: Session, scope: Actor, notice_id: int) -> list[dict[str, Any]]:
    stmt = (
        select(Objection.id, Objection.objector, Objection.contact, Objection.grounds, Objection.received_at,
               Objection.recorded_by, Objection.status, Objection.finding, Objection.decided_by, Objection.decided_at,
               Application.id.label("application_id"), Application.ref, Enterprise.name)
        .join(Application, Application.id == Objection.application_id)
        .join(Enterprise, Enterprise.id == Application.enterprise_id)
        .where(Objection.notice_id == notice_id, Objection.application_id.in_(_ours(scope)))
        .order_by(Objection.id)
    )
    return [dict(r) for r in session.execute(stmt).mappings()]


@router.get("/notices")
def notices_page(request: Request, scope: Actor = Depends(current_user), session: Session = Depends(db_session)):
    return render(request, "notices.html", scope, notices=visible_notices(session, scope),
                  pending=notice_opening.pending_lists(session, scope))


@router.get("/notices/preview")
def preview_page(request: Request, call: str = Query(..., max_length=MAX_CODE), jurisdiction: str = Query(..., max_length=MAX_CODE),
                 scope: Actor = Depends(current_user), session: Session = Depends(db_session)):
    """开启公示（预览）: the list as it will be published, its window, and the confirmation."""
    return render(request, "notice_open.html", scope, preview=notice_opening.preview(session, scope, call, jurisdiction))


@router.post("/notices/open")
def open_page(request: Request, call: str = Form(..., max_length=MAX_CODE), jurisdiction: str = Form(..., max_length=MAX_CODE),
              digest: str = Form(..., max_length=64), scope: Actor = Depends(current_user), session: Session = Depends(db_session)):
    notice_opening.preview(session, scope, call, jurisdiction)      # 404 outside the subtree, before anything else
    back = f"/notices/preview?{urlencode({'call': call, 'jurisdiction': jurisdiction})}"
    try:
        with request.app.state.engine.begin() as connection:
            notice_id = notice_opening.open_previewed(connection, scope, call, jurisdiction, digest)
    except SrdiError as exc:
        flash(request, "error", str(exc))
        return RedirectResponse(back, status_code=303)
    if notice_id is None:
        flash(request, "error", "没有待公示的名单（可能已由他人开启）")
        return RedirectResponse("/notices", status_code=303)
    flash(request, "ok", "已开启公示")
    return RedirectResponse(f"/notices/{notice_id}", status_code=303)


@router.get("/notices/{notice_id}")
def notice_page(request: Request, notice_id: RowId, scope: Actor = Depends(current_user),
                session: Session = Depends(db_session)):
    found = visible_notices(session, scope, notice_id)
    if not found:
        raise NotFound(f"公示 {notice_id} 不存在或不在您的辖区范围内")
    notice = found[0]
    may_record = place_in_subtree(session, scope.path, notice["jurisdiction_code"]) is not None
    return render(request, "notice.html", scope, notice=notice, entries=notice_entries(session, scope, notice_id),
                  objections=notice_objections(session, scope, notice_id), may_record=may_record,
                  may_close=may_record and scope.role in BUREAU_ROLES and notice_opening.is_due(notice),
                  certificates=notice_opening.certificates(session, scope, notice_id),
                  objection_labels=OBJECTION_LABELS, entry_labels=ENTRY_LABELS)


@router.post("/notices/{notice_id}/close")
def close(request: Request, notice_id: RowId, scope: Actor = Depends(current_user), session: Session = Depends(db_session)):
    """结束公示并认定 — refused (and nothing changes) unless the window has ended."""
    if not visible_notices(session, scope, notice_id):
        raise NotFound(f"公示 {notice_id} 不存在或不在您的辖区范围内")
    try:
        with request.app.state.engine.begin() as connection:
            result = notice_opening.close_when_due(connection, scope, notice_id)
        flash(request, "ok", f"已结束公示 {result['notices_closed']} 个，予以认定 {result['recognised']} 家")
    except SrdiError as exc:
        flash(request, "error", str(exc))
    return RedirectResponse(f"/notices/{notice_id}", status_code=303)


def with_evidence(grounds: str, evidence: str) -> str:
    """The objection table has no evidence column: the evidence named (证据材料) is kept with the grounds."""
    grounds, evidence = grounds.strip(), evidence.strip()
    return f"{grounds}\n{EVIDENCE_MARK}{evidence}" if grounds and evidence else grounds


@router.post("/notices/{notice_id}/objections")
def record(request: Request, notice_id: RowId, application_ref: str = Form(..., max_length=64),
           objector: str = Form("", max_length=128), contact: str = Form("", max_length=128),
           grounds: str = Form("", max_length=4000), evidence: str = Form("", max_length=2000),
           scope: Actor = Depends(current_user), session: Session = Depends(db_session)):
    from tasks.notice.objections import record_objection

    if not any(e["ref"] == application_ref for e in notice_entries(session, scope, notice_id)):
        raise NotFound(f"公示 {notice_id} 的名单中没有您辖区内的申报 {application_ref}")
    try:
        with request.app.state.engine.begin() as connection:
            record_objection(connection, application_ref, objector=objector, contact=contact,
                             grounds=with_evidence(grounds, evidence), username=scope.username)
        flash(request, "ok", f"已登记对 {application_ref} 的异议，该申报暂停公示、进入调查")
    except SrdiError as exc:
        flash(request, "error", str(exc))
    return RedirectResponse(f"/notices/{notice_id}", status_code=303)


@router.post("/objections/{objection_id}/outcome")
def resolve(request: Request, objection_id: RowId, outcome: str = Form(..., max_length=32),
            finding: str = Form("", max_length=4000),
            scope: Actor = Depends(current_user), session: Session = Depends(db_session)):
    from tasks.notice.objections import resolve_objection

    notice_id = session.execute(
        select(Objection.notice_id).where(Objection.id == objection_id, Objection.application_id.in_(_ours(scope)))
    ).scalar()
    if notice_id is None:
        raise NotFound(f"异议 {objection_id} 不存在或不在您的辖区范围内")
    try:
        with request.app.state.engine.begin() as connection:
            result = resolve_objection(connection, objection_id, outcome, finding, scope.username)
        flash(request, "ok", f"已记录调查结论：{OBJECTION_LABELS.get(outcome, outcome)}（申报现为：{label(result['application_status'])}）")
    except SrdiError as exc:
        flash(request, "error", str(exc))
    return RedirectResponse(f"/notices/{notice_id}", status_code=303)
