"""`srdi db`: create or upgrade the database schema (数据库迁移) and load reference data."""

from __future__ import annotations

from typing import Optional

import typer

from srdi.cli.output import JSON_OPTION, emit

app = typer.Typer(help="数据库：建表、升级架构、载入行政区划与申报项目", no_args_is_help=True)

URL_OPTION = typer.Option(None, "--url", help="数据库 URL；默认取 SRDI_DATABASE_URL 或 var/srdi.db")


def _revision(value: str | None) -> str:
    return value or "空库（无版本）"


def _print_upgrade(report) -> None:
    typer.echo(f"数据库：{report.database}")
    if report.applied:
        typer.echo(
            f"架构：{_revision(report.before)} → {report.after}，执行迁移 {len(report.applied)} 个（{', '.join(report.applied)}）"
        )
    else:
        typer.echo(f"架构：已是最新版本 {report.after}，无需迁移")
    typer.echo(f"行政区划：新增 {report.jurisdictions_added} 个，共 {report.jurisdictions_total} 个")
    if report.programmes_total is None:
        typer.echo("申报项目：未安装项目载入模块（tasks.reference.programmes），跳过")
    else:
        typer.echo(f"申报项目：新增或更新 {report.programmes_changed} 个，共 {report.programmes_total} 个")


@app.command("upgrade")
def upgrade(url: Optional[str] = URL_OPTION, as_json: bool = JSON_OPTION) -> None:
    """Migrate the schema to the newest revision, then load jurisdictions and programmes."""
    from srdi.migrate import upgrade as run_upgrade

    report = run_upgrade(url)
    emit(report.as_dict(), as_json, lambda _: _print_upgrade(report))


@app.command("current")
def current(url: Optional[str] = URL_OPTION, as_json: bool = JSON_OPTION) -> None:
    """Which schema revision the database is at."""
    from srdi.migrate import schema_state

    state = schema_state(url)

    def render(_):
        typer.echo(f"数据库：{state.database}")
        typer.echo(f"当前版本：{_revision(state.current)}；最新版本：{state.head}")
        typer.echo("架构已是最新" if state.up_to_date else "需要升级：请运行 srdi db upgrade")

    emit(state.as_dict(), as_json, render)


@app.command("regenerate-initial", hidden=True)
def regenerate_initial() -> None:
    """Development only (pre-release): rewrite migrations/versions/0001_initial.py from the models."""
    from srdi.migrate import regenerate_initial as regenerate

    path = regenerate()
    typer.echo(f"已根据当前模型重新生成 {path}")
