"""Filings after recognition in the browser: certificates (认定证书), re-review (复核) and name-change (更名) filings.

Every change goes through the function `srdi rereview open/apply` and `srdi recognition rename` call
(tasks/recognition/rereview.py, tasks/recognition/name_change.py): who may open a re-review, which
enterprises may apply and who may file a change of name are decided there. The pages show only
what lies in the user's subtree (404 outside it) and offer only what the user's role may do.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Optional
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from models.clock import SHANGHAI, clock, parse_instant
from models.errors import RuleViolation, SrdiError
from srdi.web import recognition_queries as rq
from srdi.web.auth import csrf_protect, current_user, db_session
from srdi.web.bounds import MAX_CODE, Code, PageNumber, PerPage, RowId, SearchText
from srdi.web.pages import flash, render
from srdi.web.queries import PER_PAGE, child_jurisdictions
from tasks.people.actors import BUREAU_ROLES, Actor

router = APIRouter(dependencies=[Depends(csrf_protect)], include_in_schema=False)

YearParam = Annotated[Optional[int], Query(ge=2000, le=2100, description="年度")]
NAME_CHANGE_LABELS = {"pending": "待备案", "filed": "按期备案", "late": "逾期备案（视为放弃资格）", "waived": "逾期未备案（视为放弃资格）"}


def parse_filter(programme: Code = None, status: Code = None, jurisdiction: Code = None,
                 due: YearParam = None, q: SearchText = None) -> rq.RecognitionFilter:
    return rq.RecognitionFilter(programme=programme or None, status=status if status in rq.RECOGNITION_STATUSES else None,
                                jurisdiction=jurisdiction or None, due=due, q=(q or "").strip() or None)


@router.get("/recognitions")
def recognitions_page(request: Request, page: PageNumber = 1, per_page: PerPage = PER_PAGE,
                      flt: rq.RecognitionFilter = Depends(parse_filter),
                      scope: Actor = Depends(current_user), session: Session = Depends(db_session)):
    """认定证书: certificates of the enterprises in the subtree, filtered in the URL, numbered pages."""
    return render(request, "recognitions.html", scope, page=rq.list_recognitions(session, scope, flt, page, per_page),
                  flt=flt, programmes=rq.recognised_programmes(session), statuses=rq.RECOGNITION_STATUSES,
                  jurisdictions=child_jurisdictions(session, scope), may_file=scope.role in BUREAU_ROLES)


def parse_changed_on(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise RuleViolation(f"更名日期 {text!r} 无效，应为日期 YYYY-MM-DD") from None


@router.get("/recognitions/{recognition_id}/rename")
def rename_page(request: Request, recognition_id: RowId, scope: Actor = Depends(current_user),
                session: Session = Depends(db_session)):
    """更名备案: the filing form and the enterprise's earlier filings."""
    title = rq.recognition_in_scope(session, scope, recognition_id)
    return render(request, "recognition_rename.html", scope, title=title,
                  filings=rq.name_changes_of(session, title["enterprise_id"]), labels=NAME_CHANGE_LABELS)


@router.post("/recognitions/{recognition_id}/rename")
def rename(request: Request, recognition_id: RowId, new_name: str = Form("", max_length=128),
           changed_on: str = Form("", max_length=32), scope: Actor = Depends(current_user),
           session: Session = Depends(db_session)):
    from tasks.recognition.name_change import file_name_change

    title = rq.recognition_in_scope(session, scope, recognition_id)     # 404 outside the subtree
    try:
        with request.app.state.engine.begin() as connection:
            result = file_name_change(connection, title["uscc"], new_name, parse_changed_on(changed_on), scope.username)
        text = f"已登记更名备案：按期备案 {result['filed']} 项"
        if result["late"]:
            text += f"；逾期 {result['late']} 项，按规定视为自动放弃资格、撤销称号 {result['revoked']} 项"
        flash(request, "ok" if not result["late"] else "error", text)
    except SrdiError as exc:
        flash(request, "error", str(exc))
    return RedirectResponse(f"/recognitions/{recognition_id}/rename", status_code=303)


