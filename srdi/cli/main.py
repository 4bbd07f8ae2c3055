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
