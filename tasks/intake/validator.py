"""The intake validator (申报受理校验): rows in, typed records and problems out, each rule run once.

Rows come from a workbook (tasks/intake/workbook_check.py, chunk by chunk: tasks/intake/workbook_rows.py
reads the cells) or from Python callers (``validate_records``: tasks/intake/mapping_rows.py reads the mappings). Either
way a row becomes an ``IntakeRecord`` once; the checks against the call and the database
(tasks/intake/admission.py) then run once on the records, and the writer
(tasks/intake/applications.py) takes the same records. Every problem is one ``Problem``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from models.application import Application
from models.enterprise import Enterprise, EnterpriseFinancialYear
from tasks.intake.admission import Intake
from tasks.intake.mapping_rows import read_mapping
from tasks.intake.problem import Problem
from tasks.intake.record import IntakeRecord, StoredApplication
from tasks.reference.calls import get_profile

CHUNK = 500
NO_COLUMNS: Mapping[str, str] = {}


def validate_records(intake: Intake, rows: Sequence[Mapping[str, Any] | IntakeRecord],
                     columns: Mapping[str, str] = NO_COLUMNS, *, check_open: bool = True) -> tuple[list[IntakeRecord], list[Problem]]:
    """(records that may be written, problems sorted by row). A closed call refuses the whole batch.

    A mapping is read into a record here; an ``IntakeRecord`` (a workbook row, already read) is only
    placed. ``columns`` names the file's headers for the fields a refusal points at. ``check_open``
    False: the caller checks the call once for all its chunks.
    """
    if check_open:
        intake.check_open()
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    read: list[IntakeRecord] = []
    place_column = columns.get("jurisdiction_code", "")
    for index, row in enumerate(rows, start=1):
        if isinstance(row, IntakeRecord):
            outside = intake.jurisdiction_problem(row.jurisdiction_code)
            if outside:
                problems.append(Problem(row.row, "jurisdiction_code", row.jurisdiction_code, outside, place_column))
            else:
                read.append(row)
            continue
        record = read_mapping(row, index, intake, seen, problems)
        if record is not None:
            read.append(record)
    problems += intake.refusals(read, columns)
    problems.sort(key=lambda p: p.row)
    refused = {p.row for p in problems}
    return [r for r in read if r.row not in refused], problems


def reference_year(call_year: int, programme_id: str) -> int:
    """上年 of a call: call.year − 1, unless the profile judges the current year."""
    rules = get_profile(programme_id).eligibility
    return call_year if rules is not None and rules.reference_year == "current" else call_year - 1


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
