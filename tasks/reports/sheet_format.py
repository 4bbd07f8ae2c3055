"""How every export looks (导出表格格式): columns as wide as their content, the header row frozen, titles from data.

A Chinese character takes two columns of width (East Asian wide), a Latin letter or digit one. A row with a
single value (a title, a 盖章 line, a 备注) does not widen its column: it overflows into the empty cells beside
it. Widths are capped so one long text does not push the table off the screen.

Normal worksheets are formatted after their rows are written (``finish_sheet``). A write-only worksheet
writes its column widths and panes before its first row, so it is formatted first, from the header and a
sample of the rows (``start_sheet``).
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from itertools import chain, islice
from typing import Any, Iterable, Iterator, Optional, Sequence

from openpyxl.cell.cell import Cell
from openpyxl.utils import get_column_letter

MIN_WIDTH = 6
MAX_WIDTH = 50
PADDING = 2
SAMPLE = 500           # rows a write-only sheet measures before it writes
CHINESE_DIGITS = "零一二三四五六七八九十"


def text_width(value: Any) -> int:
    """Columns ``value`` takes on screen: CJK and full-width characters count two; the longest line counts."""
    if value is None:
        return 0
    if isinstance(value, Cell):
        value = value.value
    if isinstance(value, datetime):
        return 16
    if isinstance(value, date):
        return 10
    text = str(value)
    return max(sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line) for line in text.split("\n"))


def _filled(row: Sequence[Any]) -> int:
    return sum(1 for value in row if text_width(value))


def column_widths(rows: Iterable[Sequence[Any]], *, minimum: int = MIN_WIDTH, maximum: int = MAX_WIDTH) -> list[float]:
    """The width of each column that fits its widest cell (rows with a single value are titles or notes)."""
    rows = [list(row) for row in rows]
    table = [row for row in rows if _filled(row) > 1] or rows      # a one-column sheet counts every row
    widths: list[int] = []
    for row in table:
        widths += [0] * (len(row) - len(widths))
        for index, value in enumerate(row):
            widths[index] = max(widths[index], text_width(value))
    return [float(min(maximum, max(minimum, width + PADDING))) for width in widths]


def set_widths(sheet: Any, widths: Sequence[float]) -> None:
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width


def freeze_header(sheet: Any, header_row: int, columns: int = 0) -> None:
    """Keep rows 1..``header_row`` (and the first ``columns`` columns) on screen while scrolling."""
    sheet.freeze_panes = f"{get_column_letter(columns + 1)}{header_row + 1}"


def finish_sheet(sheet: Any, header_row: int, *, columns: int = 0, first_row: Optional[int] = None,
                 maximum: int = MAX_WIDTH) -> None:
    """Fit a written (normal) worksheet's columns and freeze its header.

    Rows above ``first_row`` (default: the top) are titles and do not count for widths.
    """
    rows = sheet.iter_rows(min_row=first_row or 1, values_only=True)
    set_widths(sheet, column_widths(rows, maximum=maximum))
    freeze_header(sheet, header_row, columns)


def start_sheet(sheet: Any, header_row: int, measured: Iterable[Sequence[Any]], *, columns: int = 0) -> None:
    """Format a write-only worksheet before its first row: widths from ``measured`` rows, header frozen."""
    set_widths(sheet, column_widths(measured))
    freeze_header(sheet, header_row, columns)


def peek(rows: Iterable[Sequence[Any]], n: int = SAMPLE) -> tuple[list[Sequence[Any]], Iterator[Sequence[Any]]]:
    """The first ``n`` rows (to measure) and an iterator over all rows (to write), reading ``rows`` once."""
    iterator = iter(rows)
    head = [list(row) for row in islice(iterator, n)]
    return head, chain(head, iterator)


def chinese_number(n: int) -> str:
    """1 → 一, 3 → 三, 12 → 十二, 20 → 二十 (批次 up to 99)."""
    if n < 0 or n > 99:
        return str(n)
    tens, ones = divmod(n, 10)
    if tens == 0:
        return CHINESE_DIGITS[ones]
    return (CHINESE_DIGITS[tens] if tens > 1 else "") + "十" + (CHINESE_DIGITS[ones] if ones else "")


def batch_words(year: int, batch: Optional[int]) -> str:
    """How a title names a call: 第三批 when it has a batch number, else 2026年."""
    return f"第{chinese_number(batch)}批" if batch else f"{year}年"
