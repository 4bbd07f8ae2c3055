"""`srdi clock`: what time srdi thinks it is, and (tests and demos only) a simulated clock that runs."""

from __future__ import annotations

import time

import typer

from srdi.cli.output import JSON_OPTION, emit

app = typer.Typer(help="时钟：查看当前时间；测试与演示时设置模拟时钟", no_args_is_help=True)


@app.command("show")
def show(as_json: bool = JSON_OPTION) -> None:
    """The srdi clock's now (北京时间) and what kind of time it is."""
    from models.clock import clock, local

    simulation = clock.simulated
    data = {"now": local(clock.now()).isoformat(), "frozen": clock.frozen,
            "simulated": simulation is not None, "speed": simulation.speed if simulation else 1.0}
    kind = "固定（SRDI_NOW）" if clock.frozen else f"模拟，倍速 {data['speed']:g}" if simulation else "真实时间"
    emit(data, as_json, lambda d: typer.echo(f"{local(clock.now()):%Y-%m-%d %H:%M:%S}（北京时间，{kind}）"))


@app.command("set")
def set_clock(
    when: str = typer.Argument(..., help="模拟时间，如 2026-03-02T08:00（北京时间）"),
    speed: float = typer.Option(1.0, "--speed", min=0.0, help="倍速：1 为与真实时间同速，3600 为每秒一小时"),
) -> None:
    """Start the simulated clock at WHEN, running at SPEED (needs SRDI_CLOCK_FILE; never in production)."""
    from models.clock import Simulation, parse_instant, simulation_file

    target = simulation_file()
    if target is None:
        typer.echo("错误：未启用模拟时钟：须设置环境变量 SRDI_CLOCK_FILE（仅限测试与演示，生产环境不得设置）", err=True)
        raise typer.Exit(1)
    try:
        at = parse_instant(when)
    except ValueError:
        typer.echo(f"错误：时间 {when} 无法识别，应为 ISO 格式，如 2026-03-02T08:00", err=True)
        raise typer.Exit(2) from None
    target.write(Simulation(at, time.time(), speed))
    typer.echo(f"模拟时钟已设为 {when}，倍速 {speed:g}（{target.path}）")
