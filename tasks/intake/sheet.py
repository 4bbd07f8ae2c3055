"""Reading an application workbook (.xlsx) or .csv into a header and numbered rows.

The header row is the first of the top rows that names 统一社会信用代码 or 企业名称; rows above it
are titles (a 附件7 title names its 市（州）). A second header row of sub-labels (years, 是否属于,
具体领域 … as in 附件7, seed 004 L1437–1515) is folded into the first: "营业收入" over "2018"
becomes "2018年营业收入", "《工业“四基”发展目录》所列重点领域" over "是否属于" becomes
"《工业“四基”发展目录》所列重点领域/是否属于". Row numbers are the ones Excel shows.

``open_sheet`` finds the header and leaves the rows in the file: each pass over ``Sheet.rows`` reads
them again, one at a time (calamine for ordinary files, tasks/intake/xlsx_stream.py for a sheet whose
XML exceeds ``STREAM_FROM_BYTES``), so an import's memory does not grow with the file.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Optional

from models.errors import SrdiError
from tasks.intake.cells import clean_text, fold, is_blank
from tasks.intake.fields import label_key, resolve_header
from tasks.intake.xlsx_stream import Percent, sheet_members, stream_rows, styles, xml_pieces

HEADER_SCAN_ROWS = 15
SUB_LABELS = {label_key(t) for t in ("是否属于", "具体领域", "具体领域或环节", "是否填补", "国内/国际", "具体企业及创新项目", "是否")}
_YEAR = re.compile(r"^(?:19|20)\d{2}年?度?$")


class WorkbookError(SrdiError):
    """A file srdi cannot read as an application workbook."""


RowSource = Callable[[], Iterator[tuple[int, list[Any]]]]   # a fresh pass over (Excel row number, cell values)


@dataclass
class Sheet:
    """What an import reads: the header texts by column, the data rows, and the title text.

    ``rows`` is a list (``read_sheet``) or, from ``open_sheet``, a ``DataRows`` that reads the file again
    on every pass and never holds more than one row. A number cell formatted as a percentage is a ``Percent``.
    """

    path: Path
    sheet_name: str
    header_row: int                      # Excel row number of the (last) header row
    headers: list[str]
    rows: Iterable[tuple[int, list[Any]]]    # (Excel row number, cell values)
    title: str = ""
    estimated_rows: int = 0              # for progress bars: the data rows the file says it holds (0: unknown)


class DataRows:
    """The rows under the header, skipping blank lines and the footnotes under the table, read afresh per pass."""

    def __init__(self, source: RowSource, header_row: int):
        self.source, self.header_row = source, header_row

    def __iter__(self) -> Iterator[tuple[int, list[Any]]]:
        in_notes = False
        for number, values in self.source():
            if number <= self.header_row:
                continue
            filled = _filled(values)
            if not filled:
                continue
            if _is_note(filled, in_notes):
                in_notes = True
                continue
            yield number, values


def read_sheet(path: Path) -> Sheet:
    """The sheet with all its rows in memory (a 名单, tests, small files)."""
    sheet = open_sheet(path)
    sheet.rows = list(sheet.rows)
    return sheet


def open_sheet(path: Path) -> Sheet:
    """The sheet whose rows are read from the file on each pass (an import of any size)."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _open_xlsx(path)
    if suffix == ".csv":
        return _open_csv(path)
    raise WorkbookError(f"{path.name}: 只能导入 .xlsx 或 .csv 文件")


def _is_header(values: list[Any]) -> bool:
    for value in values:
        if isinstance(value, str):
            found = resolve_header(value)
            if found is not None and found.column is not None and found.column.key in ("uscc", "name"):
                return True
    return False


def _is_sub_header(values: list[Any]) -> bool:
    texts = [fold(v) for v in values if not is_blank(v)]
    return bool(texts) and all(_YEAR.match(t) or label_key(t) in SUB_LABELS for t in texts)


NOTE_PREFIXES = ("注", "备注", "说明", "填表说明")


def _filled(values: list[Any]) -> list[Any]:
    """The first two cells that are not blank (``is_blank``, spelt out: it runs on the cells of every row) —
    all that tells a blank row (none) and a footnote (one text cell) from a data row."""
    found = []
    for v in values:
        if v is not None and not (isinstance(v, str) and not v.replace("\u200b", "").strip()):
            found.append(v)
            if len(found) == 2:
                break
    return found


def _is_note(filled: list[Any], after_note: bool) -> bool:
    """A footnote under a table ("注：…", "备注：1.…" and the lines that continue it): one text cell; ``filled``: its non-blank cells."""
    if len(filled) != 1 or not isinstance(filled[0], str):
        return False
    return after_note or clean_text(filled[0]).startswith(NOTE_PREFIXES)


def _combine(top: list[Any], sub: Optional[list[Any]]) -> list[str]:
    width = max(len(top), len(sub or []))
    top = list(top) + [None] * (width - len(top))
    sub = list(sub or []) + [None] * (width - len(sub or []))
    headers, group = [], ""
    for own, below in zip(top, sub):
        if not is_blank(own):
            group = clean_text(own)
        below_text = "" if is_blank(below) else fold(below)
        if not below_text:
            headers.append(clean_text(own) if not is_blank(own) else "")
        elif _YEAR.match(below_text):
            headers.append(f"{below_text.rstrip('年度')}年{group}")
        else:
            headers.append(f"{group}/{below_text}")
    return headers


