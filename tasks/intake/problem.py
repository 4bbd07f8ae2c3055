"""One problem with one intake row (申报数据问题), and the refusal of a batch that has any.

Every intake check — a workbook cell, a record from a Python caller, a ban or a closed level the
database knows — reports a ``Problem``: the row (as Excel shows it, or the record's ``row``), the
field, the value as given and what was expected, in Chinese. ``column`` is what the clerk sees: the
header as written in the file, or the field's Chinese label.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from models.errors import RuleViolation

LABELS = {
    "uscc": "统一社会信用代码", "name": "企业名称", "size": "企业规模", "industry_code": "所属行业代码",
    "jurisdiction_code": "所在区（县）", "registered_on": "成立日期", "financials": "财务数据",
    "fiscal_year": "年度", "revenue_wan": "营业收入（万元）", "main_business_revenue_wan": "主营业务收入（万元）",
    "entry_level": "申报起始层级", "facts": "申报事实", "category": "分类",
}


@dataclass(frozen=True, slots=True)
class Problem:
    row: int
    field: str               # the record field ("uscc", "revenue_wan" …), or "header" for the header row itself
    value: Any               # as given: the cell as typed, or the caller's value
    expected: str            # what it should be, in Chinese
    column: str = ""         # as the clerk sees it; defaults to the field's label

    def __post_init__(self) -> None:
        if not self.column:
            object.__setattr__(self, "column", LABELS.get(self.field, self.field))

    def __str__(self) -> str:
        return f"第{self.row}行「{self.column}」“{self.value}”：{self.expected}"


class InvalidRecords(RuleViolation):
    """Records that cannot be taken in; ``problems`` lists each (row, field, value, expected)."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        shown = "；".join(f"第{p.row}行 {p.column}（{p.value!r}）：{p.expected}" for p in problems[:20])
        more = f"；另有 {len(problems) - 20} 处问题" if len(problems) > 20 else ""
        super().__init__(f"{len(problems)} 处问题，未写入任何数据：{shown}{more}")
