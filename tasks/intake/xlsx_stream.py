"""Reading an .xlsx sheet row by row in bounded memory (大文件流式读取).

calamine (tasks/intake/sheet.py) is fast but holds the whole sheet, ~6 KiB per row of a 74-column form
(a 100,000-row workbook took 630 MiB before a single row was checked). This reader decompresses the
sheet's XML in blocks and yields one row at a time, as calamine would give it: text, float numbers,
booleans, ``date``/``datetime`` for cells formatted as dates, and ``Percent`` for numbers formatted as
a percentage (Excel stores 12.5% as 0.125). Missing cells are ``None``. SpreadsheetML is written by
machines, so splitting on its tags is safe; formulas yield their cached value.
"""

from __future__ import annotations

import codecs
import html
import re
import xml.etree.ElementTree as ET
import zipfile
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

BLOCK = 1 << 20
NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
      "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
      "p": "http://schemas.openxmlformats.org/package/2006/relationships"}
# built-in number formats that show dates or times (ECMA-376 18.8.30, with the CJK ids 27–36 and 50–58)
DATE_FORMAT_IDS = {*range(14, 23), *range(27, 37), 45, 46, 47, *range(50, 59)}
_QUOTED = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.|_.|\*.')
_ATTR = re.compile(r'\b(r|s|t)="([^"]*)"')
_TEXT = re.compile(r"<(?:\w+:)?t\b[^>]*>(.*?)</(?:\w+:)?t>", re.S)
_PHONETIC = re.compile(r"<(?:\w+:)?rPh\b.*?</(?:\w+:)?rPh>", re.S)
_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")
_ROW_NUMBER = re.compile(r'\br="(\d+)"')
_PREFIX = re.compile(r"<(\w+:)?(?:worksheet|sst)\b")


def _prefix(archive: zipfile.ZipFile, member: str) -> str:
    """The namespace prefix the member's tags carry ("" for the usual default namespace, "x:" for some writers)."""
    with archive.open(member) as stream:
        found = _PREFIX.search(stream.read(65536).decode("utf-8", "ignore"))
    return (found[1] or "") if found else ""


class Percent(float):
    """A number cell formatted as a percentage: 0.125 shown as 12.5%."""

    __slots__ = ()


def sheet_members(archive: zipfile.ZipFile) -> list[tuple[str, str]]:
    """(sheet name, zip member of its XML) in the workbook's order."""
    workbook = ET.fromstring(archive.read("xl/workbook.xml"))
    rels = ET.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    targets = {rel.get("Id"): rel.get("Target", "") for rel in rels.iterfind("p:Relationship", NS)}
    found = []
    for sheet in workbook.findall("m:sheets/m:sheet", NS):
        target = targets.get(sheet.get(f"{{{NS['r']}}}id"), "")
        found.append((sheet.get("name", ""), target.lstrip("/") if target.startswith("/") else f"xl/{target}"))
    return found


def styles(archive: zipfile.ZipFile) -> tuple[set[int], set[int]]:
    """(style indexes formatted as a percentage, style indexes formatted as a date or time)."""
    if "xl/styles.xml" not in archive.namelist():
        return set(), set()
    root = ET.fromstring(archive.read("xl/styles.xml"))
    custom = {int(f.get("numFmtId", "0")): f.get("formatCode", "") for f in root.iterfind("m:numFmts/m:numFmt", NS)}
    percent, dates = set(), set()
    for index, xf in enumerate(root.iterfind("m:cellXfs/m:xf", NS)):
        fmt = int(xf.get("numFmtId", "0"))
        code = _QUOTED.sub("", custom.get(fmt, ""))
        if fmt in (9, 10) or "%" in code:
            percent.add(index)
        elif fmt in DATE_FORMAT_IDS or (fmt in custom and re.search(r"[dmyhs]", code, re.I)):
            dates.add(index)
    return percent, dates


def xml_pieces(archive: zipfile.ZipFile, member: str, closing: str) -> Iterator[str]:
    """The member's text in pieces that each end just after a ``closing`` tag (the last piece: the rest)."""
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    pending = ""
    with archive.open(member) as stream:
        while True:
            block = stream.read(BLOCK)
            pending += decoder.decode(block, final=not block)
            if not block:
                if pending:
                    yield pending
                return
            cut = pending.rfind(closing)
            if cut >= 0:
                cut += len(closing)
                yield pending[:cut]
                pending = pending[cut:]


_CHARREF = re.compile(r"&#(\d+);")


def _charref(match: re.Match) -> str:
    number = int(match[1])
    # the characters html.unescape maps to themselves (no C1 remapping, surrogate or non-character among them)
    return chr(number) if 160 <= number < 0xD800 or 0xE000 <= number < 0xFDD0 else match[0]


@lru_cache(maxsize=8192)
def _unescape(text: str) -> str:
    """An XML text's characters (memoised: the same choices and place names fill most of a column). Writers such
    as openpyxl spell every CJK character as a numeric reference, so those are decoded first, without html.unescape."""
    if "&" in text:
        text = _CHARREF.sub(_charref, text)
        if "&" in text:
            text = html.unescape(text)
    if "_x" in text:
        text = _ESCAPED.sub(lambda m: chr(int(m[1], 16)), text)
    return text


