"""The error workbook of an import (导入错误清单).

Sheet 1 "被拒绝的行" repeats each rejected row with the file's own columns, then 原行号 and 错误原因,
so a clerk can correct the cells in place and import this workbook again (srdi ignores the two
extra columns). Sheet 2 "问题明细" has one line per problem: row, column, value, what was expected.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

from tasks.intake.problem import Problem
from tasks.intake.sheet import Sheet
from tasks.reports.safe_cells import append_row
from tasks.reports.sheet_format import finish_sheet

HEADER_FONT = Font(bold=True)
REASON_FILL = PatternFill("solid", fgColor="FFF2CC")


def write_error_workbook(path: Path, sheet: Sheet, problems: list[Problem]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    by_row: dict[int, list[Problem]] = defaultdict(list)
    for problem in problems:
        by_row[problem.row].append(problem)
    values_by_row = {number: values for number, values in sheet.rows if number in by_row}   # one pass, rejected rows only
    workbook = Workbook()
    rejected = workbook.active
    rejected.title = "被拒绝的行"
    headers = [h or "" for h in sheet.headers]
    append_row(rejected, headers + ["原行号", "错误原因"])
    for cell in rejected[1]:
        cell.font = HEADER_FONT
    for number in sorted(n for n in by_row if n in values_by_row):
        values = list(values_by_row[number]) + [None] * (len(headers) - len(values_by_row[number]))
        reasons = "；".join(f"「{p.column}」“{p.value}”：{p.expected}" for p in by_row[number])
        append_row(rejected, values[: len(headers)] + [number, reasons])
        reason_cell = rejected.cell(row=rejected.max_row, column=len(headers) + 2)
        reason_cell.fill = REASON_FILL
        reason_cell.alignment = Alignment(wrap_text=True)
    finish_sheet(rejected, 1)
    details = workbook.create_sheet("问题明细")
    append_row(details, ["行号", "列", "填写值", "问题（应为）"])
    for cell in details[1]:
        cell.font = HEADER_FONT
    for problem in problems:
        append_row(details, [problem.row, problem.column, problem.value, problem.expected])
    finish_sheet(details, 1)
    workbook.save(path)
    return path
