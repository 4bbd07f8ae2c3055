"""`srdi export`: the official summary tables, generated from stored data (汇总表导出)."""

from __future__ import annotations

from pathlib import Path

import typer

from srdi.cli.output import JSON_OPTION, emit, one_of

app = typer.Typer(help="导出汇总表：四川附件5/6/7、79号附件3推荐汇总表、公示名单", no_args_is_help=True)

SCOPES = ("recommended", "eligible", "all")
SCOPE = typer.Option("recommended", "--scope", help="recommended（本级已推荐，默认）/ eligible（资格审查符合）/ all（全部申报）")
CALL = typer.Option(..., "--call", help="申报批次 ID")
OUT = typer.Option(..., "--out", help="输出 .xlsx 文件")


def _code(connection, text: str) -> str:
    """A 6-digit code, or the name of a 市（州）/省 (成都市, 成都, 河北省)."""
    from sqlalchemy import or_, select

    from models.errors import NotFound
    from models.jurisdiction import Jurisdiction

    if text.isdigit():
        return text
    found = connection.execute(select(Jurisdiction.code).where(or_(Jurisdiction.name == text, Jurisdiction.name == text + "市",
                                                                     Jurisdiction.name == text + "省"),
                                                                 Jurisdiction.level.in_(["province", "prefecture"]))).scalars().all()
    if len(found) != 1:
        raise NotFound(f"找不到唯一的辖区“{text}”，请改用6位行政区划代码")
    return found[0]


def _run(as_json: bool, make, call: str | None = None, scope: str | None = None) -> None:
    """Refuse an unknown scope or call first, then write the workbook MAKE builds."""
    from models.db import get_engine
    from tasks.reference.calls import get_call

    one_of(scope, SCOPES, "导出范围")
    with get_engine().connect() as connection:
        if call is not None:
            get_call(connection, call)
        result = make(connection)
    emit({"path": str(result.path), "rows": result.rows, "note": result.note}, as_json,
         lambda _: typer.echo(f"已导出 {result.rows} 行：{result.path}" + (f"（{result.note}）" if result.note else "")))


@app.command("annex5")
def annex5(call: str = CALL, city: str = typer.Option(..., "--city", help="市（州）代码或名称"), out: Path = OUT,
           scope: str = SCOPE, as_json: bool = JSON_OPTION) -> None:
    """四川 附件5 重点"小巨人"企业名单汇总表 (one 市（州）)."""
    from tasks.reports.summary_tables import sichuan_annex5

    _run(as_json, lambda c: sichuan_annex5(c, call, _code(c, city), out, scope), call, scope)


@app.command("annex6")
def annex6(call: str = CALL, city: str = typer.Option(..., "--city", help="市（州）代码或名称"), out: Path = OUT,
           as_json: bool = JSON_OPTION) -> None:
    """四川 附件6 公共服务示范平台名单汇总表 (headers only: platforms are not stored yet)."""
    from tasks.reports.summary_tables import sichuan_annex6

    _run(as_json, lambda c: sichuan_annex6(c, call, _code(c, city), out), call)


@app.command("annex7")
def annex7(call: str = CALL, city: str = typer.Option(..., "--city", help="市（州）代码或名称"), out: Path = OUT,
           scope: str = SCOPE, as_json: bool = JSON_OPTION) -> None:
    """四川 附件7 企业情况汇总表 (re-importable with `srdi import applications`)."""
    from tasks.reports.summary_tables import sichuan_annex7

    _run(as_json, lambda c: sichuan_annex7(c, call, _code(c, city), out, scope), call, scope)


@app.command("recommendation")
def recommendation(call: str = CALL, province: str = typer.Option(..., "--province", help="省级辖区代码或名称"),
                   out: Path = OUT, scope: str = SCOPE, as_json: bool = JSON_OPTION) -> None:
    """工信厅企业函〔2021〕79号 附件3 推荐汇总表 (one province)."""
    from tasks.reports.summary_tables import recommendation_summary

    _run(as_json, lambda c: recommendation_summary(c, call, _code(c, province), out, scope), call, scope)


@app.command("notice")
def notice(notice_id: int = typer.Argument(..., help="公示 ID"), out: Path = OUT, as_json: bool = JSON_OPTION) -> None:
    """The list of one 公示 (entries removed after an upheld objection are left out)."""
    from tasks.reports.summary_tables import notice_list

    _run(as_json, lambda c: notice_list(c, notice_id, out))