def _locate(path: Path, name: str, source: RowSource, estimated: int = 0) -> Sheet:
    """Find the header (and a sub-header row under it) in the first rows of ``source``; the data rows follow."""
    rows = source()
    top_rows: list[tuple[int, list[Any]]] = []
    for number, values in rows:
        if number > HEADER_SCAN_ROWS:
            raise WorkbookError(f"{path.name}（{name}）: 前{HEADER_SCAN_ROWS}行中找不到表头（应有“统一社会信用代码”或“企业名称”列）")
        top_rows.append((number, values))
        if _is_header(values):
            break
    else:
        raise WorkbookError(f"{path.name}（{name}）: 找不到表头（应有“统一社会信用代码”或“企业名称”列）")
    header_number, header_values = top_rows[-1]
    title = " ".join(clean_text(v) for _, values in top_rows[:-1] for v in values if not is_blank(v))
    sub = None
    for number, values in rows:
        if all(is_blank(v) for v in values):
            continue
        if _is_sub_header(values):
            sub, header_number = values, number
        break
    close = getattr(rows, "close", None)
    if close:
        close()
    headers = _combine(header_values, sub)
    return Sheet(path, name, header_number, headers, DataRows(source, header_number), title, max(estimated - header_number, 0))


STREAM_FROM_BYTES = 64 << 20   # a sheet whose XML is larger is streamed (tasks/intake/xlsx_stream.py) instead of calamine


def _open_xlsx(path: Path) -> Sheet:
    """Cell values via calamine (≈4× faster than streaming) for ordinary files; larger sheets are streamed."""
    import zipfile

    from python_calamine import CalamineWorkbook

    try:
        with zipfile.ZipFile(path) as archive:
            members = sheet_members(archive)
            sizes = [archive.getinfo(member).file_size if member in archive.namelist() else 0 for _, member in members]
        workbook = CalamineWorkbook.from_path(str(path)) if not all(size > STREAM_FROM_BYTES for size in sizes) else None
    except Exception as exc:  # zipfile and calamine raise their own error types for a damaged or foreign file
        raise WorkbookError(f"{path.name}: 无法读取（{type(exc).__name__}: {exc}）") from None
    problems = []
    for index, ((name, _), size) in enumerate(zip(members, sizes)):
        if size > STREAM_FROM_BYTES or workbook is None:
            source: RowSource = partial(stream_rows, path, index)
            estimated = size // 3000          # ≈3 KB of XML per row of a filled-in form: for the progress bar only
        else:
            source, estimated = _calamine_rows(path, workbook, index)
        try:
            return _locate(path, name, source, estimated)
        except WorkbookError as exc:
            problems.append(str(exc))
    raise WorkbookError(problems[0] if problems else f"{path.name}: 工作簿中没有工作表")


def _calamine_rows(path: Path, workbook: Any, index: int) -> tuple[RowSource, int]:
    sheet = workbook.get_sheet_by_index(index)
    percents = percent_cells(path, index)
    pad = [""] * sheet.start[1] if sheet.start else []

    def rows() -> Iterator[tuple[int, list[Any]]]:
        for number, values in enumerate(sheet.iter_rows(), start=1):
            values = pad + values if pad else values
            for col in percents.get(number, ()):
                if col < len(values) and isinstance(values[col], float):
                    values[col] = Percent(values[col])
            yield number, values
    return rows, sheet.height + (sheet.start[0] if sheet.start else 0)


_CELL = re.compile(r'<(?:\w+:)?c\b[^>]*?\br="([A-Z]+)(\d+)"[^>]*?\bs="(\d+)"')


def percent_cells(path: Path, sheet_index: int) -> dict[int, set[int]]:
    """Excel row → 0-based columns of the cells formatted as a percentage (Excel stores 12.5% as 0.125)."""
    import zipfile

    found: dict[int, set[int]] = {}
    with zipfile.ZipFile(path) as archive:
        percent, _ = styles(archive)
        member = sheet_members(archive)[sheet_index][1]
        if not percent or member not in archive.namelist():
            return found
        for piece in xml_pieces(archive, member, "row>"):
            for match in _CELL.finditer(piece):
                if int(match[3]) in percent:
                    col = 0
                    for letter in match[1]:
                        col = col * 26 + ord(letter) - 64
                    found.setdefault(int(match[2]), set()).add(col - 1)
    return found


def _open_csv(path: Path) -> Sheet:
    with path.open("rb") as stream:
        head = stream.read(1 << 20)
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            head.decode(encoding)   # a multi-byte character cut at the end of the sample is not an error
            break
        except UnicodeDecodeError as exc:
            if exc.start >= len(head) - 4:
                break
            continue
    else:
        raise WorkbookError(f"{path.name}: 无法识别文件编码（应为 UTF-8 或 GBK）")

    def rows() -> Iterator[tuple[int, list[Any]]]:
        with path.open(encoding=encoding, errors="strict", newline="") as stream:
            try:
                yield from ((number, values) for number, values in enumerate(csv.reader(stream), start=1))
            except UnicodeDecodeError:
                raise WorkbookError(f"{path.name}: 无法识别文件编码（应为 UTF-8 或 GBK）") from None
    return _locate(path, path.stem, rows)
