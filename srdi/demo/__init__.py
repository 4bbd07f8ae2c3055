"""`srdi demo` (what `make demo` runs): the whole scenario on the embedded default, through the real flows.

``run_demo(base_dir)`` builds a fresh database (the one SRDI_DATABASE_URL names if it holds no
programme data yet, else ``base_dir/srdi.db``) and a fresh ``base_dir`` (default var/demo; only a
folder the demo made itself is ever cleared, see srdi.demo.setup), runs a Hebei
provincial round from a generated workbook through county → city → province, a 公示 with one upheld
and one rejected objection and 认定; then a national 小巨人 round of recognised Hebei enterprises
through the province and the ministry; then the 重点"小巨人" funding demo; sends its reminders and
announcements to a real SMTP server on 127.0.0.1; writes the official lists; and returns a
``DemoReport`` whose figures all come from what happened (the database), never typed in.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from srdi.demo.setup import DemoRefused, configured_database, prepare_home

__all__ = ["DemoRefused", "DemoReport", "run_demo"]


@dataclass
class DemoReport:
    base_dir: Path
    database_url: str
    own_database: bool = True            # False: the database named by SRDI_DATABASE_URL
    hebei: object = None                 # srdi.demo.hebei_round.HebeiRound
    national: object = None              # srdi.demo.national_round.NationalRound
    funding: object = None               # srdi.demo.funding_round.DemoResult
    status: dict = field(default_factory=dict)     # call id → tasks.reports.progress.call_status(...)
    files: dict = field(default_factory=dict)      # label → path
    console_users: list[str] = field(default_factory=list)
    mails: int = 0
    announcements: int = 0
    seconds: float = 0.0


def run_demo(base_dir: Path = Path("var/demo"), enterprises: int = 300, echo: Callable[[str], None] = print,
             seed: int = 2026) -> DemoReport:
    """Run the whole scenario into a fresh ``base_dir``; see the module docstring. Raises
    DemoRefused (nothing deleted, nothing written) for a foreign folder or a database in use."""
    if enterprises < 1:
        raise DemoRefused(f"企业数须至少为 1（收到 {enterprises}）")
    started = time.monotonic()
    base_dir = Path(base_dir).resolve()
    named = configured_database()
    previous = os.environ.get("SRDI_DATABASE_URL")
    url = prepare_home(base_dir, named)    # before anything reads settings or imports Prefect
    from models.clock import clock

    frozen = clock._fixed
    try:
        report = _run(base_dir, url, named is None, enterprises, echo, seed)
    finally:
        clock._fixed = frozen
        if previous is None:               # the flows found the database through it; put it back
            os.environ.pop("SRDI_DATABASE_URL", None)
        else:
            os.environ["SRDI_DATABASE_URL"] = previous
    report.seconds = time.monotonic() - started
    return report


def _run(base_dir: Path, url: str, own_database: bool, enterprises: int, echo: Callable[[str], None], seed: int) -> DemoReport:
    from models.db import make_engine
    from srdi.demo.funding_round import run_funding_demo
    from srdi.demo.hebei_round import run_hebei_round
    from srdi.demo.mail_room import DemoMailbox
    from srdi.demo.national_round import run_national_round
    from srdi.demo.report import collect, write_exports
    from srdi.demo.setup import add_reviewers, choose_places, create_database
    from srdi.demo.steps import Pipeline

    report = DemoReport(base_dir, url, own_database)
    upgraded = create_database(url)
    echo(f"数据库 {upgraded.database}：迁移至 {upgraded.after}，行政区划 {upgraded.jurisdictions_total} 条，"
         f"项目规程 {upgraded.programmes_total} 个")
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            people = choose_places(connection)
        add_reviewers(engine, people)
        report.console_users = people.console
        with DemoMailbox(base_dir, engine) as mailbox, Pipeline(echo) as pipeline:
            report.hebei = run_hebei_round(engine, base_dir, people, mailbox, pipeline, enterprises, echo, seed)
            report.national = run_national_round(engine, people, report.hebei, mailbox, pipeline, echo)
        echo("\n## 三、重点\"小巨人\"资金：两省批复、三笔资金、绩效考核")
        report.funding = run_funding_demo(engine, per_province=30, out_dir=base_dir / "funds", echo=echo)
        write_exports(engine, report)
        collect(engine, report)
    finally:
        engine.dispose()
    return report
