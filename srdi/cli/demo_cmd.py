"""`srdi demo` (what `make demo` runs): the whole scenario on the embedded default, in a fresh folder."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(help="演示：河北认定一轮、国家级小巨人一轮、资金，全部走真实流程", invoke_without_command=True)


@app.callback()
def demo(
    directory: Path = typer.Option(Path("var/demo"), "--dir", help="演示目录（每次运行前清空）"),
    enterprises: int = typer.Option(300, "--enterprises", min=30, help="河北申报工作簿的企业数"),
) -> None:
    """Run srdi.demo.run_demo into DIR (deleted first) and print the stage tables and where the files are."""
    from srdi.demo import run_demo
    from srdi.demo.report import print_report

    report = run_demo(directory, enterprises, echo=typer.echo)
    print_report(report)
