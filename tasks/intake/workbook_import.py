"""Importing applications from a workbook (申报数据导入): validate everything, then write at once.

All-or-nothing by default: one invalid row and nothing is written. With ``skip_invalid`` the valid
rows are imported and an error workbook lists each rejected row with its reasons (fix it there and
import that workbook again). Rows already in the call with the same data are skipped, so importing
the same file twice creates nothing new. The rows are read and checked once
(tasks/intake/validator.py), written set-based (tasks/intake/applications.py) and followed by the
eligibility engine for the new applications, all in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable, Optional

from sqlalchemy.engine import Engine

from models.clock import clock
from models.db import get_engine
from tasks.eligibility.engine import EligibilitySummary, run_eligibility
from tasks.intake.admission import Intake
from tasks.intake.applications import write_applications
from tasks.intake.error_workbook import write_error_workbook
from tasks.intake.problem import Problem
from tasks.intake.sheet import read_sheet
from tasks.intake.validator import validate_records, validate_workbook

Progress = Callable[[str, int, int], None]


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


def import_applications(path: Path, call_id: str, *, actor: str = "system", skip_invalid: bool = False,
                        errors_out: Optional[Path] = None, engine: Optional[Engine] = None,
                        now: Optional[datetime] = None, progress: Optional[Progress] = None) -> ImportOutcome:
    """Import ``path`` into ``call_id``; see the module docstring for what is written when."""
    now = now or clock.now()
    path = Path(path)
    sheet = read_sheet(path)
    outcome = ImportOutcome(call_id, str(path), len(sheet.rows))
    with (engine or get_engine()).begin() as connection:
        rows = validate_workbook(connection, sheet, call_id, progress)
        problems = list(rows.problems)
        outcome.unchanged = len(rows.unchanged)
        result = None
        if not rows.file_level and (skip_invalid or not problems):
            if progress:
                progress("写入", 0, len(rows.records))
            # the checks only the database can tell (bans, a closed level, the actor's subtree), pointed at the file's columns
            columns = {"uscc": rows.headers.get("uscc", "uscc"), "jurisdiction_code": rows.headers.get("county", "county")}
            intake = Intake.open(connection, call_id, actor, now)
            records, refused = validate_records(intake, rows.records, columns)
            problems += refused
            if skip_invalid or not refused:
                result = write_applications(intake, records)
            if progress:
                progress("写入", len(rows.records), len(rows.records))
        problems.sort(key=lambda p: p.row)
        outcome.problems = problems
        outcome.rejected = 0 if rows.file_level else len({p.row for p in problems})
        if problems and (errors_out or skip_invalid):
            outcome.errors_path = write_error_workbook(errors_out or _default_errors_path(path), sheet, problems)
        if result is None or (problems and not skip_invalid):
            return outcome
        fresh = sorted(result.applications[r.uscc] for r in records)
        outcome.created, outcome.written, outcome.application_ids = result.created, True, fresh
        if fresh:
            if progress:
                progress("资格审查", 0, len(fresh))
            outcome.eligibility = run_eligibility(connection, call_id, fresh, now)
            if progress:
                progress("资格审查", len(fresh), len(fresh))
    return outcome


def _default_errors_path(path: Path) -> Path:
    return path.with_name(f"{path.stem}.错误.xlsx")

