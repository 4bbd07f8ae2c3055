"""`srdi rereview`: 复核 — open a year's re-review for a programme's cohort, list its cases."""

from __future__ import annotations

from datetime import datetime, time

import typer

from models.clock import SHANGHAI, parse_instant
from models.db import get_engine
from srdi.cli.output import JSON_OPTION, UsageError, emit, table

app = typer.Typer(help="复核：开启复核批次、查看复核名单", no_args_is_help=True)

OUTCOME = {"pending": "待复核", "passed": "通过", "failed": "不合格", "absent": "未申请"}


def _closes(text: str) -> datetime:
    """YYYY-MM-DDTHH:MM (Beijing time); a bare date means the end of that day."""
    try:
        if "T" in text or " " in text.strip():
            return parse_instant(text)
        return datetime.combine(datetime.fromisoformat(text).date(), time(23, 59, 59), tzinfo=SHANGHAI)
    except ValueError:
        raise UsageError(f"--closes 的值 {text} 无效，应为 YYYY-MM-DD 或 YYYY-MM-DDTHH:MM（北京时间）") from None


@app.command("open")
def open_(programme: str = typer.Option(..., "--programme", help="项目规程 ID"),
          year: int = typer.Option(..., "--year", help="复核到期年度"),
          closes: str = typer.Option(..., "--closes", help="企业申请复核截止 YYYY-MM-DD[THH:MM]（北京时间；只写日期为当日24时前）"),
          as_user: str = typer.Option(None, "--as", help="操作人；默认 system"), as_json: bool = JSON_OPTION) -> None:
    """开启复核批次：复核到期年度为 YEAR 的全部有效认定。"""
    from tasks.recognition.rereview import open_rereview

    with get_engine().begin() as connection:
        result = open_rereview(connection, programme, year, _closes(closes), username=as_user)
    emit(result, as_json, lambda r: typer.echo(
        f"复核批次 {r['call_id']}：新增复核名单 {r['cases_opened']} 家，申请截止 {r['closes_at']:%Y-%m-%d %H:%M}"))


@app.command("show")
def show(programme: str = typer.Option(..., "--programme"), year: int = typer.Option(..., "--year"),
         as_json: bool = JSON_OPTION) -> None:
    """查看复核名单及各企业进展。"""
    from models.errors import NotFound
    from tasks.recognition.rereview import rereview_cases
    from tasks.reference.calls import call_id_for, get_call

    call_id = call_id_for(programme, year, kind="re_review")
    with get_engine().connect() as connection:
        try:
            get_call(connection, call_id)
        except NotFound:
            raise NotFound(f"{programme} 没有 {year} 年度的复核批次（{call_id}）；开启：srdi rereview open") from None
        rows = rereview_cases(connection, call_id)
    emit(rows, as_json, lambda _: table("复核", ["证书编号", "企业", "复核申请", "结果"], [
        (r["certificate_no"], r["name"], r["application"] or "未申请", OUTCOME.get(getattr(r["outcome"], "value", r["outcome"])))
        for r in rows]))
