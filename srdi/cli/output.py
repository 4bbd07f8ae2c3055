"""Output helpers shared by every command: --json for machines, rich tables for clerks."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Callable, Iterable

import typer
from rich.console import Console
from rich.table import Table
from typer._click.exceptions import BadOptionUsage, BadParameter, MissingParameter, NoSuchOption, UsageError

console = Console()

JSON_OPTION = typer.Option(False, "--json", help="以 JSON 输出（供程序读取）")


def _default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def to_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, default=_default)


def emit(data: Any, as_json: bool, render: Callable[[Any], None]) -> None:
    if as_json:
        typer.echo(to_json(data))
    else:
        render(data)


def table(title: str, columns: Iterable[str], rows: Iterable[Iterable[Any]]) -> None:
    grid = Table(title=title)
    for column in columns:
        grid.add_column(column)
    for row in rows:
        grid.add_row(*("" if cell is None else str(cell) for cell in row))
    console.print(grid)


# ── one-line errors ─────────────────────────────────────────────────────────────────────────
# Typer (0.29, pinned) parses with its own copy of click and checks values with pydantic; their
# messages are English. A clerk gets one Chinese line: what was wrong, what is expected, and where
# the usage is.

def either(allowed: Iterable[str]) -> str:
    """a、b 或 c"""
    items = [str(a) for a in allowed]
    return items[0] if len(items) == 1 else "、".join(items[:-1]) + " 或 " + items[-1]


def one_of(value: str | None, allowed: Iterable[Any], what: str) -> str | None:
    """VALUE if it is one of ALLOWED (None passes); otherwise a usage error (exit 2) naming both."""
    allowed = [getattr(a, "value", a) for a in allowed]
    if value is None or value in allowed:
        return value
    raise UsageError(f"{what} {value} 无效，应为 {either(allowed)}")


def parse_when(text: str | None, option: str) -> datetime | None:
    """An instant given on the command line (Beijing time unless it says otherwise); None passes."""
    if text is None:
        return None
    from models.clock import parse_instant

    try:
        return parse_instant(text)
    except ValueError:
        raise UsageError(f"{option} 的值 {text} 无效，应为时间 YYYY-MM-DD 或 YYYY-MM-DDTHH:MM（北京时间）") from None


def parse_day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{option} 的值 {text} 无效，应为日期 YYYY-MM-DD") from None


def _param_name(param: Any) -> str:
    if param is None:
        return "参数"
    if getattr(param, "param_type_name", "") == "option":
        return "选项 " + max(param.opts, key=len)
    return "参数 " + (param.metavar or (param.name or "").upper())


_PYDANTIC = {
    "int_parsing": "应为整数，实际为 {input!r}",
    "int_from_float": "应为整数，实际为 {input!r}",
    "float_parsing": "应为数字，实际为 {input!r}",
    "decimal_parsing": "应为数字，实际为 {input!r}",
    "bool_parsing": "应为 true 或 false，实际为 {input!r}",
    "greater_than_equal": "应不小于 {ge}，实际为 {input}",
    "greater_than": "应大于 {gt}，实际为 {input}",
    "less_than_equal": "应不大于 {le}，实际为 {input}",
    "less_than": "应小于 {lt}，实际为 {input}",
    "date_from_datetime_parsing": "应为日期 YYYY-MM-DD，实际为 {input!r}",
    "date_parsing": "应为日期 YYYY-MM-DD，实际为 {input!r}",
    "datetime_parsing": "应为时间 YYYY-MM-DDTHH:MM，实际为 {input!r}",
}
_PATHS = [
    (r"^\w+ '(.*)' does not exist", "{0} 不存在"),
    (r"^\w+ '(.*)' is a directory", "{0} 是目录，应为文件"),
    (r"^\w+ '(.*)' is a file", "{0} 是文件，应为目录"),
    (r"^\w+ '(.*)' is not readable", "{0} 无法读取"),
    (r"^\w+ '(.*)' is not writable", "{0} 无法写入"),
]


def _value_problem(exc: BadParameter) -> str:
    """What is wrong with a parameter's value (after its name), in Chinese when typer said it in English."""
    message = exc.message
    if _has_chinese(message):
        return f"：{message}"
    cause = exc.__cause__
    error = cause.errors()[0] if cause is not None and hasattr(cause, "errors") and cause.errors() else None
    if error is not None:
        choices = re.match(r"(?:Value error, )?'(.*?)' is not one of (.*?)\.?$", error["msg"])
        if choices:
            allowed = re.findall(r"'([^']*)'", choices.group(2))
            return f" 的值 {choices.group(1)} 无效，应为 {either(allowed)}"
        template = _PYDANTIC.get(error["type"])
        if template:
            return " 的值" + template.format(input=error.get("input"), **(error.get("ctx") or {}))
        return f" 的值 {error.get('input')!r} 无效（{error['msg']}）"
    for pattern, text in _PATHS:
        found = re.search(pattern, message, re.IGNORECASE)
        if found:
            return "：" + text.format(*found.groups())
    return f" 的值无效（{message}）"


def usage_error_line(exc: UsageError) -> str:
    """One line for a usage error: what was wrong, what is expected, where the help is."""
    ctx = exc.ctx
    if isinstance(exc, MissingParameter):
        helptext = getattr(exc.param, "help", None)
        text = f"缺少{_param_name(exc.param)}" + (f"（{helptext}）" if helptext else "")
    elif isinstance(exc, BadParameter):
        text = f"{_param_name(exc.param)}{_value_problem(exc)}" if exc.param is not None else exc.message
    elif isinstance(exc, NoSuchOption):
        text = f"没有选项 {exc.option_name}"
        if exc.option_name in ("--verbose", "-v"):
            text += "；--verbose 是全局选项，应写在子命令之前：srdi --verbose …"
        elif exc.possibilities:
            text += f"，是否要用 {either(sorted(exc.possibilities))}"
    elif isinstance(exc, BadOptionUsage) and "requires an argument" in exc.message:
        text = f"选项 {exc.option_name} 需要一个值"
    elif (unknown := re.match(r"No such command '([^']*)'", exc.message)):
        text = f"没有命令 {unknown.group(1)}"
        guess = re.search(r"Did you mean '([^']*)'", exc.message)
        choices = ctx.command.list_commands(ctx) if ctx is not None and hasattr(ctx.command, "list_commands") else []
        if guess:
            text += f"，是否要用 {guess.group(1)}"
        elif choices:
            text += f"，可用命令：{either(choices)}"
    elif (extra := re.match(r"Got unexpected extra argument(?:s|\(s\))? \((.*)\)", exc.message)):
        text = f"多余的参数 {extra.group(1)}"
    else:
        text = exc.format_message()
    where = f"；用法见 {ctx.command_path} --help" if ctx is not None else ""
    return f"错误：{text}{where}"


def _has_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)
