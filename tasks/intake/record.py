"""The intake record (申报记录): one valid row, typed, as the writer takes it; and what a call already holds.

A workbook row (tasks/intake/workbook_rows.py) and a Python caller's mapping (tasks/intake/mapping_rows.py)
both become an ``IntakeRecord``; the checks against the call (tasks/intake/validator.py) and the writer
(tasks/intake/applications.py) read its attributes, never an untyped dict. ``StoredApplication`` is what
the call holds for a USCC already, so a re-imported row is skipped when unchanged and refused with the
differences named when not (再次导入核对).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Optional

from models.enums import EnterpriseSize, ReviewLevel
from tasks.intake.cells import show
from tasks.intake.fields import BY_KEY

MONEY_PLACES = Decimal("0.0001")
NAME_MAX = 128                       # 企业名称: the column's length
FISCAL_YEARS = range(1990, 2101)     # a fiscal year srdi takes figures for


@dataclass(slots=True)
class IntakeRecord:
    """One valid row, ready to be written: enterprise fields, yearly figures and facts."""

    row: int                                   # as Excel shows it, or the caller's ``row``
    uscc: str                                  # 统一社会信用代码, canonical (GB 32100-2015)
    name: str                                  # 企业名称
    size: EnterpriseSize                       # 企业规模
    industry_code: str                         # 所属行业 (GB/T 4754-2017)
    jurisdiction_code: str                     # 所在区（县）
    registered_on: Optional[date] = None       # 成立日期
    listed_board: Optional[str] = None         # 上市板块, None = 未上市
    years: dict[int, dict[str, Any]] = field(default_factory=dict)   # fiscal year → figures (万元 Decimal, counts int)
    facts: dict[str, Any] = field(default_factory=dict)              # form facts (patents, qualifications …)
    category: Optional[str] = None             # 分类 (79号 a/b/c)
    eligible: Optional[bool] = None            # eligibility verdict, when already judged
    entry_level: Optional[ReviewLevel] = None  # None: the route's entry level


@dataclass(frozen=True, slots=True)
class UnitConversion:
    """A money cell typed in 元 or 亿元 and stored in 万元 (金额单位换算), for the import report."""

    row: int
    column: str               # the header as written in the file
    typed: str                # the cell as typed, e.g. "69,420,000元"
    stored: Decimal           # 万元

    def __str__(self) -> str:
        return f"第{self.row}行「{self.column}」“{self.typed}” → {show(self.stored)} 万元"


@dataclass
class StoredApplication:
    """What a call already holds for one USCC (to tell a re-import from a conflicting row)."""

    ref: str
    name: str
    size: str
    industry_code: str
    jurisdiction_code: str
    registered_on: Optional[date]
    listed_board: Optional[str]
    years: dict[int, dict[str, Any]]
    facts: dict[str, Any]


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (Decimal, int, float)) and isinstance(b, (Decimal, int, float)) and not isinstance(a, bool):
        return Decimal(str(a)).quantize(MONEY_PLACES) == Decimal(str(b)).quantize(MONEY_PLACES)
    return a == b


def differences_from(stored: StoredApplication, record: IntakeRecord) -> list[str]:
    """What the row changes compared with what is stored (only the fields the row fills)."""
    labels = {"jurisdiction_code": "区（县）", **{key: column.label for key, column in BY_KEY.items()}}
    found = []
    for key in ("name", "size", "industry_code", "jurisdiction_code", "registered_on", "listed_board"):
        new, old = getattr(record, key), getattr(stored, key)
        if new is not None and not _same(new, old):
            found.append(f"{labels.get(key, key)} 已存“{show(old)}”、本文件“{show(new)}”")
    for year, figures in record.years.items():
        for key, new in figures.items():
            old = stored.years.get(year, {}).get(key)
            if not _same(new, old):
                found.append(f"{year}年{labels.get(key, key)} 已存“{show(old)}”、本文件“{show(new)}”")
    for key, new in record.facts.items():
        if not _same(new, stored.facts.get(key)):
            found.append(f"{labels.get(key, key)} 已存“{show(stored.facts.get(key))}”、本文件“{show(new)}”")
    return found
