"""`srdi application list`: the applications, filtered and sorted as in the console's 申报列表 (the same
query, srdi.web.queries), a page at a time; `srdi application show`: an application's timeline from the
transition log (北京时间).

Each row is checked against the audit chain (models/audit_chain.py): a row that is not in the chain
(slipped in by hand) or whose content no longer matches its seal is marked, never shown as normal.
"""

from __future__ import annotations

from typing import Optional

import typer
from sqlalchemy import select
from sqlmodel import Session

from models.audit_chain import row_marks
from models.clock import local
from models.db import get_engine
from models.enums import ApplicationStatus, JurisdictionLevel, ReviewLevel, Role
from models.jurisdiction import Jurisdiction
from models.transition import Transition
from srdi.cli.output import JSON_OPTION, emit, one_of, table
from srdi.web import queries
from tasks.people.actors import Actor, load_actor
from tasks.reports.labels import status_label
from tasks.reports.progress import timeline

app = typer.Typer(help="申报：列表与办理记录", no_args_is_help=True)


def _whole_tree(session: Session) -> Actor:
    """Every jurisdiction (the CLI runs on the server; --as narrows the list to a user's subtree)."""
    root = session.execute(select(Jurisdiction).where(Jurisdiction.parent_code.is_(None)).order_by(Jurisdiction.path)).scalars().first()
    return Actor("cli", Role.system, root.code, root.name, JurisdictionLevel(root.level), root.path)


def _list_row(row: dict) -> dict:
    keep = ("id", "ref", "enterprise_name", "uscc", "jurisdiction_code", "jurisdiction_name", "call_id", "call_name", "level",
            "status", "score", "eligible", "submitted_at", "deadline_at")
    return {key: row.get(key) for key in keep}


def _render_list(data: dict) -> None:
    table(f"申报列表（共 {data['total']} 件，第 {data['page']} / {data['pages']} 页）",
          ["ID", "申报编号", "企业名称", "所在区县", "批次", "层级", "状态", "评分", "审核截止"],
          [(r["id"], r["ref"], r["enterprise_name"], r["jurisdiction_name"], r["call_id"], ReviewLevel(r["level"]).label,
            status_label(r["status"]), r["score"], f"{local(r['deadline_at']):%Y-%m-%d %H:%M}" if r["deadline_at"] else "")
           for r in data["items"]])


@app.command("list")
def list_(
    call: Optional[str] = typer.Option(None, "--call", help="申报批次 ID"),
    level: Optional[str] = typer.Option(None, "--level", help="当前层级：county / municipal / provincial / ministry"),
    status: Optional[str] = typer.Option(None, "--status", help="状态，如 pending / recommended / rejected"),
    jurisdiction: Optional[str] = typer.Option(None, "--jurisdiction", help="辖区代码（含下辖）"),
    q: Optional[str] = typer.Option(None, "--q", help="企业名称 / 统一社会信用代码前缀 / 申报编号"),
    sort: Optional[str] = typer.Option(None, "--sort", help="排序列：" + " / ".join(queries.SORT_COLUMNS)),
    direction: str = typer.Option("asc", "--dir", help="asc（升序）或 desc（降序）"),
    page: int = typer.Option(1, "--page", min=1, help="页码"),
    limit: int = typer.Option(queries.PER_PAGE, "--limit", min=1, max=10_000, help="每页条数"),
    as_user: Optional[str] = typer.Option(None, "--as", help="只列出该用户辖区内的申报"),
    as_json: bool = JSON_OPTION,
) -> None:
    """List applications (the console's filters, sort and pages), with each one's open level deadline."""
    one_of(level, ReviewLevel, "--level")
    one_of(status, ApplicationStatus, "--status")
    one_of(sort, queries.SORT_COLUMNS, "--sort")
    one_of(direction, ("asc", "desc"), "--dir")
    flt = queries.ApplicationFilter(call_id=call, level=ReviewLevel(level) if level else None,
                                    status=ApplicationStatus(status) if status else None, jurisdiction=jurisdiction,
                                    q=(q or "").strip() or None)
    with Session(get_engine()) as session:
        scope = load_actor(session.connection(), as_user) if as_user else _whole_tree(session)
        result = queries.list_applications(session, scope, flt, page, limit, sort, direction)
    data = {"total": result.total, "page": result.page, "pages": result.pages, "per_page": result.per_page,
            "sort": result.sort, "dir": result.direction, "items": [_list_row(r) for r in result.rows]}
    emit(data, as_json, _render_list)


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
