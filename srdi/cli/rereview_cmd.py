"""`srdi rereview`: 复核 — open a year's re-review for a programme's cohort, record who applies, list its cases."""

from __future__ import annotations

from datetime import datetime, time
from pathlib import Path
from typing import Optional

import typer

from models.clock import SHANGHAI, parse_instant
from models.db import get_engine
from srdi.cli.identity import operator
from srdi.cli.output import JSON_OPTION, UsageError, emit, table
from tasks.people.operators import SYSTEM

app = typer.Typer(help="复核：开启复核批次、登记复核申请、查看复核名单", no_args_is_help=True)

OUTCOME = {"pending": "待复核", "passed": "通过", "failed": "不合格", "absent": "未申请"}


def _closes(text: str) -> datetime:
    """YYYY-MM-DDTHH:MM (Beijing time); a bare date means the end of that day."""
    try:
        if "T" in text or " " in text.strip():
            return parse_instant(text)
        return datetime.combine(datetime.fromisoformat(text).date(), time(23, 59, 59), tzinfo=SHANGHAI)
    except ValueError:
        raise UsageError(f"--closes 的值 {text} 无效，应为 YYYY-MM-DD 或 YYYY-MM-DDTHH:MM（北京时间）") from None


def _require_call(connection, programme: str, year: int, call_id: str) -> None:
    from models.errors import NotFound
    from tasks.reference.calls import get_call

    try:
        get_call(connection, call_id)
    except NotFound:
        raise NotFound(f"{programme} 没有 {year} 年度的复核批次（{call_id}）；开启：srdi rereview open") from None


@app.command("open")
def open_(programme: str = typer.Option(..., "--programme", help="项目规程 ID"),
          year: int = typer.Option(..., "--year", help="复核到期年度"),
          closes: str = typer.Option(..., "--closes", help="企业申请复核截止 YYYY-MM-DD[THH:MM]（北京时间；只写日期为当日24时前）"),
          as_user: str = typer.Option(None, "--as", help="操作人；默认 system"), as_json: bool = JSON_OPTION) -> None:
    """开启复核批次：复核到期年度为 YEAR 的全部有效认定。"""
    from tasks.recognition.rereview import open_rereview

    as_user = None if operator(as_user, system_allowed=True) == SYSTEM else as_user
    with get_engine().begin() as connection:
        result = open_rereview(connection, programme, year, _closes(closes), username=as_user)
    emit(result, as_json, lambda r: typer.echo(
        f"复核批次 {r['call_id']}：新增复核名单 {r['cases_opened']} 家，申请截止 {r['closes_at']:%Y-%m-%d %H:%M}"))


@app.command("apply")
def apply(programme: str = typer.Option(..., "--programme", help="项目规程 ID"),
          year: int = typer.Option(..., "--year", help="复核到期年度"),
          file: Optional[Path] = typer.Option(None, "--file", exists=True, dir_okay=False,
                                              help="申请复核的企业名单 .xlsx 或 .csv（含“统一社会信用代码”列）"),
          usccs: Optional[list[str]] = typer.Option(None, "--uscc", help="申请复核企业的统一社会信用代码（可多次给出）"),
          as_user: str = typer.Option("system", "--as", help="操作用户（默认 system）"), as_json: bool = JSON_OPTION) -> None:
    """登记复核申请：名单上的企业以其在库信息经申报受理进入复核流程（全部通过或全部不登记）。"""
    from models.enterprise import normalise_uscc
    from tasks.intake.code_list import read_codes
    from tasks.recognition.rereview import apply_rereview, rereview_records
    from tasks.reference.calls import call_id_for

    if not file and not usccs:
        raise UsageError("请用 --file 给出名单，或用 --uscc 给出统一社会信用代码")
    as_user = operator(as_user, system_allowed=True)
    codes = [*(read_codes(file) if file else []), *(normalise_uscc(code) for code in usccs or [])]
    call_id = call_id_for(programme, year, kind="re_review")
    with get_engine().begin() as connection:
        _require_call(connection, programme, year, call_id)
        result = apply_rereview(connection, call_id, rereview_records(connection, codes), as_user)
    emit(result, as_json, lambda r: typer.echo(f"复核批次 {r['call_id']}：登记复核申请 {r['applied']} 家"))


@app.command("show")
def show(programme: str = typer.Option(..., "--programme"), year: int = typer.Option(..., "--year"),
         as_json: bool = JSON_OPTION) -> None:
    """查看复核名单及各企业进展。"""
    from tasks.recognition.rereview import rereview_cases
    from tasks.reference.calls import call_id_for

    call_id = call_id_for(programme, year, kind="re_review")
    with get_engine().connect() as connection:
        _require_call(connection, programme, year, call_id)
        rows = rereview_cases(connection, call_id)
    emit(rows, as_json, lambda _: table("复核", ["证书编号", "企业", "复核申请", "结果"], [
        (r["certificate_no"], r["name"], r["application"] or "未申请", OUTCOME.get(getattr(r["outcome"], "value", r["outcome"])))
        for r in rows]))
