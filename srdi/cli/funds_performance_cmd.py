"""`srdi funds` commands of 绩效 beyond the annual review: the province's 绩效目标表, the platforms'
点对点 check, 整改 items and the ministry's grade (工业和信息化部商财政部明确绩效考核等次).

Merged into `srdi funds` (srdi/cli/funds_cmd.py); like those commands they hold no rules.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from models.clock import local
from models.db import get_engine
from srdi.cli.funds_options import AT, BATCH, PROVINCE, read_csv, require_provinces, when
from srdi.cli.identity import operator
from srdi.cli.output import JSON_OPTION, emit, table

app = typer.Typer()

TABLE_COLUMNS = ("indicator", "segment", "initial_value", "target_y1", "actual_y1")
RECTIFICATION_COLUMNS = ("issue", "required_action", "uscc")
YEAR_INDEX = typer.Option(..., "--year", min=1, help="实施期第几年")
WORK_YEAR = typer.Option(..., "--year", min=2000, help="工作安排年度，如 2021")


def _show_findings(title: str, findings: list[dict]) -> None:
    if not findings:
        typer.echo(f"{title}：没有需要检查的项目")
        return
    table(title, ["检查项", "数值", "要求", "结果", "依据"],
          [(f["label"], "—" if f["value"] is None else f"{f['value']}", f"{f['threshold']}",
            "达标" if f["ok"] else ("未达（提示）" if f["soft"] else "未达"), f["cite"]) for f in findings])


@app.command("province-table")
def province_table(province: str = PROVINCE, year: int = WORK_YEAR,
                   file: Path = typer.Option(..., "--file", exists=True, dir_okay=False,
                                             help="绩效目标表 CSV（列 indicator,segment,initial_value,target_y1,actual_y1）"),
                   as_json: bool = JSON_OPTION) -> None:
    """Record a province's 绩效目标表; rows already recorded are kept as they are."""
    from tasks.funding.performance_checks import record_provincial_table

    rows = read_csv(file, ("indicator",), TABLE_COLUMNS)
    with get_engine().begin() as connection:
        require_provinces(connection, [province])
        created = record_provincial_table(connection, province, year, rows)
    emit({"province": province, "year": year, "rows": len(rows), "created": created}, as_json,
         lambda _: typer.echo(f"{province} {year} 年绩效目标表：读取 {len(rows)} 行，新增 {created} 行"))


@app.command("province-check")
def province_check(province: str = PROVINCE, year: int = WORK_YEAR,
                   actuals: bool = typer.Option(False, "--actuals", help="检查年度实际值（默认检查目标值）"),
                   as_json: bool = JSON_OPTION) -> None:
    """Check the 绩效目标表: 100% coverage of national 小巨人 is required, the other targets only warn."""
    from tasks.funding.performance_checks import check_provincial_table

    with get_engine().connect() as connection:
        require_provinces(connection, [province])
        findings = [f.as_dict() for f in check_provincial_table(connection, province, year, "actual_y1" if actuals else "target_y1")]
    emit(findings, as_json, lambda _: _show_findings(f"{province} {year} 年绩效目标表（{'实际值' if actuals else '目标值'}）", findings))


@app.command("p2p-check")
def p2p_check(province: str = PROVINCE, year: int = YEAR_INDEX, batch: Optional[int] = BATCH, as_json: bool = JSON_OPTION) -> None:
    """Each 重点支持 platform's 点对点 service in the year must reach every active key enterprise."""
    from tasks.funding.performance_checks import check_platform_p2p
    from tasks.funding.plan import find_plan

    with get_engine().connect() as connection:
        plan = find_plan(connection, province, batch)
        findings = [f.as_dict() for f in check_platform_p2p(connection, plan.id, year)]
    emit(findings, as_json, lambda _: _show_findings(f"第{year}年度 重点支持平台点对点服务", findings))


@app.command("rectify")
def rectify(province: str = PROVINCE, year: int = YEAR_INDEX, batch: Optional[int] = BATCH,
            file: Path = typer.Option(..., "--file", exists=True, dir_okay=False,
                                      help="整改事项 CSV（列 issue,required_action,uscc；uscc 可空 = 针对整个方案）"),
            due: str = typer.Option(..., "--due", help="整改期限 YYYY-MM-DD[THH:MM]（北京时间）"),
            as_json: bool = JSON_OPTION) -> None:
    """Open the 整改 items of a year's review; each gets a deadline in the registry (re-running adds nothing)."""
    from tasks.funding.performance_checks import open_rectifications
    from tasks.funding.plan import find_plan

    due_at = when(due)
    items = read_csv(file, ("issue", "required_action"), RECTIFICATION_COLUMNS)
    with get_engine().begin() as connection:
        plan = find_plan(connection, province, batch)
        created = open_rectifications(connection, plan.id, year, items, due_at=due_at)
    emit({"plan_id": plan.id, "year": year, "items": len(items), "created": created}, as_json,
         lambda _: typer.echo(f"第{year}年度整改：{len(items)} 项，新增 {created} 项，期限 {local(due_at):%Y-%m-%d %H:%M}"))


@app.command("rectify-close")
def rectify_close(rectification_id: int = typer.Argument(..., help="整改事项编号"), at: Optional[str] = AT) -> None:
    """整改到位: close the item and its deadline."""
    from tasks.funding.performance_checks import close_rectification

    with get_engine().begin() as connection:
        close_rectification(connection, rectification_id, at=when(at))
    typer.echo(f"整改事项 {rectification_id} 已整改到位")


@app.command("grade")
def grade(province: str = PROVINCE, uscc: str = typer.Option(..., "--uscc", help="支持对象的统一社会信用代码"),
          year: int = YEAR_INDEX, value: str = typer.Option(..., "--grade", help="等次：优秀、良好、合格、不合格"),
          reason: str = typer.Option(..., "--reason", help="改定理由"), batch: Optional[int] = BATCH,
          actor: Optional[str] = typer.Option(None, "--as", "--by", help="决定人（已启用的用户）")) -> None:
    """The ministry's grade replaces the computed one (until the tranche that depends on it is paid)."""
    from tasks.funding.performance import set_ministry_grade
    from tasks.funding.plan import find_plan

    actor = operator(actor)
    with get_engine().begin() as connection:
        plan = find_plan(connection, province, batch)
        set_ministry_grade(connection, plan.id, uscc, year, value, decided_by=actor, reason=reason)
    typer.echo(f"{uscc} 第{year}年度考核等次改定为“{value}”")
