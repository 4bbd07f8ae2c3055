"""资金 actions in the browser: 实施方案 versions and 合规性审核意见, 批复, the annual 绩效考核 and the
ministry's grade, 扣减/追回 — each through the domain function the `srdi funds` command calls, in one
transaction, then a redirect with a flash. A plan the user may not see is 404; an act their level may
not do (srdi/web/funds_access.py) or a step the domain refuses is flashed in Chinese and changes nothing.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal, InvalidOperation
from typing import Callable, Union

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlmodel import Session

from models.clock import clock
from models.errors import NotFound, RuleViolation, SrdiError
from models.funding import AdjustmentKind, AdjustmentReason, FundingRecipient, FundTranche, Payment
from models.funding_plan import OpinionStage, VersionKind
from srdi.web import funds_run
from srdi.web.auth import csrf_protect, current_user, db_session
from srdi.web.bounds import MAX_ID, RowId
from srdi.web.funds_access import plan_in_reach, require
from srdi.web.funds_run import form_instant
from srdi.web.pages import flash, render
from tasks.people.actors import Actor

router = APIRouter(dependencies=[Depends(csrf_protect)], include_in_schema=False)
router.include_router(funds_run.router)          # the tranche page and its run (the app registers this module's router)

PLAN_COLUMNS = ("item_type", "uscc", "name", "platform_category", "amount_wan")    # as `srdi funds plan-submit --file`
MAX_LIST_BYTES = 2 * 1024 * 1024


def _act(request: Request, target: Union[str, Callable[[], str]], step: Callable[[Connection], str]) -> RedirectResponse:
    """Run ``step`` in one transaction; its message (or the refusal) is flashed, then back to ``target``."""
    try:
        with request.app.state.engine.begin() as connection:
            message = step(connection)
        flash(request, "ok", message)
    except SrdiError as exc:
        flash(request, "error", str(exc))
    return RedirectResponse(target if isinstance(target, str) else target(), status_code=303)


def read_list(name: str, data: bytes) -> list[dict]:
    """A 名单 CSV (UTF-8, header item_type,uscc,name,platform_category,amount_wan), as the CLI reads it."""
    if len(data) > MAX_LIST_BYTES:
        raise RuleViolation(f"{name}：文件超过 {MAX_LIST_BYTES // 1024 // 1024} MB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RuleViolation(f"{name}：应为 UTF-8 编码的 CSV 文件（列 {','.join(PLAN_COLUMNS)}）") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = [c for c in ("item_type", "uscc", "amount_wan") if c not in (reader.fieldnames or [])]
    if missing:
        raise RuleViolation(f"{name}：缺少列 {'、'.join(missing)}（应有列 {','.join(PLAN_COLUMNS)}）")
    rows = [{k: (v.strip() if isinstance(v, str) and v.strip() else None) for k, v in row.items() if k} for row in reader]
    if not rows:
        raise RuleViolation(f"{name}：名单为空")
    return rows


@router.post("/funds/versions")
async def submit(request: Request, batch: int = Form(..., ge=1, le=99), kind: str = Form(..., max_length=16),
                 file: UploadFile = File(...), scope: Actor = Depends(current_user)):
    """报送版 / 备案版 with its 名单 (as `srdi funds plan-submit`); the plan is opened on the first one."""
    from tasks.funding.plan import open_plan, submit_version
    from tasks.funding.rules import funding_profile

    province, data = scope.jurisdiction_code, await file.read(MAX_LIST_BYTES + 1)
    name = file.filename or "名单"
    target = {"url": "/funds"}

    def step(connection: Connection) -> str:
        require(scope, "submit", province)
        if kind not in VersionKind.__members__:
            raise RuleViolation(f"版本应为报送版或备案版，实际为 {kind!r}")
        version_kind, rows, profile = VersionKind(kind), read_list(name, data), funding_profile()
        plan_id = open_plan(connection, province, batch, profile)
        recorded = submit_version(connection, plan_id, version_kind, rows, submitted_at=clock.now(), actor=scope.username,
                                  document_ref=name[:128], profile=profile)
        target["url"] = f"/funds?plan={plan_id}"          # only once it stands: a refused first version leaves no plan
        return (f"已登记{version_kind.label}（第{recorded.version_no}版，{len(rows)} 行）"
                + "".join(f"；提示：{w}" for w in recorded.warnings))

    return _act(request, lambda: target["url"], step)


@router.post("/funds/plans/{plan_id}/opinions")
def opinion(request: Request, plan_id: RowId, stage: str = Form(..., max_length=16), doc_ref: str = Form("", max_length=128),
            issued: str = Form("", max_length=32), scope: Actor = Depends(current_user), session: Session = Depends(db_session)):
    """合规性审核意见 on the latest 报送版 (as `srdi funds opinion`)."""
    from tasks.funding.plan import record_opinion

    plan = plan_in_reach(session, scope, plan_id)

    def step(connection: Connection) -> str:
        require(scope, "opinion", plan["province_code"])
        if stage not in OpinionStage.__members__:
            raise RuleViolation(f"意见阶段应为初步或正式，实际为 {stage!r}")
        record_opinion(connection, plan_id, OpinionStage(stage), issued_at=form_instant(issued, "出具时间") or clock.now(),
                       doc_ref=doc_ref.strip() or None)
        return f"已登记{OpinionStage(stage).label}"

    return _act(request, f"/funds?plan={plan_id}", step)


@router.post("/funds/plans/{plan_id}/approve")
def approve(request: Request, plan_id: RowId, doc_no: str = Form(..., max_length=64), approved: str = Form("", max_length=32),
            scope: Actor = Depends(current_user), session: Session = Depends(db_session)):
    """批复 of the latest 备案版 (as `srdi funds approve`): recipients and tranches are created."""
    from tasks.funding.plan import approve_plan

    plan = plan_in_reach(session, scope, plan_id)

    def step(connection: Connection) -> str:
        require(scope, "approve", plan["province_code"])
        if not doc_no.strip():
            raise RuleViolation("批复须填写批复文号")
        count = approve_plan(connection, plan_id, approved_at=form_instant(approved, "批复时间") or clock.now(), doc_no=doc_no.strip())
        return f"已批复：{count} 个支持对象，分年度资金已排期"

    return _act(request, f"/funds?plan={plan_id}", step)


@router.get("/funds/plans/{plan_id}/performance")
def performance_page(request: Request, plan_id: RowId, scope: Actor = Depends(current_user), session: Session = Depends(db_session)):
    """目标表 and 绩效考核 per recipient, with the review and grade forms for those who may use them."""
    from srdi.web import funds_access, funds_plan

    plan = plan_in_reach(session, scope, plan_id)
    return render(request, "funds_performance.html", scope, plan=plan, may=funds_access.allowed(scope, plan["province_code"]),
                  **funds_plan.performance(session, scope, plan_id))


@router.post("/funds/plans/{plan_id}/reviews")
def review(request: Request, plan_id: RowId, year: int = Form(..., ge=1, le=10), scope: Actor = Depends(current_user),
           session: Session = Depends(db_session)):
    """Score and grade every active recipient's 目标表 for implementation year ``year`` (as `srdi funds review`)."""
    from tasks.funding.performance import review_year

    plan = plan_in_reach(session, scope, plan_id)

    def step(connection: Connection) -> str:
        require(scope, "review", plan["province_code"])
        summary = review_year(connection, plan_id, year, reviewed_at=clock.now())
        grades = "、".join(f"{g} {n} 个" for g, n in summary.grades.items()) or "无"
        return (f"第{year}年度考核：新增 {summary.created} 条，等次分布 {grades}"
                + (f"；无目标表 {len(summary.without_targets)} 个" if summary.without_targets else ""))

    return _act(request, f"/funds/plans/{plan_id}/performance", step)


