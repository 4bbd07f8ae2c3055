"""Comparing an imported row with what the call already holds (再次导入核对).

Importing the same file twice creates nothing new: a row whose USCC is already in the call is
skipped when its data are unchanged, and refused with the differences named when they are not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Optional

from tasks.intake.cells import show
from tasks.intake.fields import BY_KEY

if TYPE_CHECKING:
    from tasks.intake.validate import IntakeRecord

MONEY_PLACES = Decimal("0.0001")


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
