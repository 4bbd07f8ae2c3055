"""`srdi pipeline`: run the due steps (advance) or close one review level."""

from __future__ import annotations

import typer

from models.clock import clock
from srdi.cli.identity import operator
from srdi.cli.output import JSON_OPTION, emit
from tasks.reports.labels import outcome_text

app = typer.Typer(help="流程：推进到期步骤、结束某一级审核", no_args_is_help=True)
LEVELS = ("county", "municipal", "provincial", "ministry")


def _print_advance(result: dict) -> None:
    for ref, summary in result.items():
        flat = {k: v for k, v in summary.items() if not isinstance(v, (dict, list))}
        typer.echo(f"{ref}: {flat}")
        for call_id, detail in (summary.get("calls") or {}).items():
            typer.echo(f"  {call_id}: {outcome_text(detail) or '无变化'}")
            for where, why in (detail.get("waiting_examples") or {}).items():
                typer.echo(f"    等待 {where}：{why}")
            if detail.get("waiting", 0) > len(detail.get("waiting_examples") or {}):
                typer.echo(f"    …… 共 {detail['waiting']} 个审核尚不能结束")


@app.command("advance")
def advance(as_json: bool = JSON_OPTION) -> None:
    """Run every step due at the clock's now, for every call: the scheduler's pipeline-advance job, now.

    The same flow the scheduler and the Prefect deployment run, recorded as a manual run of the job
    (so it never overlaps a scheduled one). A call that cannot proceed is reported as blocked and the
    others go on; the exit code is 1 when any call is blocked, after everything else has run.
    """
    from srdi.scheduler import run_job
    from tasks.pipeline.due import blocked_of

    run = run_job("pipeline-advance")
    if run["status"] in ("busy", "failed"):
        typer.echo(f"错误：推进评审流程未完成：{run['error']}", err=True)
        raise typer.Exit(1)
    result = run["result"]
    emit(result, as_json, _print_advance)
    blocked = blocked_of(result)
    for ref, calls in blocked.items():
        for call_id, reason in calls.items():
            typer.echo(f"受阻：{call_id}（{ref}）：{reason}", err=True)
    if blocked:
        raise typer.Exit(1)


def _check_window(call: str, level: str, jurisdiction: str) -> None:
    """Refuse a bad level, call or jurisdiction at once, before any flow starts."""
    from sqlalchemy import select

    from models.db import get_engine
    from models.jurisdiction import Jurisdiction
    from tasks.reference.calls import get_call

    if level not in LEVELS:
        typer.echo(f"错误：层级 {level} 无效，应为 {'、'.join(LEVELS)} 之一", err=True)
        raise typer.Exit(2)
    with get_engine().connect() as connection:
        get_call(connection, call)
        if connection.execute(select(Jurisdiction.code).where(Jurisdiction.code == jurisdiction)).first() is None:
            typer.echo(f"错误：行政区划代码 {jurisdiction} 不存在", err=True)
            raise typer.Exit(1)


@app.command("close-level")
def close_level(
    call: str = typer.Option(..., "--call", help="批次 ID"),
    level: str = typer.Option(..., "--level", help="county / municipal / provincial / ministry"),
    jurisdiction: str = typer.Option(..., "--jurisdiction", help="审核辖区代码"),
    actor: str = typer.Option("system", "--as", help="结束审核的主管部门用户；默认 system"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Close CALL's LEVEL review in JURISDICTION: quota, forward up the route, lapse or escalate the undecided."""
    _check_window(call, level, jurisdiction)
    actor = operator(actor, system_allowed=True)
    from flows.level_close import close_level_flow

    result = close_level_flow(call, level, jurisdiction, actor, clock.now().isoformat())

    def render(r: dict) -> None:
        if r.get("already_closed"):
            typer.echo(f"{jurisdiction} {level} 级审核此前已结束，未作改动")
            return
        typer.echo(f"已结束 {jurisdiction} {level} 级审核：{outcome_text({k: v for k, v in r.items() if k != 'closed'}) or '无申报变动'}")

    emit(result, as_json, render)
