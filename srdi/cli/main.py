"""Entry point of the `srdi` command. Sub-commands live in one module each."""

from __future__ import annotations

import importlib
import sys

import typer

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
    ("srdi.cli.intake_cmd", "import"),
    ("srdi.cli.eligibility_cmd", "eligibility"),
    ("srdi.cli.export_cmd", "export"),
    ("srdi.cli.demo_cmd", "demo"),
]

for module_name, command in SUBCOMMANDS:
    module = importlib.import_module(module_name)
    app.add_typer(module.app, name=command)


def run() -> None:
    """Run the CLI; a refusal prints one line in Chinese and exits 1, never a traceback."""
    try:
        app()
    except SrdiError as exc:
        typer.echo(f"错误：{exc}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    run()
