"""Importing applications from a workbook (申报数据导入): validate everything, then write at once.

All-or-nothing by default: one invalid row and nothing is written. With ``skip_invalid`` the valid
rows are imported and an error workbook lists each rejected row with its reasons (fix it there and
import that workbook again). Rows already in the call with the same data are skipped, so importing
the same file twice creates nothing new. Writing goes through tasks/intake/applications.py
(``create_applications``, set-based) and is followed by the eligibility engine for the new
applications, all in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable, Optional

from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine

from models.application import Application
from models.clock import clock
from models.db import get_engine
from models.enterprise import Enterprise, EnterpriseFinancialYear
from tasks.eligibility.engine import EligibilitySummary, run_eligibility
from tasks.intake.applications import IntakeResult, InvalidRecords, create_applications
from tasks.intake.error_workbook import write_error_workbook
from tasks.intake.places import load_places
from tasks.intake.sheet import Sheet, read_sheet
from tasks.intake.stored import StoredApplication
from tasks.intake.validate import IntakeContext, IntakeRecord, Problem, Validation, _uscc_of, plan_columns, validate_sheet
from tasks.reference.calls import get_call, get_profile

Progress = Callable[[str, int, int], None]
CHUNK = 500
PIPELINE_FIELDS = {"jurisdiction_code": "county", "registered_on": "registered_on", "industry_code": "industry_code"}


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


def reference_year(call_year: int, programme_id: str) -> int:
    """上年 of a call: call.year − 1, unless the profile judges the current year."""
    rules = get_profile(programme_id).eligibility
    return call_year if rules is not None and rules.reference_year == "current" else call_year - 1


def to_record(record: IntakeRecord) -> dict:
    """The shape tasks/intake/applications.py takes."""
    return {
        "row": record.row, "uscc": record.uscc, "name": record.name, "size": record.size,
        "industry_code": record.industry_code, "jurisdiction_code": record.jurisdiction_code,
        "registered_on": record.registered_on, "listed_board": record.listed_board, "facts": record.facts,
        "financials": [{"fiscal_year": year, **figures} for year, figures in sorted(record.years.items())],
    }


def load_stored(connection: Connection, call_id: str, usccs: list[str]) -> dict[str, StoredApplication]:
    """What the call already holds for these USCCs: enterprise fields, yearly figures, facts."""
    stored: dict[str, StoredApplication] = {}
    by_enterprise: dict[int, str] = {}
    for start in range(0, len(usccs), CHUNK):
        chunk = usccs[start : start + CHUNK]
        rows = connection.execute(
            select(Application.ref, Application.facts, Enterprise.id, Enterprise.uscc, Enterprise.name, Enterprise.size,
                   Enterprise.industry_code, Application.jurisdiction_code, Enterprise.registered_on, Enterprise.listed_board)
            .join(Enterprise, Enterprise.id == Application.enterprise_id)
            .where(Application.call_id == call_id, Enterprise.uscc.in_(chunk)))
        for row in rows:
            size = row.size.value if hasattr(row.size, "value") else row.size
            stored[row.uscc] = StoredApplication(row.ref, row.name, size, row.industry_code, row.jurisdiction_code,
                                                 row.registered_on, row.listed_board, {}, dict(row.facts or {}))
            by_enterprise[row.id] = row.uscc
    table = EnterpriseFinancialYear.__table__
    ids = sorted(by_enterprise)
    for start in range(0, len(ids), CHUNK):
        for row in connection.execute(select(table).where(table.c.enterprise_id.in_(ids[start : start + CHUNK]))):
            figures = {k: v for k, v in row._mapping.items() if k not in ("id", "enterprise_id", "fiscal_year") and v is not None}
            stored[by_enterprise[row.enterprise_id]].years[row.fiscal_year] = figures
    return stored


def _as_problems(refused: InvalidRecords, sheet_headers: dict[str, str]) -> list[Problem]:
    """Refusals only the database can tell (bans, a closed level, the actor's jurisdiction)."""
    found = []
    for problem in refused.problems:
        key = PIPELINE_FIELDS.get(problem.field, problem.field)
        found.append(Problem(problem.row, sheet_headers.get(key, key), str(problem.value), problem.expected))
    return found


def _create(connection: Connection, call_id: str, records: list[dict], headers: dict[str, str], actor: str,
            now: datetime, skip_invalid: bool) -> tuple[Optional[IntakeResult], list[Problem]]:
    """Write through create_applications, which checks what only the database knows and writes nothing
    when it refuses; with ``skip_invalid`` the refused rows are dropped and the rest written."""
    try:
        with connection.begin_nested():
            return create_applications(connection, call_id, records, actor, now), []
    except InvalidRecords as refused:
        problems = _as_problems(refused, headers)
    if not skip_invalid:
        return None, problems
    refused_rows = {p.row for p in problems}
    keep = [r for r in records if r["row"] not in refused_rows]
    with connection.begin_nested():
        return create_applications(connection, call_id, keep, actor, now), problems


def validate_file(connection: Connection, sheet: Sheet, call_id: str, progress: Optional[Progress] = None) -> Validation:
    call = get_call(connection, call_id)
    reference = reference_year(call.year, call.programme_id)
    planned, _ = plan_columns(sheet, reference)
    usccs = sorted({u for _, values in sheet.rows if (u := _uscc_of(values, planned))})
    context = IntakeContext(reference, load_places(connection, call.jurisdiction_code),
                            load_stored(connection, call_id, usccs))
    return validate_sheet(sheet, context, progress)


def import_applications(path: Path, call_id: str, *, actor: str = "system", skip_invalid: bool = False,
                        errors_out: Optional[Path] = None, engine: Optional[Engine] = None,
                        now: Optional[datetime] = None, progress: Optional[Progress] = None) -> ImportOutcome:
    """Import ``path`` into ``call_id``; see the module docstring for what is written when."""
    now = now or clock.now()
    path = Path(path)
    sheet = read_sheet(path)
    outcome = ImportOutcome(call_id, str(path), len(sheet.rows))
    with (engine or get_engine()).begin() as connection:
        validation = validate_file(connection, sheet, call_id, progress)
        problems = list(validation.problems)
        outcome.unchanged = len(validation.unchanged)
        rejected = {p.row for p in problems}
        records = [to_record(r) for r in validation.records if r.row not in rejected]
        result = None
        if not validation.file_level and (skip_invalid or not problems):
            if progress:
                progress("写入", 0, len(records))
            result, refused = _create(connection, call_id, records, validation.headers, actor, now, skip_invalid)
            problems += refused
            if progress:
                progress("写入", len(records), len(records))
        problems.sort(key=lambda p: p.row)
        outcome.problems = problems
        outcome.rejected = 0 if validation.file_level else len({p.row for p in problems})
        if problems and (errors_out or skip_invalid):
            outcome.errors_path = write_error_workbook(errors_out or _default_errors_path(path), sheet, problems)
        if result is None or (problems and not skip_invalid):
            return outcome
        refused_rows = {p.row for p in problems}
        fresh = sorted(result.applications[r["uscc"]] for r in records if r["row"] not in refused_rows)
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

