"""`srdi calendar`: statutory working days (法定工作日)."""

from __future__ import annotations

from datetime import date

import typer

from models.calendar import statutory_calendar
from srdi.cli.output import JSON_OPTION, emit

app = typer.Typer(help="法定工作日计算（含调休）", no_args_is_help=True)

WEEKDAYS = "一二三四五六日"


def _parse(day: str) -> date:
    try:
        return date.fromisoformat(day)
    except ValueError:
        raise typer.BadParameter(f"日期应为 YYYY-MM-DD，实际为 {day!r}") from None


@app.command("is-workday")
def is_workday(day: str = typer.Argument(..., help="日期 YYYY-MM-DD"), as_json: bool = JSON_OPTION) -> None:
    """Whether DAY is a statutory working day."""
    d = _parse(day)
    workday = statutory_calendar().is_workday(d)
    weekend = d.weekday() >= 5
    note = "调休上班" if workday and weekend else ("法定节假日" if not workday and not weekend else "")
    emit(
        {"date": d, "workday": workday, "weekday": d.isoweekday(), "note": note},
        as_json,
        lambda r: typer.echo(f"{d}（星期{WEEKDAYS[d.weekday()]}）{'是' if workday else '不是'}工作日{'（' + note + '）' if note else ''}"),
    )


@app.command("add-workdays")
def add_workdays(
    day: str = typer.Argument(..., help="起算日期 YYYY-MM-DD（当日不计）"),
    n: int = typer.Argument(..., min=0, help="工作日数"),
    as_json: bool = JSON_OPTION,
) -> None:
    """The N-th working day after DAY."""
    start = _parse(day)
    result = statutory_calendar().add_workdays(start, n)
    emit({"start": start, "workdays": n, "date": result}, as_json, lambda r: typer.echo(result.isoformat()))
