"""`srdi serve`: the embedded scheduler, and the web console when it is installed."""

from __future__ import annotations

import typer

app = typer.Typer(help="运行内置调度器（及管理控制台）")


@app.callback(invoke_without_command=True)
def serve_command(
    host: str = typer.Option("127.0.0.1", "--host", help="控制台监听地址"),
    port: int = typer.Option(8000, "--port", help="控制台端口"),
    console: bool = typer.Option(True, "--console/--no-console", help="同时运行管理控制台"),
    scheduler: bool = typer.Option(True, "--scheduler/--no-scheduler",
                                   help="运行内置调度器；由 Prefect 服务器按 prefect.yaml 调度时用 --no-scheduler"),
) -> None:
    """Start the scheduler (jobs in the srdi database) and serve the console until stopped."""
    from srdi.serve import serve

    if not console and not scheduler:
        typer.echo("错误：--no-console 与 --no-scheduler 不能同时使用（将无事可做）", err=True)
        raise typer.Exit(2)
    serve(host=host, port=port, console=console, scheduler=scheduler)