@router.post("/funds/plans/{plan_id}/grades")
def grade(request: Request, plan_id: RowId, uscc: str = Form(..., max_length=18), year: int = Form(..., ge=1, le=10),
          value: str = Form(..., max_length=16), reason: str = Form("", max_length=2000),
          scope: Actor = Depends(current_user), session: Session = Depends(db_session)):
    """工业和信息化部商财政部明确绩效考核等次 (as `srdi funds grade`)."""
    from tasks.funding.performance import set_ministry_grade

    plan = plan_in_reach(session, scope, plan_id)

    def step(connection: Connection) -> str:
        require(scope, "grade", plan["province_code"])
        set_ministry_grade(connection, plan_id, uscc.strip(), year, value, decided_by=scope.username, reason=reason.strip())
        return f"{uscc} 第{year}年度考核等次改定为“{value}”"

    return _act(request, f"/funds/plans/{plan_id}/performance", step)


@router.post("/funds/plans/{plan_id}/tranches/{index}/adjustments")
def adjust(request: Request, plan_id: RowId, index: RowId, payment: int = Form(..., ge=1, le=MAX_ID), kind: str = Form(..., max_length=16),
           amount: str = Form(..., max_length=32), reason: str = Form(..., max_length=32), basis: str = Form("", max_length=128),
           scope: Actor = Depends(current_user), session: Session = Depends(db_session)):
    """扣减 or 追回 against one payment of the tranche (as `srdi funds adjust`)."""
    from srdi.web.funds import recipients_in_scope
    from tasks.funding.payments import record_adjustment

    plan = plan_in_reach(session, scope, plan_id)
    found = session.execute(select(Payment.id).join(FundTranche, FundTranche.id == Payment.tranche_id)
                            .join(FundingRecipient, FundingRecipient.id == Payment.recipient_id)
                            .where(Payment.id == payment, FundTranche.plan_id == plan_id, FundTranche.tranche_index == index,
                                   recipients_in_scope(scope))).scalar()
    if found is None:
        raise NotFound(f"拨付记录 {payment} 不属于该笔资金或不在您的辖区范围内")

    def step(connection: Connection) -> str:
        require(scope, "adjust", plan["province_code"])
        if kind not in AdjustmentKind.__members__ or reason not in AdjustmentReason.__members__:
            raise RuleViolation("请选择调整类型（扣减或追回）和调整原因")
        try:
            value = Decimal(amount.strip())
        except InvalidOperation:
            raise RuleViolation(f"金额应为万元数，实际为 {amount!r}") from None
        record_adjustment(connection, payment, AdjustmentKind(kind), value, AdjustmentReason(reason), decided_by=scope.username,
                          legal_basis=basis.strip() or None)
        return f"已登记{AdjustmentKind(kind).label} {value} 万元"

    return _act(request, f"/funds/plans/{plan_id}/tranches/{index}", step)
