"""`srdi application show`: an application's timeline from the transition log (北京时间).

Each row is checked against the audit chain (models/audit_chain.py): a row that is not in the chain
(slipped in by hand) or whose content no longer matches its seal is marked, never shown as normal.
"""

from __future__ import annotations

import typer
from sqlalchemy import select

from models.audit_chain import row_marks
from models.db import get_engine
from models.enums import ReviewLevel
from models.transition import Transition
from srdi.cli.output import JSON_OPTION, emit
from tasks.reports.labels import status_label
from tasks.reports.progress import timeline

app = typer.Typer(help="申报：查看办理记录", no_args_is_help=True)


def _event_line(e: dict) -> str:
    place = ReviewLevel(e["to_level"]).label + "级"
    if e["from_level"] not in (None, e["to_level"]):
        place = f"{ReviewLevel(e['from_level']).label}级→{place}"
    extra = "".join(f"；{label}{value}" for label, value in (("评分 ", e["score"]), ("", e["reason"])) if value)
    line = f"{e['at']:%Y-%m-%d %H:%M:%S}  {e['action_label']}（{e['actor']}）  {place} {status_label(e['to_status'])}{extra}"
    return f"{line}  ⚠ {e['audit']}，此行不可信" if e.get("audit") else line


def _render(data: dict) -> None:
    typer.echo(f"申报 {data['ref']}：{data['enterprise']}（{data['uscc']}，{data['home']}）")
    typer.echo(f"当前：{data['desk']} {ReviewLevel(data['level']).label}级 {data['status_label']}（第{data['version']}版）")
    typer.echo("办理记录（北京时间）：")
    for event in data["events"]:
        typer.echo("  " + _event_line(event))
    suspect = sum(1 for event in data["events"] if event.get("audit"))
    if suspect:
        typer.echo(f"警告：{suspect} 条办理记录未通过审计链核验（srdi audit verify 查看详情）", err=True)


@app.command("show")
def show(application: str = typer.Argument(..., help="申报编号或 ID"), as_json: bool = JSON_OPTION) -> None:
    """Print APPLICATION's current stage and every transition."""
    with get_engine().connect() as connection:
        data = timeline(connection, application)
        ids = connection.execute(select(Transition.id).where(Transition.application_id == data["id"])
                                 .order_by(Transition.id)).scalars().all()
        marks = row_marks(connection, "transition", list(ids))
    for event, row_id in zip(data["events"], ids):      # timeline lists the same rows in the same (id) order
        event["audit"] = marks.get(row_id)
    emit(data, as_json, _render)
