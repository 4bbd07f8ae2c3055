"""Cells every Excel export writes as text, never as a formula (公式注入防护).

A value a clerk or an applicant typed — an enterprise name, a reason, a product — may begin with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return; a spreadsheet would run ``=HYPERLINK(...)`` as a
formula. Such text is written as a string cell (``data_type`` "s") with Excel's quote prefix, so Excel
shows it unchanged and keeps it text when the cell is edited; no apostrophe is added to the value.
Numbers (a negative number too), dates and booleans are written as they are. Every export appends
its rows through ``safe_row``/``append_row``, in normal and in write-only workbooks alike.
"""

from __future__ import annotations

from typing import Any, Iterable

from openpyxl.cell.cell import Cell

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def is_risky(value: Any) -> bool:
    """Text a spreadsheet could take for a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def as_text(cell: Cell) -> Cell:
    """Make ``cell`` (holding risky text) a plain text cell."""
    cell.data_type = "s"
    cell.quotePrefix = True
    return cell


def safe_cell(sheet: Any, value: Any) -> Any:
    """``value`` ready for ``sheet.append``: risky text as a text cell, a cell checked, anything else unchanged."""
    if isinstance(value, Cell):
        return as_text(value) if is_risky(value.value) else value
    if is_risky(value):
        return as_text(Cell(sheet, row=1, column=1, value=value))   # append places it
    return value


def safe_row(sheet: Any, values: Iterable[Any]) -> list[Any]:
    return [safe_cell(sheet, value) for value in values]


def append_row(sheet: Any, values: Iterable[Any]) -> None:
    """``sheet.append(values)`` with every risky text written as text."""
    sheet.append(safe_row(sheet, values))
