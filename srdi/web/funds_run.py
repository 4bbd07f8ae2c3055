"""One tranche in the browser: its payments, the disbursement run's dry-run preview, the confirmation,
and the 分配方案 workbook.

The preview is ``tasks.funding.disbursement.preview_run`` (read-only: the same decision the run makes);
the confirmation posts the preview's fingerprint and calls ``run_disbursement`` — what `srdi funds run`
calls — which refuses under the tranche lock when the payments would no longer be those previewed
(方案已变化，请重新预览). Only the province's own bureau previews and runs; others who see the plan get the
payments list, users who do not see it a 404.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any, Optional
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlmodel import Session

from models.clock import parse_instant
from models.errors import NotFound, RuleViolation, SrdiError
from models.funding import AdjustmentKind, AdjustmentReason, DisbursementRun, FundTranche, RunStatus
from srdi.web import funds_access, funds_plan
from srdi.web.auth import csrf_protect, current_user, db_session
from srdi.web.bounds import RowId
from srdi.web.pages import flash, render
from tasks.people.actors import Actor

router = APIRouter(dependencies=[Depends(csrf_protect)], include_in_schema=False)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def form_instant(text: str, what: str) -> Optional[datetime]:
    """A 北京时间 YYYY-MM-DD[THH:MM] typed into a form, None when blank."""
    if not text.strip():
        return None
    try:
        return parse_instant(text)
    except ValueError:
        raise RuleViolation(f"{what}应为 YYYY-MM-DD 或 YYYY-MM-DDTHH:MM（北京时间），实际为 {text!r}") from None


def _tranche(session: Session, plan_id: int, index: int) -> FundTranche:
    found = session.execute(select(FundTranche).where(FundTranche.plan_id == plan_id, FundTranche.tranche_index == index)).scalar()
    if found is None:
        raise NotFound(f"实施方案 {plan_id} 没有第{index}笔资金")
    return found


def _preview(request: Request, plan: dict[str, Any], index: int) -> tuple[Any, str | None]:
    """The dry run, or the refusal the run itself would give (no rows written)."""
    from tasks.funding.disbursement import preview_run

    try:
        with request.app.state.engine.connect() as connection:
            return preview_run(connection, plan["province_code"], index, batch=plan["batch"]), None
    except SrdiError as exc:
        return None, str(exc)


@router.get("/funds/plans/{plan_id}/tranches/{index}")
def tranche_page(request: Request, plan_id: RowId, index: RowId, scope: Actor = Depends(current_user),
                 session: Session = Depends(db_session)):
    plan = funds_access.plan_in_reach(session, scope, plan_id)
    tranche = _tranche(session, plan_id, index)
    may = funds_access.allowed(scope, plan["province_code"])
    preview, refused = _preview(request, plan, index) if may["run"] else (None, None)
    runs = session.execute(select(DisbursementRun.id, DisbursementRun.started_at, DisbursementRun.finished_at, DisbursementRun.status,
                                  DisbursementRun.actor, DisbursementRun.payments_created, DisbursementRun.error)
                           .where(DisbursementRun.tranche_id == tranche.id).order_by(DisbursementRun.id.desc()).limit(10)).mappings().all()
    return render(request, "funds_tranche.html", scope, plan=plan, tranche=tranche, may=may, preview=preview, refused=refused,
                  payments=funds_plan.tranche_payments(session, scope, tranche.id), runs=runs,
                  gate=funds_plan.tranche_gates(session, scope, plan_id).get(tranche.id, {}),
                  adjustment_kinds=list(AdjustmentKind), adjustment_reasons=list(AdjustmentReason),
                  finished=RunStatus.completed)


@router.post("/funds/plans/{plan_id}/tranches/{index}/run")
def confirm_run(request: Request, plan_id: RowId, index: RowId, fingerprint: str = Form(..., min_length=64, max_length=64),
                doc_no: str = Form("", max_length=64), received: str = Form("", max_length=32),
                scope: Actor = Depends(current_user), session: Session = Depends(db_session)):
    """The confirmed run (as `srdi funds run --province --tranche`): pays exactly the previewed recipients, or refuses."""
    from tasks.funding.disbursement import run_disbursement

    plan = funds_access.plan_in_reach(session, scope, plan_id)
    _tranche(session, plan_id, index)
    try:
        funds_access.require(scope, "run", plan["province_code"])
        outcome = run_disbursement(request.app.state.engine, plan["province_code"], index, batch=plan["batch"],
                                   received_at=form_instant(received, "接到指标发文时间"), doc_no=doc_no.strip() or None,
                                   actor=scope.username, expected=fingerprint)
        held = len(outcome.pending) + len(outcome.stopped)
        flash(request, "ok", f"第{index}笔：新增拨付 {outcome.created} 笔，共 {outcome.payments} 笔，"
                             f"本笔合计 {outcome.amount_wan:,.2f} 万元" + (f"；未列入本笔 {held} 个" if held else ""))
    except SrdiError as exc:
        flash(request, "error", str(exc))
    return RedirectResponse(f"/funds/plans/{plan_id}/tranches/{index}", status_code=303)


@router.get("/funds/plans/{plan_id}/tranches/{index}/workbook")
def workbook(request: Request, plan_id: RowId, index: RowId, scope: Actor = Depends(current_user),
             session: Session = Depends(db_session)) -> Response:
    """The 分配方案 (exact amounts): the file the last completed run wrote, rebuilt from the payment rows if it is gone."""
    from tasks.funding.allocation_workbook import write_allocation_workbook
    from tasks.funding.plan import get_plan

    plan = funds_access.plan_in_reach(session, scope, plan_id)
    if not funds_access.allowed(scope, plan["province_code"])["adjust"]:      # the whole province's list: its bureau and the ministry
        raise NotFound("分配方案只对该省级主管部门和工业和信息化部提供")
    tranche = _tranche(session, plan_id, index)
    name = f"分配方案_{plan['province_code']}_第{plan['batch']}批_第{index}笔.xlsx"
    written = session.execute(select(DisbursementRun.workbook_path).where(
        DisbursementRun.tranche_id == tranche.id, DisbursementRun.status == RunStatus.completed,
        DisbursementRun.workbook_path.is_not(None)).order_by(DisbursementRun.id.desc()).limit(1)).scalar()
    if written and Path(written).is_file():
        return FileResponse(written, media_type=XLSX, filename=name)
    preview, _ = _preview(request, plan, index)
    held = [(n, why) for _, n, why in preview.decision.pending + preview.decision.stopped] if preview else []
    directory = Path(tempfile.mkdtemp(prefix="allocation-"))
    try:
        with request.app.state.engine.connect() as connection:
            content = write_allocation_workbook(connection, get_plan(connection, plan_id), tranche, held, directory).read_bytes()
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    return Response(content, media_type=XLSX, headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})
