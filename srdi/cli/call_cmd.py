"""`srdi call`: open a call (申报批次) of a programme for a year, list calls."""

from __future__ import annotations

from typing import Optional

import typer

from models.clock import clock, local
from models.db import get_engine
from srdi.cli.output import JSON_OPTION, emit, one_of, parse_when, table
from tasks.reference.calls import CALL_KINDS, open_call, open_calls

app = typer.Typer(help="申报批次：开启、查看", no_args_is_help=True)


def _row(call) -> dict:
    return {"id": call.id, "programme_id": call.programme_id, "name": call.name, "year": call.year, "batch": call.batch,
            "kind": call.kind, "jurisdiction_code": call.jurisdiction_code, "opens_at": call.opens_at,
            "closes_at": call.closes_at, "status": call.status}


@app.command("open")
def open_(
    programme: str = typer.Option(..., "--programme", help="申报项目 ID（programmes/ 中的文件名）"),
    year: int = typer.Option(..., "--year", help="申报年度"),
    batch: Optional[int] = typer.Option(None, "--batch", help="批次（同一年度多批时）"),
    kind: str = typer.Option("recognition", "--kind", help=f"批次类型：{' / '.join(CALL_KINDS)}"),
    name: Optional[str] = typer.Option(None, "--name", help="批次名称；默认由项目名称和年度生成"),
    opens_at: Optional[str] = typer.Option(None, "--opens-at", help="开始受理时间（ISO，北京时间）；默认现在"),
    closes_at: Optional[str] = typer.Option(None, "--closes-at", help="申报截止时间；默认按项目规则"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Open the call PROGRAMME × YEAR; opening it again shows the existing call."""
    one_of(kind, CALL_KINDS, "批次类型")
    opens, closes = parse_when(opens_at, "--opens-at"), parse_when(closes_at, "--closes-at")
    with get_engine().begin() as connection:
        call = open_call(connection, programme, year, batch=batch, kind=kind, name=name, opens_at=opens,
                         closes_at=closes, now=clock.now())
    closes = f"，申报截止 {local(call.closes_at):%Y-%m-%d %H:%M}" if call.closes_at else ""
    emit(_row(call), as_json, lambda _: typer.echo(f"批次 {call.id}：{call.name}（{local(call.opens_at):%Y-%m-%d %H:%M} 起受理{closes}）"))


@app.command("list")
def list_(as_json: bool = JSON_OPTION) -> None:
    """Calls that are open."""
    with get_engine().connect() as connection:
        rows = [_row(call) for call in open_calls(connection)]
    emit(rows, as_json, lambda rs: table("申报批次", ["批次", "名称", "类型", "开始", "截止"], [
        (r["id"], r["name"], r["kind"], f"{local(r['opens_at']):%Y-%m-%d}",
         f"{local(r['closes_at']):%Y-%m-%d %H:%M}" if r["closes_at"] else "") for r in rs]))
