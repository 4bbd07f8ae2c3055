"""HTML pages of the console: dashboard (工作台, at /dashboard — / is the inbox, srdi/web/inbox.py), application list
(申报列表), application page (申报详情)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Optional

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from models.clock import clock
from models.enums import ApplicationStatus, ReviewLevel
from models.errors import NotFound, SrdiError
from srdi.web import actions, dashboard, documents, queries
from srdi.web.auth import csrf_protect, csrf_token, current_user, db_session
from srdi.web.bounds import MAX_ID, Code, PageNumber, PerPage, RowId, SearchText
from srdi.web.charts import funnel_svg, stacked_bars_svg
from tasks.people.actors import Actor

router = APIRouter(dependencies=[Depends(csrf_protect)], include_in_schema=False)


def flash(request: Request, kind: str, text: str) -> None:
    request.session.setdefault("flash", [])
    request.session["flash"] = request.session["flash"] + [[kind, text]]


def render(request: Request, name: str, scope: Actor, status_code: int = 200, **context: Any):
    messages = request.session.pop("flash", []) if "flash" in request.session else []
    return request.app.state.templates.TemplateResponse(
        request, name,
        {"user": scope, "csrf_token": csrf_token(request), "messages": messages, **context},
        status_code=status_code,
    )


def parse_filter(call: Code = None, level: Code = None, status: Code = None, jurisdiction: Code = None,
                 q: SearchText = None) -> queries.ApplicationFilter:
    """Query parameters → filter; an unknown level or status is ignored rather than an error page."""
    return queries.ApplicationFilter(
        call_id=call or None,
        level=ReviewLevel(level) if level in ReviewLevel.__members__ else None,
        status=ApplicationStatus(status) if status in ApplicationStatus.__members__ else None,
        jurisdiction=jurisdiction or None,
        q=(q or "").strip() or None,
    )


def dashboard_data(session: Session, scope: Actor, call_id: Optional[str]) -> dict[str, Any]:
    call = dashboard.current_call(session, scope, call_id)
    cid = call.id if call else None
    counts = dashboard.counts_by_level_status(session, scope, cid)
    by_child = dashboard.counts_by_child(session, scope, cid)
    return {
        "call": call,
        "counts": counts,
        "funnel": dashboard.funnel(call, counts) if call else [],
        "by_jurisdiction": by_child,
        "deadlines": dashboard.deadlines_by_desk(session, scope),
        "notices": actions.open_notices(session, scope),
        "blocked": dashboard.blocked_steps(session, scope),
        "failed_jobs": dashboard.failed_jobs(session, scope),
    }


@router.get("/dashboard")
def dashboard_page(request: Request, call: Code = None, scope: Actor = Depends(current_user),
                   session: Session = Depends(db_session)):
    data = dashboard_data(session, scope, call)
    title = data["call"].name if data["call"] else "（暂无申报批次）"
    charts = {
        "funnel": funnel_svg(data["funnel"], f"{title}：评审漏斗"),
        "bars": stacked_bars_svg(data["by_jurisdiction"], dashboard.BUCKETS, f"{title}：按辖区分布"),
    }
    matrix = _level_status_matrix(data["counts"])
    return render(request, "dashboard.html", scope, calls=queries.visible_calls(session, scope), charts=charts,
                  matrix=matrix, **data)


def _level_status_matrix(counts: list[dict[str, Any]]) -> dict[str, Any]:
    """Rows = levels seen, columns = statuses seen, plus totals (the 分层级状态统计表)."""
    levels = [lv for lv in ReviewLevel if any(c["level"] == lv for c in counts)]
    statuses = [st for st in ApplicationStatus if any(c["status"] == st for c in counts)]
    cell = {(c["level"], c["status"]): c["count"] for c in counts}
    return {
        "levels": levels,
        "statuses": statuses,
        "cell": cell,
        "row_total": {lv: sum(cell.get((lv, st), 0) for st in statuses) for lv in levels},
        "col_total": {st: sum(cell.get((lv, st), 0) for lv in levels) for st in statuses},
        "total": sum(cell.values()),
    }


SortKey = Annotated[Optional[str], Query(max_length=16, description="排序列：" + " / ".join(queries.SORT_COLUMNS))]
SortDirection = Annotated[Optional[str], Query(alias="dir", max_length=4, description="asc / desc")]
SORT_LABELS = {"ref": "申报编号", "name": "企业名称", "uscc": "统一社会信用代码", "jurisdiction": "所在区县", "call": "批次",
               "level": "当前层级", "status": "状态", "score": "评分", "deadline": "审核截止"}


@router.get("/applications")
def application_list(request: Request, page: PageNumber = 1, per_page: PerPage = queries.PER_PAGE,
                     sort: SortKey = None, direction: SortDirection = None,
                     flt: queries.ApplicationFilter = Depends(parse_filter),
                     scope: Actor = Depends(current_user), session: Session = Depends(db_session)):
    result = queries.list_applications(session, scope, flt, page, per_page, sort, direction or "asc")
    return render(request, "applications.html", scope, page=result, flt=flt, export_query=flt.query_string(),
                  sort_labels=SORT_LABELS, now=clock.now(),
                  calls=queries.visible_calls(session, scope),
                  jurisdictions=queries.child_jurisdictions(session, scope))


@router.get("/applications/{application_id}")
def application_page(request: Request, application_id: RowId, scope: Actor = Depends(current_user),
                     session: Session = Depends(db_session)):
    app = queries.get_application(session, scope, application_id)
    return render(
        request, "application.html", scope,
        app=app,
        years=queries.financial_years(session, app["enterprise_id"]),
        recognition=queries.recognition_of(session, application_id),
        timeline=queries.timeline(session, application_id),
        verdicts=actions.eligibility_verdicts(session, application_id),
        documents=documents.of_application(session, scope, application_id),
        decision=actions.decision_form(scope, app),
    )


@router.post("/applications/{application_id}/decision")
def decide(request: Request, application_id: RowId, decision: str = Form(..., max_length=16), reason: str = Form("", max_length=2000),
           score: str = Form("", max_length=32), override: str = Form("", max_length=500), version: int = Form(..., ge=0, le=MAX_ID),
           scope: Actor = Depends(current_user),
           session: Session = Depends(db_session)):
    queries.get_application(session, scope, application_id)  # 404 outside the subtree, before anything else
    try:
        value = Decimal(score) if score.strip() else None
    except InvalidOperation:
        flash(request, "error", f"评分应为数字，实际为 {score!r}")
        return RedirectResponse(f"/applications/{application_id}", status_code=303)
    try:
        actions.decide(request.app.state.engine, scope, application_id, decision, reason.strip(), value, version, override.strip())
        flash(request, "ok", f"已记录：{actions.DECISION_LABELS.get(decision, decision)}")
    except NotFound:
        raise
    except SrdiError as exc:
        flash(request, "error", str(exc))
    return RedirectResponse(f"/applications/{application_id}", status_code=303)
