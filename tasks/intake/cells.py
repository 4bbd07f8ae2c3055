"""Reading what clerks really type into a cell (录入值规范化).

Full-width digits and punctuation, thousands separators, "12.5%", trailing spaces, 是/否 in its
many spellings, dates typed as text. Every parser either returns a clean Python value or raises
``CellError`` whose message says, in Chinese, what was expected. Nothing here knows about
columns or databases.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any


class CellError(ValueError):
    """A cell that cannot be read; ``expected`` says what it should hold."""

    def __init__(self, expected: str):
        super().__init__(expected)
        self.expected = expected


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and clean_text(value) == "")


def clean_text(value: Any) -> str:
    """Trim (including ideographic and non-breaking spaces); keep the characters themselves."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    return text.replace("\u3000", " ").replace("\xa0", " ").replace("\u200b", "").strip()


def fold(value: Any) -> str:
    """Full-width → half-width (NFKC), trimmed: the form to compare codes and numbers in."""
    return unicodedata.normalize("NFKC", clean_text(value)).strip()


_SEPARATORS = re.compile(r"[,_\s'’]")
_UNIT_SUFFIX = re.compile(r"(万元|万|元|人|个|项|年|位)$")


def parse_decimal(value: Any, *, percent: bool = False, percent_format: bool = False) -> Decimal:
    """A number as typed: "1,234.5", "１２３４", "12.5%", "(300)" (accounting negative), "500万元".

    ``percent``: the column is in percentage points, so a trailing % is accepted and an Excel cell
    formatted as a percentage (``percent_format``, stored as 0.125) is read as 12.5.
    """
    if isinstance(value, bool):
        raise CellError("应为数字")
    if value.__class__ is float and not percent_format:
        text = repr(value)
        if len(text) < 16 and "e" not in text:   # no float noise to tidy (12.500000000000002 is longer)
            return Decimal(text)
    if isinstance(value, (int, Decimal)):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    else:
        text = fold(value)
        negative = text.startswith("(") and text.endswith(")")
        if negative:
            text = text[1:-1]
        has_percent = text.endswith("%")
        if has_percent:
            if not percent:
                raise CellError("应为数字（本列不是百分比，不要带 %）")
            text = text[:-1]
            percent_format = False
        text = _UNIT_SUFFIX.sub("", _SEPARATORS.sub("", text))
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise CellError("应为数字") from None
        if negative:
            number = -number
    if not number.is_finite():
        raise CellError("应为数字")
    if percent and percent_format:
        number = number * 100
    return _tidy(number)


def _tidy(number: Decimal) -> Decimal:
    """Drop float noise such as 12.500000000000002 (keep at most 6 decimals), no exponent form."""
    try:
        quantized = number.quantize(Decimal("0.000001"))
    except InvalidOperation:
        raise CellError("数值过大") from None
    if quantized == quantized.to_integral_value():
        return quantized.quantize(Decimal(1))
    return quantized.normalize()


def parse_int(value: Any) -> int:
    try:
        number = parse_decimal(value)
    except CellError:
        raise CellError("应为整数") from None
    if number != number.to_integral_value():
        raise CellError("应为整数")
    return int(number)


TRUE_WORDS = {"是", "有", "y", "yes", "true", "1", "√", "✓", "✔", "对", "已", "是的"}
FALSE_WORDS = {"否", "无", "n", "no", "false", "0", "×", "✗", "不是", "没有", "未"}


_BOOL_AS_TYPED = {"是": True, "否": False, "√": True, "有": True, "无": False}


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value.__class__ is str and value in _BOOL_AS_TYPED:   # what nearly every cell holds
        return _BOOL_AS_TYPED[value]
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    text = fold(value).lower().lstrip("□■☑☐ ")
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise CellError("应为“是”或“否”")


def parse_choice(value: Any, choices: dict[str, str], expected: str) -> str:
    """One of a fixed set: ``choices`` maps every accepted spelling (folded) to the stored value."""
    text = fold(value).lstrip("□■☑☐ ")
    if text in choices:
        return choices[text]
    lowered = text.lower()
    for spelling, stored in choices.items():
        if spelling.lower() == lowered:
            return stored
    raise CellError(expected)


_DATE_PATTERNS = [
    re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
]


def parse_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = fold(value).split(" ")[0]
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            try:
                return date(int(match[1]), int(match[2]), int(match[3]))
            except ValueError:
                break
    raise CellError("应为日期，如 2019-05-01 或 2019年5月1日")


_INDUSTRY = re.compile(r"^([A-Ta-t])?\s*(\d{2,4})(?:\s*[-—–:：、.]?\s*(.*))?$")
# GB/T 4754-2017: the section (门类) letter of each division (大类) number range.
_SECTIONS = [(5, "A"), (12, "B"), (43, "C"), (46, "D"), (50, "E"), (52, "F"), (60, "G"), (62, "H"), (65, "I"),
             (69, "J"), (70, "K"), (72, "L"), (75, "M"), (79, "N"), (82, "O"), (83, "P"), (85, "Q"), (90, "R"),
             (96, "S"), (97, "T")]


def industry_section(division: int) -> str | None:
    for last, letter in _SECTIONS:
        if division <= last:
            return letter if division >= 1 else None
    return None


def parse_industry(value: Any) -> tuple[str, str]:
    """所属行业 as "C14 食品制造业", "14食品制造业", "14", "3484" → ("C14", "食品制造业") (GB/T 4754-2017).

    The section letter (门类) follows from the division number, so clerks may leave it out.
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(int(value))
    match = _INDUSTRY.match(fold(value))
    expected = "应为《国民经济行业分类》(GB/T 4754-2017) 行业代码及名称，如“14 食品制造业”"
    if not match:
        raise CellError(expected)
    section = industry_section(int(match[2][:2]))
    if section is None or (match[1] and match[1].upper() != section):
        raise CellError(expected)
    return section + match[2], (match[3] or "").strip()


def parse_list(value: Any) -> list[str]:
    """Several names in one cell, separated by 、，,;； or new lines."""
    parts = re.split(r"[、,，;；\n]+", clean_text(value))
    return [part.strip() for part in parts if part.strip()]


def as_text(value: Any) -> str:
    """A cell read as text; Excel turns long digit strings into floats, so undo that."""
    if value.__class__ is str and value.isprintable() and value == value.strip():
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat()
    return clean_text(value)


def show(value: Any) -> str:
    """The value as the clerk typed it, for error messages."""
    if value is None:
        return "（空）"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(" ")
    if isinstance(value, Decimal):
        text = f"{value:f}"
        return text.rstrip("0").rstrip(".") if "." in text else text
    text = str(value)
    return text if text.strip() else "（空）"