def _rich_text(xml: str) -> str:
    if "<rPh" in xml or ":rPh" in xml:
        xml = _PHONETIC.sub("", xml)
    return _unescape("".join(_TEXT.findall(xml)))


def shared_strings(archive: zipfile.ZipFile) -> list[str]:
    member = "xl/sharedStrings.xml"
    if member not in archive.namelist():
        return []
    strings: list[str] = []
    prefix = _prefix(archive, member)
    for piece in xml_pieces(archive, member, f"</{prefix}si>"):
        parts = piece.split(f"</{prefix}si>")
        for part in parts[:-1]:
            start = part.rfind(f"<{prefix}si>")
            strings.append(_rich_text(part[start:]))
    return strings


def _cell_attributes(head: str) -> tuple[str, str, int]:
    """(column letters, type, style index) of a cell tag's attributes (r="B7" s="3" t="s")."""
    parts = head.split('"')
    ref, kind, style = "", "n", "0"
    for index in range(0, len(parts) - 1, 2):   # the usual tag: only r, s and t, unprefixed
        name = parts[index].strip()
        if name == "r=":
            ref = parts[index + 1]
        elif name == "s=":
            style = parts[index + 1]
        elif name == "t=":
            kind = parts[index + 1]
        else:
            break
    else:
        if not parts[-1].strip():
            return ref.rstrip("0123456789"), kind, int(style)
    attrs = dict(_ATTR.findall(head))
    return attrs.get("r", "").rstrip("0123456789"), attrs.get("t", "n"), int(attrs.get("s", "0"))


def _inline(body: str, prefix: str) -> str:
    """An inline string's text: the usual <is><t>…</t></is> read directly, rich text through the regex."""
    opening = f"<{prefix}is><{prefix}t>"
    if body.startswith(opening):
        end = body.find(f"</{prefix}t>")
        if body.startswith(f"</{prefix}t></{prefix}is>", end):
            return _unescape(body[len(opening): end])
    return _rich_text(body)


def _column(ref: str) -> int:
    col = 0
    for char in ref:
        if char <= "9":
            break
        col = col * 26 + ord(char) - 64
    return col - 1


def _excel_date(serial: float, base: datetime) -> date | datetime:
    if serial == int(serial):
        return (base + timedelta(days=serial)).date()
    return base + timedelta(milliseconds=round(serial * 86_400_000))


def stream_rows(path: Path, index: int) -> Iterator[tuple[int, list[Any]]]:
    """(Excel row number, cell values) of sheet ``index``, one row at a time; rows without cells are left out."""
    with zipfile.ZipFile(path) as archive:
        member = sheet_members(archive)[index][1]
        percent, dates = styles(archive)
        strings = shared_strings(archive)
        workbook = archive.read("xl/workbook.xml")
        base = datetime(1904, 1, 1) if b'date1904="1"' in workbook or b'date1904="true"' in workbook else datetime(1899, 12, 30)
        prefix = _prefix(archive, member)
        row_open, row_close, cell_open = f"<{prefix}row", f"</{prefix}row>", f"<{prefix}c "
        v_open, v_close = f"<{prefix}v>", f"</{prefix}v>"
        last = 0
        columns: dict[str, int] = {}
        for piece in xml_pieces(archive, member, row_close):
            for part in piece.split(row_close)[:-1]:
                start = part.rfind(row_open)
                if start < 0:
                    continue
                head_end = part.find(">", start)
                number = _ROW_NUMBER.search(part, start, head_end)
                values: list[Any] = []
                for cell in part[head_end + 1:].split(cell_open)[1:]:
                    gt = cell.find(">")
                    head = cell[:gt]
                    if head[-1:] == "/":
                        continue
                    ref, kind, style = _cell_attributes(head)
                    body = cell[gt + 1:]
                    if kind == "inlineStr":
                        value: Any = _inline(body, prefix)
                    else:
                        v_start = body.find(v_open)
                        if v_start < 0:
                            continue
                        text = body[v_start + len(v_open): body.find(v_close, v_start)]
                        if kind == "n":
                            if not text:
                                continue
                            value = float(text)
                            if style in dates:
                                value = _excel_date(value, base)
                            elif style in percent:
                                value = Percent(value)
                        elif kind == "s":
                            value = strings[int(text)]
                        elif kind == "b":
                            value = text == "1"
                        elif kind == "d":
                            value = datetime.fromisoformat(text)
                        else:   # str (a formula's text), e (an error such as #N/A)
                            value = _unescape(text)
                    col = columns.get(ref) if ref else len(values)
                    if col is None:
                        col = columns.setdefault(ref, _column(ref))
                    if col >= len(values):
                        values.extend([None] * (col + 1 - len(values)))
                    values[col] = value
                last = int(number[1]) if number else last + 1
                if values:
                    yield last, values
