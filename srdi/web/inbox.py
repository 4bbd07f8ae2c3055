"""待我办理 (my inbox): the landing page of every user — what waits for this user's jurisdiction and role.

GET / lists the applications pending at the user's desk (with checkboxes for 批量审核) and the other
items waiting (objections, level windows, plans, tranches), each with its deadline and the working
days left; filters and sort are query parameters, so a view can be bookmarked. POST /inbox/decisions
records one decision on the ticked applications through srdi.web.actions.decide_bulk (all or none).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Optional
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from models.clock import clock
from models.errors import NotFound, SrdiError
from srdi.web import actions, inbox_items, queries
from srdi.web.auth import csrf_protect, current_user, db_session
from srdi.web.bounds import Code
from srdi.web.pages import flash, parse_filter, render
from tasks.people.actors import Actor

router = APIRouter(dependencies=[Depends(csrf_protect)], include_in_schema=False)

INBOX_SORTS = {"deadline": "审核截止", "ref": "申报编号", "name": "企业名称", "jurisdiction": "所在区县", "submitted": "申报时间",
               "score": "评分"}
SHOWN = 200
MAX_PICKS = 500


def _kind(kind: Code = None) -> Optional[str]:
    return kind if kind in inbox_items.KINDS else None


@router.get("/")
def inbox_page(request: Request, sort: Annotated[Optional[str], Query(max_length=16)] = None,
               direction: Annotated[Optional[str], Query(alias="dir", max_length=4)] = None,
               kind: Optional[str] = Depends(_kind), overdue: Annotated[Optional[str], Query(max_length=1)] = None,
               flt: queries.ApplicationFilter = Depends(parse_filter),
               scope: Actor = Depends(current_user), session: Session = Depends(db_session)):
    sort = sort if sort in INBOX_SORTS else "deadline"
    direction = "desc" if direction == "desc" else "asc"
    now = clock.now()
    apps, total = ([], 0) if kind not in (None, "application") else inbox_items.applications(
        session, scope, flt, sort, direction, now, SHOWN)
    others = inbox_items.other_items(session, scope, kind, flt.call_id)
    if overdue == "1":
        apps = [a for a in apps if a["due"].overdue]
        others = [o for o in others if o["due"].overdue]
    return render(request, "inbox.html", scope, apps=apps, total=total, shown=SHOWN, others=others, kind=kind,
                  kinds=inbox_items.KINDS, sort=sort, direction=direction, sorts=INBOX_SORTS, overdue=overdue == "1",
                  flt=flt, calls=queries.visible_calls(session, scope), back=_back(request),
                  decisions=actions.DECISION_LABELS)


def _back(request: Request) -> str:
    """Where a bulk post returns: the inbox with the same filters and sort."""
    query = urlencode(list(request.query_params.multi_items()))
    return f"/?{query}" if query else "/"


def _safe_back(value: object) -> str:
    text = value if isinstance(value, str) else "/"
    return text if text.startswith("/") and not text.startswith("//") and "\\" not in text else "/"


def parse_picks(picks: list[str], row_ids: list[str], row_scores: list[str], common: str) -> list[actions.Pick]:
    """Ticked ``pick`` values "id:version", each with its own score (``row_id``/``row_score`` pairs) or else the common one."""
    own = {i: v.strip() for i, v in zip(row_ids, row_scores)}
    out = []
    for value in picks[:MAX_PICKS]:
        app_id, _, version = value.partition(":")
        if not (app_id.isdigit() and version.isdigit()):
            raise NotFound(f"申报 {value!r} 不存在")
        text = own.get(app_id) or common.strip()
        try:
            score = Decimal(text) if text else None
        except InvalidOperation:
            raise ValueError(f"申报 {app_id} 的评分应为数字，实际为 {text!r}") from None
        out.append(actions.Pick(int(app_id), int(version), score))
    return out


@router.post("/inbox/decisions")
def bulk_decide(request: Request, decision: str = Form("", max_length=16), reason: str = Form("", max_length=2000),
                score: str = Form("", max_length=32), back: str = Form("/", max_length=2048),
                pick: list[str] = Form([]), row_id: list[str] = Form([]), row_score: list[str] = Form([]),
                scope: Actor = Depends(current_user), session: Session = Depends(db_session)):
    back = _safe_back(back)
    try:
        picks = parse_picks(pick, row_id, row_score, score)
    except ValueError as exc:
        flash(request, "error", f"批量办理未保存：{exc}")
        return RedirectResponse(back, status_code=303)
    ids = [p.application_id for p in picks]
    if ids and queries.ids_in_scope(session, scope, ids) != set(ids):
        raise NotFound("所选申报不存在或不在您的辖区范围内")
    try:
        done = actions.decide_bulk(request.app.state.engine, scope, picks, decision, reason.strip())
        flash(request, "ok", f"已记录：{actions.DECISION_LABELS[decision]} {len(done)} 件（{'、'.join(o.ref for o in done)}）")
    except NotFound:
        raise
    except SrdiError as exc:
        flash(request, "error", f"批量办理未保存，所选 {len(picks)} 件均未记录：{exc}")
    return RedirectResponse(back, status_code=303)
