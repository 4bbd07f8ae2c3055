"""Reading an application workbook (.xlsx) or .csv into a header and numbered rows.

The header row is the first of the top rows that names 统一社会信用代码 or 企业名称; rows above it
are titles (a 附件7 title names its 市（州）). A second header row of sub-labels (years, 是否属于,
具体领域 … as in 附件7, seed 004 L1437–1515) is folded into the first: "营业收入" over "2018"
becomes "2018年营业收入", "《工业“四基”发展目录》所列重点领域" over "是否属于" becomes
"《工业“四基”发展目录》所列重点领域/是否属于". Row numbers are the ones Excel shows.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Optional

from models.errors import SrdiError
from tasks.intake.cells import clean_text, fold, is_blank
from tasks.intake.fields import label_key, resolve_header

HEADER_SCAN_ROWS = 15
SUB_LABELS = {label_key(t) for t in ("是否属于", "具体领域", "具体领域或环节", "是否填补", "国内/国际", "具体企业及创新项目", "是否")}
_YEAR = re.compile(r"^(?:19|20)\d{2}年?度?$")


class WorkbookError(SrdiError):
    """A file srdi cannot read as an application workbook."""


@dataclass
class Sheet:
    """What an import reads: the header texts by column, the data rows, and the title text."""

    path: Path
    sheet_name: str
    header_row: int                      # Excel row number of the (last) header row
    headers: list[str]
    rows: list[tuple[int, list[Any]]]    # (Excel row number, cell values)
    percent_cells: set[tuple[int, int]] = field(default_factory=set)   # (row, col) formatted as %
    title: str = ""


def read_sheet(path: Path) -> Sheet:
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path)
    if suffix == ".csv":
        return _read_csv(path)
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


def _is_note(values: list[Any], after_note: bool) -> bool:
    """A footnote under a table ("注：…", "备注：1.…" and the lines that continue it): one text cell."""
    filled = [v for v in values if not is_blank(v)]
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


def _assemble(path: Path, name: str, rows: Iterator[tuple[int, list[Any], set[int]]]) -> Sheet:
    top_rows: list[tuple[int, list[Any], set[int]]] = []
    for item in rows:
        top_rows.append(item)
        if _is_header(item[1]):
            break
        if len(top_rows) >= HEADER_SCAN_ROWS:
            raise WorkbookError(f"{path.name}（{name}）: 前{HEADER_SCAN_ROWS}行中找不到表头（应有“统一社会信用代码”或“企业名称”列）")
    else:
        raise WorkbookError(f"{path.name}（{name}）: 找不到表头（应有“统一社会信用代码”或“企业名称”列）")
    header_number, header_values, _ = top_rows[-1]
    title = " ".join(clean_text(v) for _, values, _ in top_rows[:-1] for v in values if not is_blank(v))
    data: list[tuple[int, list[Any]]] = []
    percent_cells: set[tuple[int, int]] = set()
    sub = None
    in_notes = False
    for number, values, percents in rows:
        if sub is None and not data and _is_sub_header(values):
            sub, header_number = values, number
            continue
        if all(is_blank(v) for v in values):
            continue
        if _is_note(values, in_notes):
            in_notes = True
            continue
        data.append((number, values))
        percent_cells.update((number, col) for col in percents)
    headers = _combine(header_values, sub)
    return Sheet(path, name, header_number, headers, data, percent_cells, title)


def _read_xlsx(path: Path) -> Sheet:
    """Cell values via calamine (≈10× faster than openpyxl on large files); % formats from the XML."""
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own error types for a damaged or foreign file
        raise WorkbookError(f"{path.name}: 无法读取（{type(exc).__name__}: {exc}）") from None
    problems = []
    for index, name in enumerate(workbook.sheet_names):
        cells = workbook.get_sheet_by_index(index).to_python(skip_empty_area=False)
        percents: dict[int, set[int]] = {}
        for row, col in percent_cells(path, index):
            percents.setdefault(row, set()).add(col)
        rows = ((number, list(values), percents.get(number, set())) for number, values in enumerate(cells, start=1))
        try:
            return _assemble(path, name, rows)
        except WorkbookError as exc:
            problems.append(str(exc))
    raise WorkbookError(problems[0] if problems else f"{path.name}: 工作簿中没有工作表")


_CELL = re.compile(r"<(?:\w+:)?c\b([^>]*)>")
_ATTR = re.compile(r'\b(r|s)="([^"]*)"')
_REF = re.compile(r"([A-Z]+)(\d+)")
_NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
       "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
       "p": "http://schemas.openxmlformats.org/package/2006/relationships"}


def percent_cells(path: Path, sheet_index: int) -> set[tuple[int, int]]:
    """(Excel row, 0-based column) of numeric cells formatted as a percentage (Excel stores 12.5% as 0.125)."""
    import xml.etree.ElementTree as ET
    import zipfile

    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        if "xl/styles.xml" not in names:
            return set()
        styles = ET.fromstring(archive.read("xl/styles.xml"))
        custom = {f.get("numFmtId"): f.get("formatCode", "") for f in styles.iterfind("m:numFmts/m:numFmt", _NS)}
        formats = [xf.get("numFmtId", "0") for xf in styles.iterfind("m:cellXfs/m:xf", _NS)]
        percent = {str(i) for i, fmt in enumerate(formats) if fmt in ("9", "10") or "%" in custom.get(fmt, "")}
        if not percent:
            return set()
        workbook = ET.fromstring(archive.read("xl/workbook.xml"))
        sheets = workbook.findall("m:sheets/m:sheet", _NS)
        rels = ET.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
        targets = {rel.get("Id"): rel.get("Target") for rel in rels.iterfind("p:Relationship", _NS)}
        target = targets.get(sheets[sheet_index].get(f"{{{_NS['r']}}}id"), "")
        member = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        if member not in names:
            return set()
        xml = archive.read(member).decode("utf-8", errors="replace")
    found = set()
    for match in _CELL.finditer(xml):
        attrs = dict(_ATTR.findall(match[1]))
        if attrs.get("s") in percent and "r" in attrs:
            ref = _REF.match(attrs["r"])
            if ref:
                col = 0
                for letter in ref[1]:
                    col = col * 26 + ord(letter) - 64
                found.add((int(ref[2]), col - 1))
    return found


def _read_csv(path: Path) -> Sheet:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise WorkbookError(f"{path.name}: 无法识别文件编码（应为 UTF-8 或 GBK）")
    reader = csv.reader(io.StringIO(text))
    rows = ((number, list(values), set()) for number, values in enumerate(reader, start=1))
    return _assemble(path, path.stem, rows)
