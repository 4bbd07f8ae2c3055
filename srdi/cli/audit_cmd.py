"""`srdi audit`: prove the audit trail — walk every hash chain (verify), or seal what is not yet sealed (seal)."""

from __future__ import annotations

import typer

from models.audit_chain import seal as seal_rows
from models.audit_chain import verify as verify_chains
from models.db import get_engine
from srdi.cli.output import JSON_OPTION, emit, table

app = typer.Typer(help="审计链：核验、封存", no_args_is_help=True)

TABLE_LABELS = {"transition": "流转记录（含审核决定）", "state_change": "状态变更记录", "payment": "拨付记录",
                "payment_adjustment": "扣减追回记录", "user_change": "用户变更记录", "operator_log": "操作记录",
                "application": "申报当前状态（与最后一条流转记录核对）"}


@app.command("verify")
def verify(as_json: bool = JSON_OPTION) -> None:
    """Walk every chain; name the first row that does not match (exit 1), else print rows checked and head digests."""
    with get_engine().connect() as connection:
        reports = verify_chains(connection)
    data = [{"table": r.table, "rows": r.rows, "head": r.head, "ok": r.ok, "row_id": r.row_id, "problem": r.problem}
            for r in reports]

    def render(rows: list[dict]) -> None:
        table("审计链核验", ["表", "已核验行数", "链头摘要", "结果"],
              [(f"{TABLE_LABELS[r['table']]}（{r['table']}）", r["rows"], (r["head"][:16] + "…") if r["head"] else "—",
                "一致" if r["ok"] else f"不符：{r['problem']}") for r in rows])
        for r in rows:
            if not r["ok"]:
                typer.echo(f"错误：{r['table']} 第 {r['row_id']} 行：{r['problem']}", err=True)

    emit(data, as_json, render)
    if not all(r.ok for r in reports):
        raise typer.Exit(1)


@app.command("seal")
def seal(as_json: bool = JSON_OPTION) -> None:
    """Seal every audit row not yet in its chain (run verify first: a row slipped in by hand would be sealed too)."""
    with get_engine().begin() as connection:
        sealed = seal_rows(connection)
    emit(sealed, as_json, lambda s: typer.echo(
        "已封存：" + "，".join(f"{TABLE_LABELS[k]} {v} 行" for k, v in s.items()) if s else "没有待封存的行"))
