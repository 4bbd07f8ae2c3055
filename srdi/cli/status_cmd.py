"""`srdi status`: where a call stands — counts by level, reviewing jurisdiction and status."""

from __future__ import annotations

from typing import Optional

import typer

from models.db import get_engine
from models.enums import ApplicationStatus, ReviewLevel
from srdi.cli.output import JSON_OPTION, emit, table
from srdi.clock import local
from tasks.labels import STATUS_LABELS, outcome_text
from tasks.status import call_status

app = typer.Typer(help="办理进度：按层级、辖区、状态统计")


def _render(data: dict) -> None:
    statuses = [s for s in ApplicationStatus if any(s.value in cells for cells in data["by_level"].values())]
    table(f"{data['call_name']}（{data['call_id']}）共 {data['total']} 件", ["层级"] + [STATUS_LABELS[s] for s in statuses],
          [[ReviewLevel(level).label] + [cells.get(s.value, "") for s in statuses] for level, cells in data["by_level"].items()])
    table("审核窗口", ["层级", "辖区", "截止", "结束", "结果"], [
        (ReviewLevel(w["level"]).label, w["jurisdiction_name"], f"{local(w['due_at']):%Y-%m-%d %H:%M}",
         f"{local(w['closed_at']):%Y-%m-%d %H:%M}" if w["closed_at"] else "进行中",
         outcome_text(w["outcome"])) for w in data["windows"]])


@app.callback(invoke_without_command=True)
def status(
    call: str = typer.Option(..., "--call", help="批次 ID"),
    level: Optional[str] = typer.Option(None, "--level", help="只看某一级"),
    jurisdiction: Optional[str] = typer.Option(None, "--jurisdiction", help="只看该辖区内的申报"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Counts of CALL's applications by level and status (and by reviewing jurisdiction in --json)."""
    with get_engine().connect() as connection:
        data = call_status(connection, call, level, jurisdiction)
    emit(data, as_json, _render)
