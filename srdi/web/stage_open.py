"""开启申报批次 in the browser: what ``srdi call open`` does, for a provincial or ministry administrator or clerk.

The programme is chosen among those organised by the user's own jurisdiction (a provincial department
runs its province's programmes, the ministry the national ones); the call is opened through
``tasks.reference.calls.open_call``, which validates the dates and leaves an existing call unchanged.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from models.clock import clock, local, parse_instant
from models.errors import NotFound, SrdiError
from srdi.web.auth import csrf_protect, current_user, db_session
from srdi.web.pages import flash, render
from srdi.web.stage_scope import may_open_calls
from tasks.people.actors import Actor
from tasks.reference.calls import CALL_KINDS, open_call
from tasks.reference.programmes import load_all

router = APIRouter(dependencies=[Depends(csrf_protect)], include_in_schema=False)

KIND_LABELS = {"recognition": "认定申报", "re_review": "复核"}


def programmes_for(scope: Actor) -> list[dict[str, Any]]:
    """The programmes the user's jurisdiction organises (their profile's ``jurisdiction``), by id."""
    return [{"id": p.id, "name": p.name, "has_deadline": p.applicant_deadline is not None}
            for p in sorted(load_all().values(), key=lambda p: p.id) if p.jurisdiction == scope.jurisdiction_code]


def _opener(scope: Actor) -> list[dict[str, Any]]:
    """The programmes this user may open calls of; NotFound when the user opens no calls at all."""
    if not may_open_calls(scope):
        raise NotFound("开启申报批次须为省级或部级主管部门的管理员或经办人")
    return programmes_for(scope)


@router.get("/stages/open-call")
def open_call_form(request: Request, scope: Actor = Depends(current_user)):
    return render(request, "stage_open_call.html", scope, programmes=_opener(scope), kinds=KIND_LABELS,
                  year=local(clock.now()).year)


def _when(text: str, field: str) -> Optional[datetime]:
    if not text.strip():
        return None
    try:
        return parse_instant(text)
    except ValueError:
        raise SrdiError(f"{field}“{text}”无效，应为 年-月-日 时:分（北京时间）") from None


@router.post("/stages/open-call")
def open_call_submit(request: Request, programme: str = Form(..., max_length=64), year: int = Form(..., ge=2000, le=2100),
                     batch: str = Form("", max_length=4), kind: str = Form("recognition", max_length=16),
                     name: str = Form("", max_length=128), opens_at: str = Form("", max_length=32),
                     closes_at: str = Form("", max_length=32), scope: Actor = Depends(current_user),
                     session: Session = Depends(db_session)):
    allowed = {p["id"] for p in _opener(scope)}
    try:
        if programme not in allowed:
            raise SrdiError(f"申报项目 {programme} 不由{scope.jurisdiction_name}组织，不能在此开启")
        if kind not in CALL_KINDS:
            raise SrdiError(f"批次类型应为 {' / '.join(KIND_LABELS.values())}")
        if batch.strip() and not (batch.strip().isdigit() and 1 <= int(batch) <= 99):
            raise SrdiError(f"批次“{batch}”无效，应为 1–99 的整数或留空")
        opens, closes = _when(opens_at, "开始受理时间"), _when(closes_at, "申报截止时间")
        now = clock.now()
        with request.app.state.engine.begin() as connection:
            call = open_call(connection, programme, year, batch=int(batch) if batch.strip() else None, kind=kind,
                             name=name.strip() or None, opens_at=opens, closes_at=closes, now=now)
    except SrdiError as exc:
        flash(request, "error", str(exc))
        return RedirectResponse("/stages/open-call", status_code=303)
    ends = f"，申报截止 {local(call.closes_at):%Y-%m-%d %H:%M}" if call.closes_at else ""
    already = "该批次此前已开启，未作改动：" if call.created_at != now else "已开启"
    flash(request, "ok", f"{already}批次 {call.id}：{call.name}（{local(call.opens_at):%Y-%m-%d %H:%M} 起受理{ends}）")
    return RedirectResponse("/stages", status_code=303)
