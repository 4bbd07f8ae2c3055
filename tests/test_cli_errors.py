"""Clean failures on the command line: every command answers bad input with one Chinese line on
stderr — exit 2 for a usage error, 1 for a refusal — never a traceback, never an internal error.

The walk introspects the whole command tree, so a new command is covered the day it is added:
each gets an unknown option, its required parameters left out, and its required parameters
filled with values that name nothing (an unknown call, application, notice, enterprise…). The
table below adds the bad values of optional and enum-like parameters a clerk will mistype.
"""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal
from enum import Enum
from pathlib import Path

import pytest
from sqlmodel import SQLModel
from typer.main import get_command

from srdi.cli.main import INTERNAL_HINT, app, main

# Commands whose bodies are not run with made-up values (they still get the unknown option).
NOT_RUN = {
    "serve": "starts the scheduler and the web console until stopped",
    "mail sink": "starts an SMTP server until stopped",
    "demo": "runs the whole demonstration (minutes) in its own folder",
    "db revision": "development only: writes a new script under migrations/versions/",
}

NOPE = "NOPE"


def leaves(command, path: tuple[str, ...] = ()):
    subcommands = getattr(command, "commands", None)
    if subcommands:
        for name in sorted(subcommands):
            yield from leaves(subcommands[name], (*path, name))
    else:
        yield path, command


