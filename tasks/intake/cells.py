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
from functools import lru_cache
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
    if value.__class__ is str:
        if value.isascii():   # NFKC leaves ASCII as it is, and ASCII holds none of clean_text's odd spaces
            return value.strip()
        return _fold_text(value)
    return unicodedata.normalize("NFKC", clean_text(value)).strip()


@lru_cache(maxsize=4096)
def _fold_text(text: str) -> str:
    """``fold`` of a text cell (the same few choices and place names fill most of a column)."""
    return unicodedata.normalize("NFKC", clean_text(text)).strip()


_SEPARATORS = re.compile(r"[,_\s'’]")
_TRAILING = re.compile(r"[^\d.)]+$")
_LEADING = re.compile(r"^[^\d.(+\-]+")

MONEY = "万元"
# 金额单位 → the power of ten that turns it into 万元. "万" alone means 万元 and "亿" alone 亿元: in a column
# whose unit is 万元 nothing else can be meant. Any other unit (千元, 美元, $ …) is refused, never guessed.
TO_WAN = {"万元": 0, "万": 0, "元": -4, "亿元": 4, "亿": 4}
CONVERTING = frozenset(unit for unit, power in TO_WAN.items() if power)
COUNT_UNITS = frozenset(("人", "个", "项", "年", "位"))
_FOREIGN_MONEY = frozenset(("千元", "百元", "十元", "百万元", "千万元", "十万元", "美元", "美金", "港元", "港币", "欧元", "日元",
                            "英镑", "人民币", "元人民币", "万元人民币", "$", "US$", "USD", "RMB", "CNY", "HKD", "¥", "€", "£"))
_UNIT_WORDS = frozenset(TO_WAN) | COUNT_UNITS | _FOREIGN_MONEY | {"%", "万人", "千人"}


def parse_decimal(value: Any, *, percent: bool = False, percent_format: bool = False, unit: str | None = MONEY) -> Decimal:
    """A number as typed, in the column's ``unit``: "1,234.5", "１２３４", "12.5%", "(300)" (accounting negative), "500万元".

    ``unit`` is the column's: 万元 (the default) converts a typed 元 or 亿元 exactly (see ``read_number``);
    ``percent`` (or ``unit="%"``): the column is in percentage points, so a trailing % is accepted and an
    Excel cell formatted as a percentage (``percent_format``, stored as 0.125) is read as 12.5.
    """
    return read_number(value, unit="%" if percent else unit, percent_format=percent_format)[0]


def read_number(value: Any, *, unit: str | None = MONEY, percent_format: bool = False) -> tuple[Decimal, str]:
    """(the number in the column's ``unit``, the unit as typed — "" when the cell is a bare number).

    A bare number is in the column's unit. In a 万元 column a trailing 元 is divided by 10,000 and
    亿元 multiplied by 10,000, exactly (Decimal); 万元 and 万 are taken as they are. In a count or
    year column (人, 个, 项, 年, 位) those words may follow the number, a money unit may not. A
    unit that does not belong to the column is refused with what the column expects.
    """
    if isinstance(value, bool):
        raise CellError("应为数字")
    percent = unit == "%"
    if value.__class__ is float and not percent_format:
        text = repr(value)
        if len(text) < 16 and "e" not in text:   # no float noise to tidy (12.500000000000002 is longer)
            return Decimal(text), ""
    typed = ""
    if isinstance(value, (int, Decimal)):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    else:
        text = _SEPARATORS.sub("", fold(value))
        negative = text.startswith("(") and text.endswith(")")
        if negative:
            text = text[1:-1]
        trailing = _TRAILING.search(text)
        if trailing:
            typed, text = trailing[0], text[: trailing.start()]
        leading = _LEADING.match(text)
        if leading and leading[0] in _UNIT_WORDS:
            _refuse_unit(leading[0], unit)
        if text.startswith("(") and text.endswith(")") and not negative:
            negative, text = True, text[1:-1]
        if typed == "%":
            if not percent:
                raise CellError("应为数字（本列不是百分比，不要带 %）")
            percent_format = False
        elif typed:
            _check_unit(typed, unit)
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise CellError("应为数字") from None
        if negative:
            number = -number
        if not number.is_finite():
            raise CellError("应为数字")
        if unit == MONEY and TO_WAN.get(typed):
            number = number.scaleb(TO_WAN[typed])
    if not number.is_finite():
        raise CellError("应为数字")
    if percent and percent_format:
        number = number * 100
    return _tidy(number), typed


def _check_unit(typed: str, unit: str | None) -> None:
    """Refuse a typed unit that is not the column's (or one of its plain spellings)."""
    if unit == MONEY and typed in TO_WAN:
        return
    if unit not in (MONEY, "%") and typed in COUNT_UNITS:
        return
    if typed not in _UNIT_WORDS:
        raise CellError("应为数字")
    _refuse_unit(typed, unit)


def _refuse_unit(typed: str, unit: str | None) -> None:
    if unit == MONEY:
        raise CellError(f"本列金额以万元计，不能使用单位“{typed}”：请换算为万元，或在数字后写明“元”“万元”或“亿元”")
    if unit == "%":
        raise CellError(f"应为百分比数字（如 12.5 或 12.5%），不能带“{typed}”")
    shown = f"本列单位为{unit}，" if unit else ""
    raise CellError(f"应为数字（{shown}不能带“{typed}”）")


def _tidy(number: Decimal) -> Decimal:
    """Drop float noise such as 12.500000000000002 (keep at most 6 decimals), no exponent form."""
    try:
        quantized = number.quantize(Decimal("0.000001"))
    except InvalidOperation:
        raise CellError("数值过大") from None
    if quantized == quantized.to_integral_value():
        return quantized.quantize(Decimal(1))
    return quantized.normalize()


def parse_int(value: Any, unit: str | None = None) -> int:
    """A whole number; ``unit`` is the column's (人, 个 …), which may follow the number."""
    try:
        number = parse_decimal(value, unit=unit)
    except CellError as exc:
        raise CellError("应为整数" if exc.expected == "应为数字" else exc.expected) from None
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
