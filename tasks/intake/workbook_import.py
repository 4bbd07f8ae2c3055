"""Importing applications from a workbook (申报数据导入): validate everything, then write at once.

All-or-nothing by default: one invalid row and nothing is written. With ``skip_invalid`` the valid
rows are imported and an error workbook lists each rejected row with its reasons (fix it there and
import that workbook again). Rows already in the call with the same data are skipped, so importing
the same file twice creates nothing new. Money cells typed in 元 or 亿元 are converted to 万元 and
listed in the outcome (``conversions``).

Memory stays bounded whatever the file's size: the rows are streamed and checked in chunks
(tasks/intake/workbook_check.py, which sets the valid records aside), then — only when the whole file
passed, or with ``skip_invalid`` — written chunk by chunk (tasks/intake/applications.py) and judged by
the eligibility engine chunk by chunk, all in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable, Optional

from sqlalchemy.engine import Connection, Engine

from models.clock import clock
from models.db import get_engine
from tasks.eligibility.engine import EligibilitySummary, run_eligibility
from tasks.intake.admission import Intake
from tasks.intake.applications import write_applications
from tasks.intake.error_workbook import write_error_workbook
from tasks.intake.problem import Problem
from tasks.intake.record import IntakeRecord, UnitConversion
from tasks.intake.sheet import open_sheet
from tasks.intake.validator import validate_records
from tasks.intake.workbook_check import CheckedWorkbook, check_workbook

Progress = Callable[[str, int, int], None]
# Applications judged per run of the engine, which holds its verdict rows until it writes them: up to
# ELIGIBILITY_AT_ONCE in one run (the engine reads a whole first import with one query per table), else in chunks.
ELIGIBILITY_AT_ONCE = 10_000
ELIGIBILITY_CHUNK = 2_500
WRITE_ROWS = 5_000   # records written per batch once they were spilled to disk


@dataclass
class ImportOutcome:
    call_id: str
    file: str
    rows: int
    created: int = 0
    unchanged: int = 0
    rejected: int = 0
    written: bool = False
    problems: list[Problem] = field(default_factory=list)
    errors_path: Optional[Path] = None
    application_ids: list[int] = field(default_factory=list)
    eligibility: Optional[EligibilitySummary] = None
    conversions: list[UnitConversion] = field(default_factory=list)   # 元/亿元 cells stored in 万元


def import_applications(path: Path, call_id: str, *, actor: str = "system", skip_invalid: bool = False,
                        errors_out: Optional[Path] = None, engine: Optional[Engine] = None,
                        now: Optional[datetime] = None, progress: Optional[Progress] = None) -> ImportOutcome:
    """Import ``path`` into ``call_id``; see the module docstring for what is written when."""
    now = now or clock.now()
    path = Path(path)
    sheet = open_sheet(path)
    outcome = ImportOutcome(call_id, str(path), 0)
    with (engine or get_engine()).begin() as connection:
        intakes: list[Intake] = []

        def admit(records: list[IntakeRecord], headers: dict[str, str]) -> tuple[list[IntakeRecord], list[Problem]]:
            # the checks only the database can tell (bans, a closed level, the actor's subtree), pointed at the file's columns
            if not intakes:
                intakes.append(Intake.open(connection, call_id, actor, now))
            columns = {"uscc": headers.get("uscc", "uscc"), "jurisdiction_code": headers.get("county", "county")}
            return validate_records(intakes[0], records, columns, check_open=False)

        checked = check_workbook(connection, sheet, call_id, progress, admit, admit_after_problems=skip_invalid)
        outcome.rows, outcome.unchanged = checked.rows, len(checked.unchanged)
        problems = list(checked.problems)
        writing = not checked.file_level and (skip_invalid or not problems)
        if writing:
            if not intakes:
                intakes.append(Intake.open(connection, call_id, actor, now))
            intakes[0].check_open()
            problems += checked.refused
            writing = skip_invalid or not checked.refused
        problems.sort(key=lambda p: p.row)
        outcome.problems = problems
        outcome.rejected = 0 if checked.file_level else len({p.row for p in problems})
        bad = {p.row for p in problems}
        outcome.conversions = [c for c in checked.conversions if c.row not in bad]
        if problems and (errors_out or skip_invalid):
            outcome.errors_path = write_error_workbook(errors_out or _default_errors_path(path), sheet, problems)
        if writing:
            _write(connection, intakes[0], checked, bad, outcome, progress)
        checked.spill.close()
        if outcome.written and outcome.application_ids:
            outcome.eligibility = _judge(connection, call_id, outcome.application_ids, now, progress)
    return outcome


def _write(connection: Connection, intake: Intake, checked: CheckedWorkbook, bad: set[int], outcome: ImportOutcome,
           progress: Optional[Progress]) -> None:
    """Write the checked records (one transaction: the caller's): at once when they were kept in memory, else in batches."""
    total = checked.spill.count
    if progress:
        progress("写入", 0, total)
    batch_rows = total if checked.spill.in_memory else WRITE_ROWS
    done, fresh, batch = 0, [], []
    for records in checked.records(bad):
        batch += records
        if len(batch) < batch_rows:
            continue
        fresh += _write_batch(intake, batch, outcome)
        done, batch = done + len(batch), []
        if progress and done < total:
            progress("写入", done, total)
    if batch:
        fresh += _write_batch(intake, batch, outcome)
    if progress:
        progress("写入", total, total)
    outcome.written, outcome.application_ids = True, sorted(fresh)


def _write_batch(intake: Intake, records: list[IntakeRecord], outcome: ImportOutcome) -> list[int]:
    result = write_applications(intake, records)
    outcome.created += result.created
    return [result.applications[r.uscc] for r in records]


def _judge(connection: Connection, call_id: str, ids: list[int], now: datetime, progress: Optional[Progress]) -> EligibilitySummary:
    """The eligibility engine on the new applications, a chunk at a time; one summary for all."""
    if progress:
        progress("资格审查", 0, len(ids))
    summary = EligibilitySummary(call_id)
    size = len(ids) if len(ids) <= ELIGIBILITY_AT_ONCE else ELIGIBILITY_CHUNK
    for start in range(0, len(ids), size):
        part = run_eligibility(connection, call_id, ids[start : start + size], now)
        summary.evaluated += part.evaluated
        summary.eligible += part.eligible
        summary.ineligible += part.ineligible
        summary.undetermined += part.undetermined
        summary.verdicts += part.verdicts
        for category, count in part.by_category.items():
            summary.by_category[category] = summary.by_category.get(category, 0) + count
        if progress and start + size < len(ids):
            progress("资格审查", start + size, len(ids))
    summary.by_category = dict(sorted(summary.by_category.items()))
    if progress:
        progress("资格审查", len(ids), len(ids))
    return summary


def _default_errors_path(path: Path) -> Path:
    return path.with_name(f"{path.stem}.错误.xlsx")
