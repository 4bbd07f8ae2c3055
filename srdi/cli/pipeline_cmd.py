"""`srdi pipeline`: run the due steps (advance) or close one review level."""

from __future__ import annotations

import typer

from srdi.cli.output import JSON_OPTION, emit
from srdi.clock import clock
from tasks.labels import outcome_text

app = typer.Typer(help="流程：推进到期步骤、结束某一级审核", no_args_is_help=True)


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
def advance(
    without_prefect: bool = typer.Option(False, "--without-prefect", help="直接调用各步骤，不经 Prefect（无 Prefect 服务时）"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Run every step due at the clock's now, for every open call (one Prefect task per step)."""
    if without_prefect:
        from tasks.due import run_due_steps

        result = run_due_steps(clock.now())
    else:
        from flows.advance import advance_flow

        result = advance_flow(clock.now().isoformat())
    emit(result, as_json, _print_advance)


@app.command("close-level")
def close_level(
    call: str = typer.Option(..., "--call", help="批次 ID"),
    level: str = typer.Option(..., "--level", help="county / municipal / provincial / ministry"),
    jurisdiction: str = typer.Option(..., "--jurisdiction", help="审核辖区代码"),
    actor: str = typer.Option("system", "--as", help="结束审核的主管部门用户；默认 system"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Close CALL's LEVEL review in JURISDICTION: quota, forward up the route, lapse or escalate the undecided."""
    from flows.review import close_level_flow

    result = close_level_flow(call, level, jurisdiction, actor, clock.now().isoformat())

    def render(r: dict) -> None:
        if r.get("already_closed"):
            typer.echo(f"{jurisdiction} {level} 级审核此前已结束，未作改动")
            return
        typer.echo(f"已结束 {jurisdiction} {level} 级审核：{outcome_text({k: v for k, v in r.items() if k != 'closed'}) or '无申报变动'}")

    emit(result, as_json, render)
