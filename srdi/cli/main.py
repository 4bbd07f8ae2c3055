"""Entry point of the `srdi` command. Sub-commands live in one module each.

Every answer to bad input is one line: a usage error (missing option, bad value, unknown
command) exits 2, a refusal (SrdiError: unknown id, closed level, unmigrated PostgreSQL…)
exits 1, and an unexpected error exits 1 with one line pointing at ``--verbose``, which shows
Prefect's logs and the traceback. A command that reads or writes the srdi database first
brings the embedded SQLite schema up to date (srdi.database.ensure_schema); commands that need
no database (calendar, programmes, db, import template, mail sink, --help) never create one.
"""

from __future__ import annotations

import functools
import importlib
import logging
import os
import sys
import traceback
from typing import Callable, Sequence

import typer
from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError

from models.errors import SrdiError

app = typer.Typer(
    help="srdi：专精特新中小企业申报、评审、公示、认定与资金管理",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

# (module, command name) — each module defines a typer app called `app`.
SUBCOMMANDS = [
    ("srdi.cli.calendar_cmd", "calendar"),
    ("srdi.cli.db_cmd", "db"),
    ("srdi.cli.programmes_cmd", "programmes"),
    ("srdi.cli.console_cmd", "user"),
    ("srdi.cli.funds_cmd", "funds"),
    ("srdi.cli.notice_cmd", "notice"),
    ("srdi.cli.recognition_cmd", "recognition"),
    ("srdi.cli.rereview_cmd", "rereview"),
    ("srdi.cli.reminders_cmd", "reminders"),
    ("srdi.cli.mail_cmd", "mail"),
    ("srdi.cli.scheduler_cmd", "scheduler"),
    ("srdi.cli.serve_cmd", "serve"),
    ("srdi.cli.announce_cmd", "announce"),
    ("srdi.cli.call_cmd", "call"),
    ("srdi.cli.review_cmd", "review"),
    ("srdi.cli.pipeline_cmd", "pipeline"),
    ("srdi.cli.status_cmd", "status"),
    ("srdi.cli.application_cmd", "application"),
    ("srdi.cli.audit_cmd", "audit"),
    ("srdi.cli.intake_cmd", "import"),
    ("srdi.cli.eligibility_cmd", "eligibility"),
    ("srdi.cli.export_cmd", "export"),
    ("srdi.cli.clock_cmd", "clock"),
    ("srdi.cli.demo_cmd", "demo"),
    ("srdi.cli.workflow_cmd", "workflow"),
]

# Commands that work without the srdi database. `serve` checks the schema itself (srdi.serve);
# `demo` builds its own database in its own folder.
WITHOUT_DATABASE = {"calendar", "clock", "db", "programmes", "serve", "demo", "import template", "mail sink", "workflow"}

# Without --verbose, Prefect writes nothing on the console (its logs still reach its API).
QUIET_PREFECT = {
    "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "CRITICAL",
    "PREFECT_LOGGING_HANDLERS_DEBUG_LEVEL": "CRITICAL",
}
VERBOSE_FLAGS = ("--verbose", "-v")
INTERNAL_HINT = "（内部错误，--verbose 查看详情）"


def _with_schema(callback: Callable) -> Callable:
    """CALLBACK, run after its arguments parsed and before its body: the schema is brought to head."""
    if getattr(callback, "__srdi_schema__", False):
        return callback

    @functools.wraps(callback)
    def checked(*args, **kwargs):
        from srdi.database import ensure_schema

        ensure_schema()
        return callback(*args, **kwargs)

    checked.__srdi_schema__ = True
    return checked


def _guard(group: typer.Typer, path: str) -> None:
    """Wrap every command of GROUP (named PATH) that needs the database."""
    if path in WITHOUT_DATABASE:
        return
    for info in group.registered_commands:
        name = info.name or typer.main.get_command_name(info.callback.__name__)
        if f"{path} {name}" not in WITHOUT_DATABASE:
            info.callback = _with_schema(info.callback)
    for sub in group.registered_groups:
        _guard(sub.typer_instance, f"{path} {sub.name}")
    if not group.registered_commands and not group.registered_groups and group.registered_callback:
        # a group that is itself the command (invoke_without_command): its callback is the body
        group.registered_callback.callback = _with_schema(group.registered_callback.callback)


for module_name, command in SUBCOMMANDS:
    module = importlib.import_module(module_name)
    _guard(module.app, command)
    app.add_typer(module.app, name=command)


@app.callback()
def root(
    verbose: bool = typer.Option(False, *VERBOSE_FLAGS, help="显示 Prefect 日志；内部错误时打印调用栈"),
) -> None:
    # read by run() before parsing (Prefect's logging is set up when it is first imported)
    pass


def main(args: Sequence[str] | None = None, *, verbose: bool = False) -> int:
    """Run the CLI on ARGS and return the exit code; every error is one line on stderr."""
    args = list(sys.argv[1:] if args is None else args)
    try:
        result = app(args=args, prog_name="srdi", standalone_mode=False)
    except SrdiError as exc:
        typer.echo(f"错误：{exc}", err=True)
        return 1
    except NoArgsIsHelpError as exc:
        shown = exc.ctx.get_help() if exc.ctx else ""
        if shown:
            typer.echo(shown)
        return 2
    except UsageError as exc:
        from srdi.cli.output import usage_error_line

        typer.echo(usage_error_line(exc), err=True)
        return 2
    except ClickException as exc:
        typer.echo(f"错误：{exc.format_message()}", err=True)
        return exc.exit_code
    except typer.Abort:
        typer.echo("已取消", err=True)
        return 1
    except KeyboardInterrupt:
        typer.echo("已中断", err=True)
        return 130
    except Exception as exc:  # noqa: BLE001  (an unexpected error: one line, the traceback only on request)
        if verbose:
            traceback.print_exc()
        typer.echo(f"错误：{_first_line(exc)}{INTERNAL_HINT}", err=True)
        return 1
    return result if isinstance(result, int) else 0


def wants_verbose(args: Sequence[str]) -> bool:
    """--verbose among the root options (before the first sub-command)."""
    for arg in args:
        if arg in VERBOSE_FLAGS:
            return True
        if not arg.startswith("-"):
            return False
    return False


def quiet_console() -> None:
    """Before Prefect is first imported: no Prefect log lines, srdi's own warnings as one line each."""
    for key, value in QUIET_PREFECT.items():
        os.environ.setdefault(key, value)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_OneLineFormatter())
    handler.setLevel(logging.WARNING)
    handler.addFilter(lambda record: record.name.split(".")[0] in OWN_LOGGERS)
    logging.getLogger().addHandler(handler)


OWN_LOGGERS = {"srdi", "tasks", "flows", "models", "notifications"}


class _OneLineFormatter(logging.Formatter):
    """srdi's own warnings, one line each, without the traceback (that is what --verbose is for)."""

    def format(self, record: logging.LogRecord) -> str:
        lines = record.getMessage().strip().splitlines()
        return f"警告：{lines[0] if lines else record.levelname}"


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    line = text.splitlines()[0] if text else ""
    return f"{type(exc).__name__}: {line}" if line else type(exc).__name__


def run() -> None:
    """The `srdi` console script."""
    from srdi.prefect_runtime import install

    args = sys.argv[1:]
    verbose = wants_verbose(args)
    if not verbose:
        quiet_console()
    install()              # Prefect's temporary server, if a command starts one, dies with this process
    sys.exit(main(args, verbose=verbose))


if __name__ == "__main__":
    run()
