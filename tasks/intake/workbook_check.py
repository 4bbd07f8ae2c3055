"""Checking a workbook's rows chunk by chunk (分块校验), in memory bounded whatever the file's size.

The rows are streamed from the file (tasks/intake/sheet.py) ``CHUNK_ROWS`` at a time; each chunk is
read into records (tasks/intake/workbook_rows.py), compared with what the call already holds for its
credit codes (one query per chunk), passed to the caller's ``admit`` (the checks only the database can
tell) and set aside in a ``RecordSpill``. Only compact facts of every row stay: its credit code (a
code twice in the file refuses both rows, whichever chunks they fall in), its problems and the money
cells converted from 元 or 亿元. Nothing is written here: the caller writes the spilled records
afterwards, so the import stays all or nothing.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, Callable, Iterator, Optional

from sqlalchemy.engine import Connection

from tasks.intake.places import load_places
from tasks.intake.problem import Problem
from tasks.intake.record import IntakeRecord, UnitConversion, differences_from
from tasks.intake.sheet import Sheet
from tasks.intake.spill import RecordSpill
from tasks.intake.validator import load_stored, reference_year
from tasks.intake.workbook_rows import RowReader, WorkbookContext, WorkbookRows, plan_columns, uscc_in_row
from tasks.reference.calls import get_call

CHUNK_ROWS = 2000   # rows read, checked and set aside at a time (5,000 peaked ~140 MiB higher at 100,000 rows)
Progress = Callable[[str, int, int], None]
# (records of one chunk, the file's headers by field) → (records admitted, refusals)
Admit = Callable[[list[IntakeRecord], dict[str, str]], tuple[list[IntakeRecord], list[Problem]]]


@dataclass
class CheckedWorkbook:
    """What a workbook's rows come to before anything is written."""

    rows: int = 0                                          # data rows read
    problems: list[Problem] = field(default_factory=list)  # the rows' own problems, sorted by row
    refused: list[Problem] = field(default_factory=list)   # what ``admit`` refused
    unchanged: list[int] = field(default_factory=list)     # rows already in the call with the same data
    conversions: list[UnitConversion] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)  # field key → header as written in the file
    file_level: bool = False                               # the header itself is wrong: no row was read
    spill: RecordSpill = field(default_factory=RecordSpill)

    def records(self, bad_rows: set[int]) -> Iterator[list[IntakeRecord]]:
        """The records to write, chunk by chunk, without the rows in ``bad_rows``."""
        for chunk in self.spill:
            kept = [r for r in chunk if r.row not in bad_rows]
            if kept:
                yield kept


def _chunks(rows: Any, size: int) -> Iterator[list[tuple[int, list[Any]]]]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


def check_workbook(connection: Connection, sheet: Sheet, call_id: str, progress: Optional[Progress] = None,
                   admit: Optional[Admit] = None, admit_after_problems: bool = False) -> CheckedWorkbook:
    """Check every row of ``sheet`` for ``call_id``; ``admit`` runs on each chunk's new records.

    ``admit_after_problems``: keep admitting once a row has a problem (``--skip-invalid``); otherwise
    the file will not be written, so the database checks stop there.
    """
    call = get_call(connection, call_id)
    reference = reference_year(call.year, call.programme_id)
    planned, problems = plan_columns(sheet, reference)
    if problems:
        return CheckedWorkbook(problems=problems, file_level=True)
    checked = CheckedWorkbook(headers={p.column.key: p.header for p in planned if p.year is None})
    context = WorkbookContext(reference, load_places(connection, call.jurisdiction_code))
    reader = RowReader(sheet, planned, context)
    uscc_header = next((p.header for p in planned if p.column.key == "uscc"), "统一社会信用代码")
    first_row: dict[str, int] = {}
    repeated: dict[str, list[int]] = defaultdict(list)
    conflicts: list[Problem] = []
    total = sheet.estimated_rows
    for chunk in _chunks(sheet.rows, CHUNK_ROWS):
        if progress and checked.rows < total:
            progress("校验", checked.rows, total)
        usccs = {number: uscc_in_row(values, planned) for number, values in chunk}
        context.stored = load_stored(connection, call_id, sorted({u for u in usccs.values() if u}))
        fresh: list[IntakeRecord] = []
        for number, values in chunk:
            record, row_problems = reader.read(number, values)
            checked.problems += row_problems
            uscc = record.uscc if record is not None else usccs[number]
            if uscc:
                if uscc in first_row:
                    repeated[uscc].append(number)
                else:
                    first_row[uscc] = number
            if record is None or row_problems:
                continue
            stored = context.stored.get(record.uscc)
            if stored is None:
                fresh.append(record)
                continue
            differences = differences_from(stored, record)
            if differences:
                conflicts.append(Problem(record.row, "uscc", record.uscc,
                                         f"已在本批次申报（申报编号 {stored.ref}），且与已导入的数据不同：{'；'.join(differences[:3])}",
                                         uscc_header))
            else:
                checked.unchanged.append(record.row)
        checked.rows += len(chunk)
        if admit and fresh and (admit_after_problems or not (checked.problems or conflicts or repeated)):
            fresh, refused = admit(fresh, checked.headers)
            checked.refused += refused
        checked.spill.add(fresh)
    twice: set[int] = set()
    for uscc, later in repeated.items():
        numbers = [first_row[uscc], *later]
        twice.update(numbers)
        listed = "、".join(str(n) for n in numbers)
        checked.problems += [Problem(n, "uscc", uscc, f"统一社会信用代码在本文件中重复出现（第{listed}行）", uscc_header) for n in numbers]
    checked.problems += [p for p in conflicts if p.row not in twice]
    checked.problems.sort(key=lambda p: p.row)
    bad = {p.row for p in checked.problems}
    checked.unchanged = [row for row in checked.unchanged if row not in bad]
    checked.refused = [p for p in checked.refused if p.row not in bad]
    checked.conversions = [c for c in reader.conversions if c.row not in bad]
    if progress:
        progress("校验", checked.rows, checked.rows)
    return checked


def validate_workbook(connection: Connection, sheet: Sheet, call_id: str, progress: Optional[Progress] = None) -> WorkbookRows:
    """Every row of ``sheet`` read and checked against the call's places and what it already holds, records in memory."""
    checked = check_workbook(connection, sheet, call_id, progress)
    bad = {p.row for p in checked.problems}
    records = [record for chunk in checked.records(bad) for record in chunk]
    return WorkbookRows(records, checked.unchanged, checked.problems, checked.file_level, checked.headers, checked.conversions)
