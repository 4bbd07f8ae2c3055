"""`srdi funds`: 实施方案, annual reviews and disbursement runs of the funded tier (重点"小巨人").

The commands call the same domain functions the Prefect flow runs (flows/funds.py); they hold no rules.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Optional

import typer

from models.clock import clock, local
from models.db import get_engine
from models.funding_plan import OpinionStage, VersionKind
from srdi.cli.funds_options import AT, BATCH, PROVINCE, read_csv, require_provinces, when
from srdi.cli.identity import operator
from srdi.cli.output import JSON_OPTION, emit, one_of, table

app = typer.Typer(help="资金：实施方案、绩效考核与分年度拨付（重点“小巨人”）", no_args_is_help=True)

DEADLINE_STATES = {"open": "未到期", "met": "按期", "missed": "逾期", "cancelled": "取消"}
PLAN_COLUMNS = ("item_type", "uscc", "name", "platform_category", "amount_wan")


def _shown(dt: Optional[datetime]) -> str:
    return f"{local(dt):%Y-%m-%d %H:%M}" if dt else "—"


def _read_rows(path: Path) -> list[dict]:
    """A 名单 as CSV (UTF-8, header item_type,uscc,name,platform_category,amount_wan)."""
    return read_csv(path, ("item_type", "uscc", "amount_wan"), PLAN_COLUMNS)


@app.command("run")
def run(province: str = PROVINCE, tranche: int = typer.Option(..., "--tranche", min=1, help="第几笔（1 = 批复当年）"),
        batch: Optional[int] = BATCH,
        received: Optional[str] = typer.Option(None, "--received", help="接到中央直达资金指标发文的时间；默认现在（仅首次有效）"),
        doc_no: Optional[str] = typer.Option(None, "--doc-no", help="指标发文文号"),
        out: Optional[Path] = typer.Option(None, "--out", help="分配方案 Excel 的目录；默认 $SRDI_HOME/allocation_plans"),
        via_prefect: bool = typer.Option(False, "--prefect", help="作为 Prefect 流程运行（记录到 Prefect 服务器）"),
        as_json: bool = JSON_OPTION) -> None:
    """Run the disbursement of one tranche for a province (可重复执行，不会重复拨付).

    A run killed part-way is found by the next one (its lease has run out, or its process is gone)
    and marked failed; the next run pays exactly the missing recipients. While another run of the
    same tranche is alive, this one refuses."""
    if via_prefect:
        from flows.funds import disburse_tranche

        result = disburse_tranche(province, tranche, batch=batch, received_at=received, doc_no=doc_no,
                                  out_dir=str(out) if out else None)
    else:
        from tasks.funding.disbursement import run_disbursement

        result = run_disbursement(get_engine(), province, tranche, batch=batch, received_at=when(received), doc_no=doc_no,
                                  out_dir=out, actor="cli").as_dict()

    def render(r):
        typer.echo(f"第{r['tranche']}笔：新增拨付 {r['created']} 笔，共 {r['payments']} 笔，"
                   f"金额 {r['amount_wan']:.4f} 万元，直接支持重点“小巨人”企业占比 {r['key_share_pct']}%")
        typer.echo(f"分配方案：{r['workbook']}（应于 {_shown(r['allocation_plan_due_at'])} 前报财政部）")
        for item in r["stopped"]:
            typer.echo(f"  停止支持：{item['name']}（{item['reason']}）")
        for item in r["pending"]:
            typer.echo(f"  待考核：{item['name']}（{item['reason']}）")

    emit(result, as_json, render)


app.command("disburse", help="Same as run (拨付一笔资金).")(run)


@app.command("status")
def status(province: Optional[str] = typer.Option(None, "--province", help="只看一个省"), as_json: bool = JSON_OPTION) -> None:
    """Plans, recipients and each tranche's payments and allocation-plan deadline."""
    from sqlalchemy import select

    from models.enums import JurisdictionLevel
    from models.errors import NotFound
    from models.jurisdiction import Jurisdiction
    from tasks.funding.payments import funds_status

    with get_engine().connect() as connection:
        if province and connection.execute(select(Jurisdiction.code).where(
                Jurisdiction.code == province, Jurisdiction.level == JurisdictionLevel.province)).first() is None:
            raise NotFound(f"省级行政区划代码 {province} 不存在（如 110000 北京市）")
        plans = funds_status(connection, province)

    def render(_):
        if not plans:
            typer.echo("没有实施方案")
        for plan in plans:
            typer.echo(f"{plan['title']}（{plan['status'].label}）：实施中 {plan['recipients'].get('active', 0)} 个，"
                       f"停止支持 {plan['recipients'].get('discontinued', 0)} 个")
            table("分年度资金", ["笔", "时点", "状态", "笔数", "金额（万元）", "扣回", "方案截止", "期限"],
                  [(t["tranche"], t["label"], t["status"].label, t["payments"], f"{t['amount_wan']:.2f}",
                    f"{t['adjustments_wan']:.2f}", f"{local(t['allocation_plan_due_at']):%Y-%m-%d}" if t["allocation_plan_due_at"] else "—",
                    DEADLINE_STATES.get(t["allocation_plan_deadline"], "—"))
                   for t in plan["tranches"]])

    emit(plans, as_json, render)


