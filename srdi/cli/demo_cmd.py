"""`srdi demo` (what `make demo` runs): the whole scenario on the embedded default, in a fresh folder."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(help="演示：河北认定一轮、国家级小巨人一轮、资金，全部走真实流程", invoke_without_command=True)


@app.callback()
def demo(
    directory: Path = typer.Option(Path("var/demo"), "--dir",
                                   help="演示目录（每次运行前清空；只清空演示自己创建的目录，其他非空目录拒绝使用）"),
    enterprises: int = typer.Option(300, "--enterprises", min=1, help="河北申报工作簿的企业数"),
) -> None:
    """Run srdi.demo.run_demo into DIR and print the stage tables and where the files are.

    The database is the one SRDI_DATABASE_URL names (refused if it already holds programme data),
    else DIR/srdi.db. DIR is cleared first only if the demo made it; a refusal is one line, exit 1."""
    from srdi.demo import DemoRefused, run_demo
    from srdi.demo.report import print_report

    try:
        report = run_demo(directory, enterprises, echo=typer.echo)
    except DemoRefused as exc:
        typer.echo(f"错误：{exc}", err=True)
        raise typer.Exit(1) from None
    print_report(report)
