"""`srdi import`: the application workbook template, and importing a filled workbook (申报数据导入)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from models.clock import clock
from srdi.cli.identity import operator
from srdi.cli.output import JSON_OPTION, console, emit, table

app = typer.Typer(help="申报数据导入：下载模板、导入申报工作簿（.xlsx/.csv）", no_args_is_help=True)

PROGRESS_FROM_ROWS = 500
SHOWN_PROBLEMS = 60


@app.command("template")
def template(
    programme: str = typer.Option(..., "--programme", help="申报项目 ID，如 hebei-provincial-srdi"),
    year: Optional[int] = typer.Option(None, "--year", help="申报年度（默认今年）；上年 = 年度 − 1"),
    out: Optional[Path] = typer.Option(None, "--out", help="输出文件，默认 <项目ID>-<年度>-导入模板.xlsx"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Write an empty workbook with the programme's headers and a sheet of instructions."""
    from tasks.intake.template import template_columns, write_template
    from tasks.reference.calls import get_profile

    profile = get_profile(programme)
    year = year or clock.today().year
    path = write_template(out or Path(f"{programme}-{year}-导入模板.xlsx"), profile, year)
    headers = [column.header(y) for column, y in template_columns(profile, year)]
    emit({"path": str(path), "programme": programme, "year": year, "columns": headers}, as_json,
         lambda _: typer.echo(f"已生成导入模板：{path}（{len(headers)} 列，填写说明见第二个工作表）"))


def _progress_bar(enabled: bool):
    """A rich progress bar that appears only once a stage reports a long file."""
    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console)
    tasks: dict[str, int] = {}

    def report(stage: str, done: int, total: int) -> None:
        if not enabled or (not tasks and total < PROGRESS_FROM_ROWS):
            return
        if not tasks:
            bar.start()
        if stage not in tasks:
            tasks[stage] = bar.add_task(stage, total=max(total, 1))
        bar.update(tasks[stage], completed=done, total=max(total, 1))
    return bar, report


@app.command("applications")
def applications(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="申报工作簿 .xlsx 或 .csv"),
    call: str = typer.Option(..., "--call", help="申报批次 ID"),
    skip_invalid: bool = typer.Option(False, "--skip-invalid", help="只导入有效行，无效行写入错误清单"),
    errors_out: Optional[Path] = typer.Option(None, "--errors-out", help="错误清单工作簿路径"),
    actor: str = typer.Option("system", "--as", help="操作用户（默认 system）"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Import a workbook into a call: all or nothing unless --skip-invalid."""
    from tasks.intake.workbook_import import import_applications

    actor = operator(actor, system_allowed=True)
    bar, report = _progress_bar(not as_json)
    try:
        outcome = import_applications(file, call, actor=actor, skip_invalid=skip_invalid, errors_out=errors_out,
                                      progress=report)
    finally:
        bar.stop()
    data = {
        "file": outcome.file, "call": outcome.call_id, "rows": outcome.rows, "created": outcome.created,
        "unchanged": outcome.unchanged, "rejected": outcome.rejected, "written": outcome.written,
        "errors_path": str(outcome.errors_path) if outcome.errors_path else None,
        "eligibility": vars(outcome.eligibility) if outcome.eligibility else None,
        "problems": [{"row": p.row, "column": p.column, "value": p.value, "expected": p.expected} for p in outcome.problems],
        "conversions": [{"row": c.row, "column": c.column, "typed": c.typed, "stored_wan": str(c.stored)} for c in outcome.conversions],
    }
    emit(data, as_json, lambda _: _print_outcome(outcome))
    if outcome.problems and not outcome.written:
        raise typer.Exit(1)


def _print_outcome(outcome) -> None:
    from tasks.intake.cells import show

    if outcome.problems:
        table(f"发现 {len(outcome.problems)} 处问题（{outcome.rejected} 行）", ["行号", "列", "填写值", "问题"],
              [(p.row, p.column, p.value, p.expected) for p in outcome.problems[:SHOWN_PROBLEMS]])
        if len(outcome.problems) > SHOWN_PROBLEMS:
            typer.echo(f"……另有 {len(outcome.problems) - SHOWN_PROBLEMS} 处问题，见错误清单")
    if outcome.conversions:
        shown = outcome.conversions[:SHOWN_PROBLEMS]
        table(f"金额单位换算 {len(outcome.conversions)} 处（已按万元存储）", ["行号", "列", "填写值", "存储（万元）"],
              [(c.row, c.column, c.typed, show(c.stored)) for c in shown])
        if len(outcome.conversions) > SHOWN_PROBLEMS:
            typer.echo(f"……另有 {len(outcome.conversions) - SHOWN_PROBLEMS} 处换算（--json 列出全部）")
    if not outcome.written:
        typer.echo(f"未写入任何数据（共 {outcome.rows} 行）。请改正后重新导入，或使用 --skip-invalid 只导入有效行。")
    else:
        typer.echo(f"读取 {outcome.rows} 行：新建申报 {outcome.created} 份，已导入且未变 {outcome.unchanged} 行，"
                   f"拒绝 {outcome.rejected} 行。")
        summary = outcome.eligibility
        if summary:
            typer.echo(f"资格审查：符合 {summary.eligible}，不符合 {summary.ineligible}，待核实 {summary.undetermined}")
    if outcome.errors_path:
        typer.echo(f"错误清单：{outcome.errors_path}")