@app.command("report")
def report(province: str = PROVINCE, tranche: int = typer.Option(..., "--tranche", min=1), batch: Optional[int] = BATCH,
           at: Optional[str] = AT) -> None:
    """Record that the 分配方案 was reported to MOF (抄送当地监管局): closes the 30-day deadline."""
    from tasks.funding.payments import report_allocation_plan

    with get_engine().begin() as connection:
        done = report_allocation_plan(connection, province, tranche, batch=batch, reported_at=when(at))
    typer.echo("已登记分配方案上报" if done else "该笔分配方案此前已登记上报")


@app.command("review")
def review(province: str = PROVINCE, year: int = typer.Option(..., "--year", min=1, help="实施期第几年"),
           batch: Optional[int] = BATCH, at: Optional[str] = AT, as_json: bool = JSON_OPTION) -> None:
    """Score and grade every active recipient's 目标表 for one implementation year."""
    from tasks.funding.performance import review_year
    from tasks.funding.plan import find_plan

    with get_engine().begin() as connection:
        plan = find_plan(connection, province, batch)
        summary = review_year(connection, plan.id, year, reviewed_at=when(at))
    emit({"plan_id": summary.plan_id, "year": year, "created": summary.created, "grades": summary.grades,
          "without_targets": summary.without_targets}, as_json,
         lambda _: typer.echo(f"第{year}年度考核：新增 {summary.created} 条，等次分布 {summary.grades}"
                              + (f"；无目标表 {len(summary.without_targets)} 个" if summary.without_targets else "")))


@app.command("plan-submit")
def plan_submit(province: str = PROVINCE, batch: int = typer.Option(..., "--batch", min=1),
                kind: VersionKind = typer.Option(VersionKind.submission, "--kind", help="submission（报送版）或 filed（备案版）"),
                file: Path = typer.Option(..., "--file", exists=True, dir_okay=False, help="名单 CSV"),
                profile_id: str = typer.Option("key-little-giant-funding", "--programme"),
                at: Optional[str] = AT, as_json: bool = JSON_OPTION) -> None:
    """Submit a 报送版 or 备案版 with its 名单; every check runs first and a refusal writes nothing."""
    from tasks.funding.plan import open_plan, submit_version
    from tasks.funding.rules import funding_profile

    profile = funding_profile(profile_id)
    rows = _read_rows(file)
    with get_engine().begin() as connection:
        plan_id = open_plan(connection, province, batch, profile)
        recorded = submit_version(connection, plan_id, kind, rows, submitted_at=when(at), actor="cli",
                                  document_ref=file.name, profile=profile)
    emit({"plan_id": recorded.plan_id, "version_no": recorded.version_no, "warnings": recorded.warnings}, as_json,
         lambda _: typer.echo(f"已登记{kind.label}（第{recorded.version_no}版，{len(rows)} 行）"
                              + "".join(f"\n  提示：{w}" for w in recorded.warnings)))


@app.command("opinion")
def opinion(province: str = PROVINCE, batch: Optional[int] = BATCH,
            stage: OpinionStage = typer.Option(..., "--stage", help="preliminary（初步）或 formal（正式）"),
            doc_ref: Optional[str] = typer.Option(None, "--doc-ref"), at: Optional[str] = AT) -> None:
    """Record a 合规性审核意见 on the latest 报送版."""
    from tasks.funding.plan import find_plan, record_opinion

    with get_engine().begin() as connection:
        plan = find_plan(connection, province, batch)
        record_opinion(connection, plan.id, stage, issued_at=when(at) or clock.now(), doc_ref=doc_ref)
    typer.echo(f"已登记{stage.label}")


