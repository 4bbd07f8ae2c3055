"""结束审核 in the browser: a quota preview of one level window, then an explicit confirmation.

The preview (tasks/review/close_preview.py) runs the level close's own plan without writing: the
ranked candidates with score and category, the quota's caps, who goes up and who is cut and why. The
confirmation calls ``tasks.review.level_close.close_level`` (as ``srdi pipeline close-level`` does) in
one transaction, after checking that the plan is still the one the user saw (else nothing changes and
the new preview is shown). A window outside the user's subtree is 404; the confirm button appears only
at the user's own desk and only when the window may close now.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi import Path as PathParam
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from models.clock import clock
from models.enums import ReviewLevel
from models.errors import NotFound, SrdiError
from srdi.web.auth import csrf_protect, current_user, db_session
from srdi.web.bounds import MAX_CODE
from srdi.web.pages import flash, render
from srdi.web.queries import visible_jurisdiction
from srdi.web.render import label
from srdi.web.stage_scope import visible_call
from tasks.people.actors import Actor
from tasks.review.close_preview import ClosePreview, preview_close
from tasks.review.quota import RANK_LABELS

router = APIRouter(dependencies=[Depends(csrf_protect)], include_in_schema=False)

Segment = Annotated[str, PathParam(max_length=MAX_CODE)]
OUTCOME_LABELS = {"forwarded": "报送上级", "escalated": "逾期报送上级", "quota_cut": "超出名额", "lapsed": "视同未申报",
                  "kept": "本级推荐（终审）", "over_soft_quota": "超出建议名额"}


def _preview(request: Request, session: Session, scope: Actor, call_id: str, level: str, code: str) -> ClosePreview:
    """The preview of a window whose desk lies in the user's subtree, else NotFound."""
    visible_call(session, scope, call_id)
    visible_jurisdiction(session, scope, code)
    if level not in ReviewLevel.__members__:
        raise NotFound(f"审核层级 {level} 不存在")
    try:
        with request.app.state.engine.connect() as connection:
            return preview_close(connection, call_id, level, code, clock.now())
    except SrdiError as exc:   # no such window (nothing reached that desk), or a level off the call's route
        raise NotFound(str(exc)) from None


def close_url(call_id: str, level: str, code: str) -> str:
    return f"/stages/calls/{call_id}/close/{level}/{code}"


@router.get("/stages/calls/{call_id}/close/{level}/{code}")
def close_preview_page(request: Request, call_id: Segment, level: Segment, code: Segment,
                       scope: Actor = Depends(current_user), session: Session = Depends(db_session)):
    preview = _preview(request, session, scope, call_id, level, code)
    own_desk = code == scope.jurisdiction_code
    return render(request, "stage_close.html", scope, p=preview, own_desk=own_desk,
                  may_confirm=own_desk and not preview.closed and preview.why_not is None,
                  action=close_url(call_id, level, code), rank_labels=RANK_LABELS, outcome_labels=OUTCOME_LABELS)


@router.post("/stages/calls/{call_id}/close/{level}/{code}")
def close_confirm(request: Request, call_id: Segment, level: Segment, code: Segment,
                  fingerprint: str = Form(..., max_length=64), scope: Actor = Depends(current_user),
                  session: Session = Depends(db_session)):
    from tasks.review.level_close import close_level

    _preview(request, session, scope, call_id, level, code)   # 404 outside the subtree, before anything else
    back = close_url(call_id, level, code)
    now = clock.now()
    try:
        with request.app.state.engine.begin() as connection:
            current = preview_close(connection, call_id, level, code, now)
            if not current.closed and current.why_not is None and current.fingerprint != fingerprint:
                raise SrdiError("预览之后名单已有变化（有新的审核决定或申报到达），本次未结束；请核对下方新的预览后再确认")
            result = close_level(connection, call_id, level, code, now, closed_by=scope.username)
    except NotFound:
        raise
    except SrdiError as exc:
        flash(request, "error", str(exc))
        return RedirectResponse(back, status_code=303)
    if result.get("already_closed"):
        flash(request, "ok", f"{current.jurisdiction_name}{label(level)}审核此前已结束，未作改动")
    else:
        moved = "，".join(f"{text} {result[key]} 件" for key, text in OUTCOME_LABELS.items() if result.get(key))
        flash(request, "ok", f"已结束{current.jurisdiction_name}{label(level)}审核：{moved or '无申报变动'}")
    return RedirectResponse(back, status_code=303)
