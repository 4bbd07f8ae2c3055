"""Excel downloads (导出Excel) of the application list and the summary tables, scoped like the pages."""

from __future__ import annotations

from io import BytesIO
from typing import Any, Iterable, Optional
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from openpyxl import Workbook
from sqlmodel import Session

from models.clock import clock, local
from srdi.web import dashboard, queries
from srdi.web.auth import current_user, db_session
from srdi.web.pages import parse_filter
from srdi.web.render import beijing, label
from tasks.people.actors import Actor
from tasks.reports.safe_cells import append_row
from tasks.reports.sheet_format import peek, start_sheet

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

APPLICATION_COLUMNS = (
    ("申报编号", "ref"), ("批次", "call_name"), ("企业名称", "enterprise_name"), ("统一社会信用代码", "uscc"),
    ("所在区县代码", "jurisdiction_code"), ("所在区县", "jurisdiction_name"), ("当前层级", "level"),
    ("状态", "status"), ("评分", "score"), ("分类", "category"), ("资格审查", "eligible"),
    ("资格审查不符合仍推荐的理由", "eligibility_override"), ("提交时间（北京时间）", "submitted_at"),
    ("最近更新（北京时间）", "updated_at"),
)
ELIGIBILITY = {None: "未审查", True: "符合", False: "不符合"}

router = APIRouter(include_in_schema=False)


def _cell(key: str, value: Any) -> Any:
    if key in ("level", "status"):
        return label(value)
    if key == "eligible":
        return ELIGIBILITY[value]
    if key.endswith("_at"):
        return beijing(value)
    return value


def _sheet(workbook: Workbook, title: str, header: Iterable[str], rows: Iterable[Iterable[Any]]) -> None:
    """One sheet: the header frozen, columns fitted to the header and the first rows."""
    sheet = workbook.create_sheet(title)
    header = list(header)
    measured, rows = peek(rows)
    start_sheet(sheet, 1, [header, *measured])
    append_row(sheet, header)
    for row in rows:
        append_row(sheet, row)


def _download(workbook: Workbook, stem: str) -> Response:
    buffer = BytesIO()
    workbook.save(buffer)
    name = f"{stem}-{local(clock.now()):%Y%m%d}.xlsx"
    return Response(buffer.getvalue(), media_type=XLSX,
                    headers={"Content-Disposition": f"attachment; filename=export.xlsx; filename*=UTF-8''{quote(name)}"})


def applications_workbook(session: Session, scope: Actor, flt: queries.ApplicationFilter) -> Workbook:
    workbook = Workbook(write_only=True)
    workbook.properties.title = f"申报列表（{scope.jurisdiction_name or scope.jurisdiction_code}）"
    rows = ([_cell(key, row[key]) for _, key in APPLICATION_COLUMNS] for row in queries.iter_applications(session, scope, flt))
    _sheet(workbook, "申报列表", (title for title, _ in APPLICATION_COLUMNS), rows)
    return workbook


def summary_workbook(session: Session, scope: Actor, call_id: Optional[str]) -> Workbook:
    call = dashboard.current_call(session, scope, call_id)
    cid = call.id if call else None
    counts = dashboard.counts_by_level_status(session, scope, cid)
    workbook = Workbook(write_only=True)
    workbook.properties.title = f"汇总表（{call.name}）" if call else "汇总表"
    _sheet(workbook, "分层级状态", ("批次", "层级", "状态", "数量"),
           ((call.name if call else "", label(c["level"]), label(c["status"]), c["count"]) for c in counts))
    _sheet(workbook, "按辖区", ("辖区代码", "辖区", *(title for _, title in dashboard.BUCKETS), "合计"),
           ((r["code"], r["name"], *(r[key] for key, _ in dashboard.BUCKETS), sum(r[key] for key, _ in dashboard.BUCKETS))
            for r in dashboard.counts_by_child(session, scope, cid)))
    if call:
        _sheet(workbook, "评审漏斗", ("阶段", "数量"), dashboard.funnel(call, counts))
    window = dashboard.upcoming_deadlines(session, scope)
    _sheet(workbook, "近期截止", ("截止时间（北京时间）", "事项", "类别", "辖区", "已逾期"),
           ((beijing(d["due_at"]), d["title"], label(d["kind"]), d["jurisdiction_name"], "是" if d["overdue"] else "")
            for d in window.rows))
    return workbook


@router.get("/applications.xlsx")
def applications_xlsx(request: Request, flt: queries.ApplicationFilter = Depends(parse_filter),
                      scope: Actor = Depends(current_user), session: Session = Depends(db_session)):
    return _download(applications_workbook(session, scope, flt), "申报列表")


@router.get("/summary.xlsx")
def summary_xlsx(request: Request, call: Optional[str] = None, scope: Actor = Depends(current_user),
                 session: Session = Depends(db_session)):
    return _download(summary_workbook(session, scope, call), "汇总表")