@app.command("approve")
def approve(province: str = PROVINCE, batch: Optional[int] = BATCH,
            doc_no: str = typer.Option(..., "--doc-no", help="批复文号"), at: Optional[str] = AT) -> None:
    """批复 the latest 备案版: creates the recipients and schedules the tranches."""
    from tasks.funding.plan import approve_plan, find_plan

    with get_engine().begin() as connection:
        plan = find_plan(connection, province, batch)
        count = approve_plan(connection, plan.id, approved_at=when(at) or clock.now(), doc_no=doc_no)
    typer.echo(f"已批复：{count} 个支持对象，分年度资金已排期")


@app.command("adjust")
def adjust(province: str = PROVINCE, tranche: int = typer.Option(..., "--tranche", min=1), uscc: str = typer.Option(..., "--uscc"),
           kind: str = typer.Option(..., "--kind", help="deduction（扣减）或 clawback（追回）"),
           amount: Decimal = typer.Option(..., "--amount", help="万元"), reason: str = typer.Option(..., "--reason"),
           legal_basis: Optional[str] = typer.Option(None, "--basis"), batch: Optional[int] = BATCH,
           actor: Optional[str] = typer.Option(None, "--as", "--by", help="决定人（已启用的用户）")) -> None:
    """Record a deduction or clawback against one payment."""
    from models.funding import AdjustmentKind, AdjustmentReason
    from tasks.funding.payments import find_payment, record_adjustment

    kind_value = AdjustmentKind(one_of(kind, AdjustmentKind, "--kind 调整类型"))
    reason_value = AdjustmentReason(one_of(reason, AdjustmentReason, "--reason 调整原因"))
    actor = operator(actor)
    with get_engine().begin() as connection:
        payment_id = find_payment(connection, province, tranche, uscc, batch)
        record_adjustment(connection, payment_id, kind_value, amount, reason_value, decided_by=actor, legal_basis=legal_basis)
    typer.echo(f"已登记{kind_value.label} {amount} 万元")


@app.command("work-arrangement")
def work_arrangement(province: str = PROVINCE, year: int = typer.Option(..., "--year", min=2000, help="年度，如 2021"),
                     amount: Decimal = typer.Option(..., "--amount", help="申请公共服务体系奖补资金数额（万元）"),
                     sealed: bool = typer.Option(..., "--sealed/--unsealed", help="函件是否加盖公章"),
                     letter_ref: Optional[str] = typer.Option(None, "--letter-ref", help="函报文号"),
                     profile_id: str = typer.Option("key-little-giant-funding", "--programme"),
                     at: Optional[str] = AT, as_json: bool = JSON_OPTION) -> None:
    """Record a province's 工作安排 函报; after the year's cut-off it is recorded as 逾期，视同不申请."""
    from tasks.funding.plan import submit_work_arrangement
    from tasks.funding.rules import funding_profile

    profile = funding_profile(profile_id)
    with get_engine().begin() as connection:
        require_provinces(connection, [province])
        recorded = submit_work_arrangement(connection, province, year, submitted_at=when(at) or clock.now(), sealed=sealed,
                                           requested_amount_wan=amount, letter_ref=letter_ref, profile=profile)
    emit({"id": recorded.id, "province": province, "year": year, "status": recorded.status.value, "note": recorded.note}, as_json,
         lambda _: typer.echo(recorded.note or f"已登记 {province} {year} 年工作安排（申请 {amount} 万元）"))


@app.command("work-arrangement-deem")
def work_arrangement_deem(year: int = typer.Option(..., "--year", min=2000, help="年度，如 2021"),
                          provinces: list[str] = typer.Option(..., "--province", help="应报送的省级行政区划代码（可多次给出）"),
                          profile_id: str = typer.Option("key-little-giant-funding", "--programme"),
                          at: Optional[str] = AT, as_json: bool = JSON_OPTION) -> None:
    """After the cut-off, record every listed province without a 工作安排 as 逾期未报送，视同不申请."""
    from tasks.funding.plan import deem_unsubmitted_work_arrangements
    from tasks.funding.rules import funding_profile

    profile = funding_profile(profile_id)
    with get_engine().begin() as connection:
        require_provinces(connection, provinces)
        deemed = deem_unsubmitted_work_arrangements(connection, year, provinces, profile=profile, now=when(at))
    emit({"year": year, "deemed": deemed}, as_json,
         lambda _: typer.echo(f"{year} 年工作安排：{deemed} 个省份逾期未报送，视同不申请公共服务体系奖补资金"))


def _merge_performance_commands() -> None:
    from srdi.cli.funds_performance_cmd import app as performance

    app.add_typer(performance)


_merge_performance_commands()
