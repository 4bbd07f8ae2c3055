"""`srdi status`: what is blocked and where each call stands; with --call, one call by level and status."""

from __future__ import annotations

from typing import Optional

import typer

from models.clock import local
from models.db import get_engine
from models.enums import ApplicationStatus, ReviewLevel
from srdi.cli.output import JSON_OPTION, emit, table
from tasks.reports.labels import STATUS_LABELS, outcome_text
from tasks.reports.progress import call_status, overview

app = typer.Typer(help="办理进度：受阻步骤、各批次进度；--call 查看某一批次按层级、辖区、状态统计")


def _render_call(data: dict) -> None:
    statuses = [s for s in ApplicationStatus if any(s.value in cells for cells in data["by_level"].values())]
    table(f"{data['call_name']}（{data['call_id']}）共 {data['total']} 件", ["层级"] + [STATUS_LABELS[s] for s in statuses],
          [[ReviewLevel(level).label] + [cells.get(s.value, "") for s in statuses] for level, cells in data["by_level"].items()])
    table("审核窗口", ["层级", "辖区", "截止", "结束", "结果"], [
        (ReviewLevel(w["level"]).label, w["jurisdiction_name"], f"{local(w['due_at']):%Y-%m-%d %H:%M}",
         f"{local(w['closed_at']):%Y-%m-%d %H:%M}" if w["closed_at"] else "进行中",
         outcome_text(w["outcome"])) for w in data["windows"]])


def _render_overview(data: dict) -> None:
    if data["blocked"]:
        table("流程受阻（其余批次照常推进）", ["事项", "步骤", "原因", "自", "次数"], [
            (b["call_name"] or b["subject"], b["step"], b["reason"], f"{b['since']:%Y-%m-%d %H:%M}", b["failures"])
            for b in data["blocked"]])
    else:
        typer.echo("没有受阻的流程步骤")
    table("进行中的申报批次", ["批次", "名称", "申报总数", "各状态"], [
        (c["call_id"], c["call_name"], c["total"],
         "，".join(f"{STATUS_LABELS[ApplicationStatus(s)]} {n}" for s, n in sorted(c["by_status"].items())))
        for c in data["calls"]])
    for job in data.get("jobs", []):
        if job["last_status"] in ("failed", "partial", "interrupted"):
            typer.echo(f"定时任务 {job['id']} 上次运行：{job['last_status']}（{job['last_finished_at']}）")


@app.callback(invoke_without_command=True)
def status(
    call: Optional[str] = typer.Option(None, "--call", help="批次 ID；不指定则列出受阻步骤与各批次概况"),
    level: Optional[str] = typer.Option(None, "--level", help="只看某一级（须同时指定 --call）"),
    jurisdiction: Optional[str] = typer.Option(None, "--jurisdiction", help="只看该辖区内的申报（须同时指定 --call）"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Blocked steps and open calls; with --call, CALL's applications by level and status."""
    if call is None:
        if level or jurisdiction:
            typer.echo("错误：--level 与 --jurisdiction 须与 --call 一起使用", err=True)
            raise typer.Exit(2)
        from srdi.scheduler import job_table

        engine = get_engine()
        with engine.connect() as connection:
            data = overview(connection)
        data["jobs"] = job_table(engine)
        emit(data, as_json, _render_overview)
        return
    if level is not None and level not in {lv.value for lv in ReviewLevel}:
        typer.echo(f"错误：层级 {level} 无效，应为 {'、'.join(lv.value for lv in ReviewLevel)} 之一", err=True)
        raise typer.Exit(2)
    with get_engine().connect() as connection:
        data = call_status(connection, call, level, jurisdiction)
    emit(data, as_json, _render_call)