COMMANDS = dict(leaves(get_command(app)))


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    """A migrated SQLite database (and files to feed the commands), shared by the module."""
    from models.db import make_engine
    from srdi.migrate import upgrade

    folder = tmp_path_factory.mktemp("cli-errors")
    url = f"sqlite:///{folder / 'srdi.db'}"
    upgrade(url)
    engine = make_engine(url)
    SQLModel.metadata.create_all(engine)   # tables newer than the migration (test_migrations guards that drift)
    engine.dispose()
    (folder / "garbage.csv").write_text("这不是,申报表\n1,2\n", encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SRDI_DATABASE_URL", url)
        patch.setenv("SRDI_HOME", str(folder / "home"))
        patch.delenv("SRDI_CLOCK_FILE", raising=False)
        patch.setenv("PREFECT_HOME", str(folder / "prefect"))
        yield folder


def srdi(capsys, *args) -> tuple[int, str, str]:
    """Run the CLI in-process exactly as the console script does (srdi.cli.main.main)."""
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line(code: int, out: str, err: str, expected: tuple[int, ...] = (1, 2)) -> str:
    assert "Traceback" not in out + err
    assert INTERNAL_HINT not in err, f"an internal error instead of a clear answer: {err}"
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got: {err!r} (stdout {out!r})"
    assert lines[0].startswith("错误："), lines[0]
    assert code in expected, f"exit {code}: {lines[0]}"
    return lines[0]


def bogus_value(param, folder: Path) -> str:
    kind = param.type_descriptor.annotation
    info = param.type_descriptor.parameter_info
    if isinstance(kind, type) and issubclass(kind, Enum):
        return str(next(iter(kind)).value)             # a valid choice: reach the lookup behind it
    if kind is int:
        return "999999"
    if kind in (float, Decimal):
        return "1"
    if kind is Path:
        return str(folder / "garbage.csv") if getattr(info, "exists", False) else str(folder / "out" / "x.xlsx")
    return NOPE


def filled(path, command, folder: Path) -> list[str]:
    args = list(path)
    for param in command.params:
        if not param.required:
            continue
        if param.param_type_name == "option":
            args += [max(param.opts, key=len), bogus_value(param, folder)]
        else:
            args.append(bogus_value(param, folder))
    return args


def required(command) -> bool:
    return any(param.required for param in command.params)


def name(path) -> str:
    return " ".join(path)


@pytest.mark.parametrize("path", list(COMMANDS), ids=name)
def test_an_unknown_option_is_one_line_and_exit_2(path, migrated, capsys):
    line = assert_one_line(*srdi(capsys, *path, "--no-such-option"), expected=(2,))
    assert "没有选项 --no-such-option" in line and f"srdi {name(path)} --help" in line


@pytest.mark.parametrize("path", [p for p, c in COMMANDS.items() if required(c)], ids=name)
def test_a_missing_required_parameter_is_one_line_and_exit_2(path, migrated, capsys):
    line = assert_one_line(*srdi(capsys, *path), expected=(2,))
    assert "缺少" in line


@pytest.mark.parametrize("path", [p for p, c in COMMANDS.items() if required(c) and name(p) not in NOT_RUN], ids=name)
def test_values_that_name_nothing_are_refused_in_one_line(path, migrated, capsys):
    assert_one_line(*srdi(capsys, *filled(path, COMMANDS[path], migrated)))


def test_the_commands_not_run_are_all_still_registered():
    assert set(NOT_RUN) <= {name(p) for p in COMMANDS}, "NOT_RUN names a command that no longer exists"


# (arguments, exit code, words the line must contain); {dir} is the module's scratch folder.
BAD_VALUES = [
    (["application", "show", NOPE], 1, ["NOPE"]),
    (["status", "--call", NOPE], 1, ["NOPE"]),
    (["status", "--level", "county"], 2, ["--call"]),
    (["status", "--call", NOPE, "--level", "bogus"], 2, ["bogus", "county"]),
    (["pipeline", "close-level", "--call", NOPE, "--level", "bogus", "--jurisdiction", "130000"], 2, ["bogus", "county"]),
    (["pipeline", "close-level", "--call", NOPE, "--level", "county", "--jurisdiction", "130000"], 1, ["NOPE"]),
    (["scheduler", "run", NOPE], 2, ["NOPE"]),
    (["call", "open", "--programme", NOPE, "--year", "2026"], 1, ["NOPE"]),
    (["call", "open", "--programme", "hebei-provincial-srdi", "--year", "2026", "--kind", "bogus"], 2, ["bogus", "recognition"]),
    (["call", "open", "--programme", "hebei-provincial-srdi", "--year", "2026", "--opens-at", "bogus"], 2, ["--opens-at", "bogus"]),
    (["call", "open", "--programme", "hebei-provincial-srdi", "--year", "abc"], 2, ["--year", "整数"]),
    (["review", "decide", NOPE, "--decision", "bogus", "--as", "nobody"], 2, ["--decision", "recommend"]),
    (["review", "decide", NOPE, "--decision", "recommend", "--as", "nobody"], 1, []),
    (["review", "decide", NOPE, "--decision", "recommend", "--as", "nobody", "--score", "abc"], 2, ["--score", "abc"]),
    (["review", "resubmit", NOPE, "--as", "nobody", "--version", "x"], 2, ["--version"]),
    (["eligibility", "run", "--call", NOPE], 1, ["NOPE"]),
    (["eligibility", "explain", NOPE], 1, ["NOPE"]),
    (["notice", "list", "--call", NOPE], 1, ["NOPE"]),
    (["notice", "open", "--call", NOPE], 1, ["NOPE"]),
    (["notice", "open", "--call", NOPE, "--jurisdiction", "999999"], 1, []),
    (["notice", "show", "999999"], 1, ["999999"]),
    (["notice", "show", "abc"], 2, ["整数"]),
    (["notice", "resolve", "999999", "--outcome", "bogus", "--finding", "f", "--as", "nobody"], 2, ["bogus", "upheld"]),
    (["notice", "resolve", "999999", "--outcome", "upheld", "--finding", "f", "--as", "nobody"], 1, []),
    (["notice", "object", NOPE, "--objector", "x", "--contact", "x", "--grounds", "x", "--as", "nobody"], 1, []),
    (["announce", "opening", "999999", "--out", "{dir}/ann"], 1, ["999999"]),
    (["announce", "result", "999999", "--out", "{dir}/ann"], 1, ["999999"]),
    (["recognition", "list", "--status", "bogus"], 2, ["bogus", "active"]),
    (["recognition", "list", "--uscc", NOPE], 1, ["NOPE"]),
    (["recognition", "list", "--programme", NOPE], 1, ["NOPE"]),
    (["recognition", "list", "--tier", "bogus"], 2, ["bogus"]),
    (["recognition", "show", NOPE], 1, ["NOPE"]),
    (["recognition", "revoke", NOPE, "--reason", "x", "--as", "nobody"], 1, []),
    (["recognition", "ban", NOPE, "--programme", "hebei-provincial-srdi", "--reason", "x", "--as", "nobody"], 1, []),
    (["recognition", "rename", NOPE, "--name", "x", "--changed-on", "2026-01-01", "--as", "nobody"], 1, []),
    (["recognition", "rename", NOPE, "--name", "x", "--changed-on", "yesterday", "--as", "nobody"], 2, ["yesterday"]),
    (["rereview", "open", "--programme", NOPE, "--year", "2026", "--closes", "2026-06-30"], 1, ["NOPE"]),
    (["rereview", "open", "--programme", "hebei-provincial-srdi", "--year", "2026", "--closes", "bogus"], 2, ["bogus"]),
    (["rereview", "show", "--programme", NOPE, "--year", "2026"], 1, ["NOPE"]),
    (["user", "add", "someone", "--name", "X", "--jurisdiction", "130105", "--role", "bogus"], 2, ["bogus", "reviewer"]),
    (["user", "add", "someone", "--name", "X", "--jurisdiction", NOPE], 1, ["NOPE"]),
    (["user", "list", "--jurisdiction", NOPE], 1, ["NOPE"]),
    (["user", "set-password", NOPE, "--password-stdin"], 1, []),
    (["funds", "status", "--province", NOPE], 1, ["NOPE"]),
    (["funds", "run", "--province", NOPE, "--tranche", "0"], 2, ["--tranche"]),
    (["funds", "run", "--province", NOPE, "--tranche", "1", "--received", "bogus"], 2, ["bogus"]),
    (["funds", "review", "--province", NOPE, "--year", "1"], 1, ["NOPE"]),
    (["funds", "opinion", "--province", NOPE, "--stage", "bogus"], 2, ["--stage", "preliminary"]),
    (["funds", "adjust", "--province", NOPE, "--tranche", "1", "--uscc", NOPE, "--kind", "bogus", "--amount", "1",
      "--reason", "bogus"], 2, ["--kind"]),
    (["funds", "adjust", "--province", NOPE, "--tranche", "1", "--uscc", NOPE, "--kind", "deduction", "--amount", "abc",
      "--reason", "x"], 2, ["--amount"]),
    (["funds", "plan-submit", "--province", NOPE, "--batch", "1", "--file", "{dir}/garbage.csv"], 1, []),
    (["funds", "plan-submit", "--province", "110000", "--batch", "1", "--file", "{dir}/missing.csv"], 2, ["missing.csv"]),
    (["export", "annex5", "--call", NOPE, "--city", "成都", "--out", "{dir}/x.xlsx", "--scope", "bogus"], 2, ["bogus", "recommended"]),
    (["export", "annex7", "--call", NOPE, "--city", "不存在的城市", "--out", "{dir}/x.xlsx"], 1, []),
    (["export", "recommendation", "--call", NOPE, "--province", "130000", "--out", "{dir}/x.xlsx"], 1, ["NOPE"]),
    (["export", "notice", "999999", "--out", "{dir}/x.xlsx"], 1, ["999999"]),
    (["import", "template", "--programme", NOPE, "--out", "{dir}/t.xlsx"], 1, ["NOPE"]),
    (["import", "applications", "{dir}/garbage.csv", "--call", NOPE], 1, ["garbage.csv"]),
    (["import", "applications", "{dir}/missing.xlsx", "--call", NOPE], 2, ["missing.xlsx"]),
    (["mail", "send-queued", "--limit", "0"], 2, ["--limit"]),
    (["calendar", "is-workday", "2026-02-30"], 2, ["2026-02-30"]),
    (["calendar", "add-workdays", "2031-01-05", "3"], 1, ["2031"]),
    (["programmes", "show", NOPE], 1, ["NOPE"]),
    (["programmes", "check", "{dir}/missing.yaml"], 1, ["missing.yaml"]),
    (["db", "current", "--url", "postgresql://srdi@127.0.0.1:1/srdi"], 1, ["无法连接"]),
    (["clock", "set", "2026-03-02T08:00"], 1, ["SRDI_CLOCK_FILE"]),
    (["no-such-command"], 2, ["没有命令"]),
    (["call", "list", "--verbose"], 2, ["srdi --verbose"]),
]


@pytest.mark.parametrize(("args", "code", "words"), BAD_VALUES, ids=lambda v: " ".join(v) if isinstance(v, list) else "")
def test_bad_values_get_one_clear_line(args, code, words, migrated, capsys):
    line = assert_one_line(*srdi(capsys, *[a.replace("{dir}", str(migrated)) for a in args]), expected=(code,))
    for word in words:
        assert word in line


def test_an_unexpected_error_is_one_line_and_verbose_shows_the_traceback(migrated, capsys, monkeypatch):
    from srdi.cli import call_cmd

    def broken(connection):
        raise RuntimeError("磁盘坏了\nsecond line")

    monkeypatch.setattr(call_cmd, "open_calls", broken)
    code, out, err = srdi(capsys, "call", "list")
    assert (code, err) == (1, f"错误：RuntimeError: 磁盘坏了{INTERNAL_HINT}\n")
    code = main(["--verbose", "call", "list"], verbose=True)
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" in err and 'raise RuntimeError("磁盘坏了' in err


def test_quiet_console_hides_prefect_and_shortens_srdi_warnings(tmp_path):
    """What run() sets up before Prefect is imported: no Prefect log lines; srdi's warnings in one line."""
    script = (
        "import logging, sys\n"
        "from srdi.cli.main import quiet_console\n"
        "quiet_console()\n"
        "import prefect\n"
        "from prefect.logging.configuration import setup_logging\n"
        "setup_logging()\n"
        "logging.getLogger('prefect').info('Starting temporary server')\n"
        "logging.getLogger('prefect.server').error('Failed to send telemetry')\n"
        "try:\n"
        "    1 / 0\n"
        "except ZeroDivisionError:\n"
        "    logging.getLogger('srdi.due').warning('到期步骤受阻\\n详情', exc_info=True)\n"
    )
    env = {**os.environ, "PREFECT_HOME": str(tmp_path), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == ["警告：到期步骤受阻"]


# A few representative ones as the clerk runs them: the installed script, in a fresh process.
SUBPROCESS = [
    (["review", "decide", NOPE, "--decision", "bogus", "--as", "nobody"], 2,
     "错误：选项 --decision 的值 bogus 无效，应为 recommend、return 或 reject；用法见 srdi review decide --help"),
    (["call", "open"], 2, "错误：缺少选项 --programme"),
    (["application", "show", NOPE], 1, "错误："),
    (["no-such-command"], 2, "错误：没有命令 no-such-command"),
]


@pytest.mark.parametrize(("args", "code", "start"), SUBPROCESS, ids=lambda v: " ".join(v) if isinstance(v, list) else "")
def test_the_installed_script_answers_in_one_line(args, code, start, migrated):
    env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    done = subprocess.run([str(Path(sys.executable).with_name("srdi")), *args], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == code and done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line.startswith(start) and "Traceback" not in done.stderr
