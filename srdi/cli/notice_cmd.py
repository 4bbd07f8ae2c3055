"""`srdi notice`: 公示 — open, close, show, record and resolve objections (异议)."""

from __future__ import annotations

from typing import Optional

import typer
from sqlalchemy import select

from models.clock import local
from models.db import get_engine
from models.notice import Notice
from srdi.cli.identity import operator
from srdi.cli.output import JSON_OPTION, emit, one_of, table
from tasks.people.operators import SYSTEM

app = typer.Typer(help="公示：开启、期满认定、查看、登记与处理异议", no_args_is_help=True)

AS_USER = typer.Option(..., "--as", help="操作人用户名（主管部门工作人员）")
STATUS_LABELS = {"open": "公示中", "closed": "已期满", "listed": "在名单", "on_hold": "异议调查中", "removed": "已移出",
                 "recognised": "已认定", "upheld": "异议成立", "rejected": "异议不成立"}


def _label(value) -> str:
    value = getattr(value, "value", value)
    return STATUS_LABELS.get(value, str(value))


@app.command("open")
def open_(call: str = typer.Option(..., "--call", help="申报批次 ID"),
          jurisdiction: Optional[str] = typer.Option(None, "--jurisdiction", help="只开启该发布辖区的公示"),
          as_user: Optional[str] = typer.Option(None, "--as", help="发布人；默认 system"),
          as_json: bool = JSON_OPTION) -> None:
    """开启批次终审级推荐名单的公示（重复执行不会重复开启）。"""
    from tasks.notice.publication import open_notice

    as_user = None if operator(as_user, system_allowed=True) == SYSTEM else as_user
    with get_engine().begin() as connection:
        ids = open_notice(connection, call, jurisdiction_code=jurisdiction, username=as_user)
        rows = connection.execute(select(Notice).where(Notice.id.in_(ids))).all() if ids else []
    data = [{"id": n.id, "title": n.title, "closes_at": local(n.closes_at)} for n in rows]
    emit(data, as_json, lambda _: typer.echo("\n".join(
        f"已开启公示 {d['id']}：{d['title']}，公示至 {d['closes_at']:%Y-%m-%d %H:%M}" for d in data) or "没有待公示的名单"))


@app.command("close")
def close(as_json: bool = JSON_OPTION) -> None:
    """结束已期满的公示，对无异议的企业予以认定（可重复执行；即推进流程中的“公示期满认定”一步）。"""
    from models.clock import clock
    from tasks.pipeline.due import run_due_step, step_named

    step = run_due_step(step_named("close-notices"), clock.now())
    result = {"notices_closed": step.get("notices_closed", 0), "recognised": step.get("recognised", 0)}
    if step.get("blocked"):
        result["blocked"] = step["blocked"]
    emit(result, as_json, lambda r: typer.echo(f"期满公示 {r['notices_closed']} 个，予以认定 {r['recognised']} 家"))
    for call_id, reason in step.get("blocked", {}).items():
        typer.echo(f"受阻：{call_id}：{reason}", err=True)
    if step.get("blocked"):
        raise typer.Exit(1)


@app.command("list")
def list_(call: Optional[str] = typer.Option(None, "--call"), as_json: bool = JSON_OPTION) -> None:
    """公示列表（新的在前）。"""
    from tasks.reference.calls import get_call

    query = select(Notice).order_by(Notice.id.desc())
    if call:
        query = query.where(Notice.call_id == call)
    with get_engine().connect() as connection:
        if call:
            get_call(connection, call)          # an unknown call is refused, not shown as "no notices"
        rows = connection.execute(query).all()
    data = [{"id": n.id, "call_id": n.call_id, "title": n.title, "jurisdiction_code": n.jurisdiction_code,
             "opens_at": local(n.opens_at), "closes_at": local(n.closes_at), "status": n.status} for n in rows]
    emit(data, as_json, lambda _: table("公示", ["编号", "标题", "开始", "截止", "状态"], [
        (d["id"], d["title"], f"{d['opens_at']:%Y-%m-%d %H:%M}", f"{d['closes_at']:%Y-%m-%d %H:%M}", _label(d["status"]))
        for d in data]))


@app.command("show")
def show(notice_id: int = typer.Argument(..., help="公示编号"), as_json: bool = JSON_OPTION) -> None:
    """查看一个公示的名单和异议。"""
    from tasks.notice.publication import notice_detail

    with get_engine().connect() as connection:
        detail = notice_detail(connection, notice_id)

    def render(d):
        unit = "个工作日" if d["unit"] == "working_days" else "天"
        typer.echo(f"{d['title']}（{_label(d['status'])}）")
        typer.echo(f"公示期 {d['length']}{unit}：{d['opens_at']:%Y-%m-%d %H:%M} 至 {d['closes_at']:%Y-%m-%d %H:%M}（北京时间）")
        table("名单", ["序号", "申报编号", "企业", "名单状态"],
              [(e["position"], e["ref"], e["enterprise_name"], _label(e["status"])) for e in d["entries"]])
        if d["objections"]:
            table("异议", ["编号", "申报编号", "异议人", "收到时间", "状态", "调查结论"],
                  [(o["id"], o["application"], o["objector"], f"{o['received_at']:%Y-%m-%d %H:%M}", _label(o["status"]),
                    o["finding"]) for o in d["objections"]])

    emit(detail, as_json, render)


@app.command("object")
def object_(application: str = typer.Argument(..., help="申报编号"),
            objector: str = typer.Option(..., "--objector", help="异议人（单位或个人）"),
            contact: str = typer.Option(..., "--contact", help="联系方式"),
            grounds: str = typer.Option(..., "--grounds", help="异议理由"),
            as_user: str = AS_USER, as_json: bool = JSON_OPTION) -> None:
    """登记现在收到的异议（仅限公示期内）；该申请暂停公示、进入调查。"""
    from tasks.notice.objections import record_objection

    as_user = operator(as_user)
    with get_engine().begin() as connection:
        objection_id = record_objection(connection, application, objector=objector, contact=contact, grounds=grounds,
                                        username=as_user)
    emit({"objection": objection_id, "application": application}, as_json,
         lambda _: typer.echo(f"已登记异议 {objection_id}，申请 {application} 暂停公示、进入调查"))


@app.command("resolve")
def resolve(objection: int = typer.Argument(..., help="异议编号"),
            outcome: str = typer.Option(..., "--outcome", help="upheld（异议成立）/ rejected（异议不成立）"),
            finding: str = typer.Option(..., "--finding", help="调查结论"),
            as_user: str = AS_USER, as_json: bool = JSON_OPTION) -> None:
    """办结异议调查：成立则移出名单，不成立则恢复公示。"""
    from tasks.notice.objections import resolve_objection

    one_of(outcome, ("upheld", "rejected"), "调查结论")
    as_user = operator(as_user)
    with get_engine().begin() as connection:
        result = resolve_objection(connection, objection, outcome, finding, as_user)
    emit(result, as_json, lambda r: typer.echo(f"异议 {objection}：{_label(r['outcome'])}；申请现为 {_label(r['application_status'])}"))