def parse_closes(text: str) -> datetime:
    """YYYY-MM-DD[THH:MM] on the Beijing clock; a bare date means the end of that day (as `srdi rereview open`)."""
    text = text.strip()
    try:
        if "T" in text or " " in text:
            return parse_instant(text)
        return datetime.combine(date.fromisoformat(text), time(23, 59, 59), tzinfo=SHANGHAI)
    except ValueError:
        raise RuleViolation(f"复核申请截止时间 {text!r} 无效，应为 YYYY-MM-DD 或 YYYY-MM-DDTHH:MM（北京时间）") from None


@router.get("/rereview")
def rereview_page(request: Request, programme: Code = None, year: YearParam = None,
                  scope: Actor = Depends(current_user), session: Session = Depends(db_session)):
    """复核: the re-review calls in the subtree; for the programme's own bureau, the cohort preview and the opening form."""
    programmes = rq.rereview_programmes(session, scope)
    chosen = next((p for p in programmes if p["id"] == programme), None)
    cohort = rq.cohort_in_scope(session, scope, chosen["id"], year) if chosen and year else None
    return render(request, "rereview.html", scope, calls=rq.rereview_calls(session, scope), programmes=programmes,
                  chosen=chosen, year=year or clock.today().year, cohort=cohort)


@router.post("/rereview/open")
def rereview_open(request: Request, programme: str = Form(..., max_length=MAX_CODE), year: int = Form(..., ge=2000, le=2100),
                  closes: str = Form("", max_length=32), scope: Actor = Depends(current_user)):
    from tasks.recognition.rereview import open_rereview

    back = f"/rereview?{urlencode({'programme': programme, 'year': year})}"
    try:
        with request.app.state.engine.begin() as connection:
            result = open_rereview(connection, programme, year, parse_closes(closes), username=scope.username)
    except SrdiError as exc:
        flash(request, "error", str(exc))
        return RedirectResponse(back, status_code=303)
    flash(request, "ok", f"已开启复核批次：新增复核名单 {result['cases_opened']} 家，申请截止 {result['closes_at']:%Y-%m-%d %H:%M}")
    return RedirectResponse(f"/rereview/{result['call_id']}" if result["cases_opened"] else back, status_code=303)


@router.get("/rereview/{call_id}")
def rereview_call_page(request: Request, call_id: str, scope: Actor = Depends(current_user),
                       session: Session = Depends(db_session)):
    """A re-review call: its cases in the subtree and, for bureau users, who applies (申请复核)."""
    call = rq.rereview_call(session, scope, call_id[:MAX_CODE])
    cases = rq.rereview_cases(session, scope, call["id"])
    return render(request, "rereview_call.html", scope, call=call, cases=cases, outcomes=rq.OUTCOME_LABELS,
                  may_apply=scope.role in BUREAU_ROLES and call["status"] == "open"
                  and any(c["application_id"] is None and c["outcome"] == "pending" for c in cases))


@router.post("/rereview/{call_id}/apply")
def rereview_apply(request: Request, call_id: str, uscc: list[str] = Form(default=[]),
                   scope: Actor = Depends(current_user), session: Session = Depends(db_session)):
    from tasks.recognition.rereview import apply_rereview, rereview_records

    call = rq.rereview_call(session, scope, call_id[:MAX_CODE])          # 404 outside the subtree
    codes = [code.strip()[:32] for code in uscc[:5000] if code.strip()]
    try:
        if not codes:
            raise RuleViolation("请选择申请复核的企业")
        with request.app.state.engine.begin() as connection:
            result = apply_rereview(connection, call["id"], rereview_records(connection, codes), scope.username)
        flash(request, "ok", f"已登记复核申请 {result['applied']} 家，进入复核审核")
    except SrdiError as exc:
        flash(request, "error", str(exc))
    return RedirectResponse(f"/rereview/{call['id']}", status_code=303)
