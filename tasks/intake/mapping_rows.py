"""Reading a Python caller's records into intake records (申报记录校验): the demo, the benchmark, re-review, tests.

Each record is a mapping with English keys (see ``create_applications`` for the shape); every problem
names the row, the field, the value and what was expected.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any, Optional

from models.enterprise import InvalidUSCC, normalise_uscc
from models.enums import EnterpriseSize, ReviewLevel
from tasks.intake.admission import Intake
from tasks.intake.cells import MONEY, CellError, parse_decimal
from tasks.intake.problem import Problem
from tasks.intake.record import FISCAL_YEARS, NAME_MAX, IntakeRecord

REQUIRED_MONEY = ("revenue_wan", "main_business_revenue_wan")
OPTIONAL_MONEY = ("rd_expense_wan", "total_profit_wan", "net_profit_wan", "total_assets_wan",
                  "total_liabilities_wan", "taxes_paid_wan")
COUNTS = ("employees", "rd_staff")
SIZE_LABELS = {size.label: size for size in EnterpriseSize}
INDUSTRY = re.compile(r"^[A-T](\d{2}|\d{3}|\d{4})?$")


def _money(value: Any) -> Optional[Decimal]:
    """An amount in 万元: a number, or text read as a workbook cell is ("69,420,000元" → 6942), see cells.read_number."""
    if value is None or value == "":
        return None
    return parse_decimal(value, unit=MONEY)


def _financials(row: int, years: Any, problems: list[Problem]) -> dict[int, dict[str, Any]]:
    if years is None:
        return {}
    if not isinstance(years, list):
        problems.append(Problem(row, "financials", years, "应为按年度排列的财务数据列表"))
        return {}
    clean: dict[int, dict[str, Any]] = {}
    for item in years:
        fiscal_year = item.get("fiscal_year") if isinstance(item, dict) else None
        if not isinstance(fiscal_year, int) or fiscal_year not in FISCAL_YEARS or fiscal_year in clean:
            problems.append(Problem(row, "fiscal_year", fiscal_year, "应为不重复的四位年度（如 2025）"))
            continue
        out: dict[str, Any] = {}
        for name in REQUIRED_MONEY + OPTIONAL_MONEY:
            try:
                out[name] = _money(item.get(name))
            except CellError as exc:
                detail = "" if exc.expected == "应为数字" else f"：{exc.expected}"
                problems.append(Problem(row, name, item.get(name), f"{fiscal_year}年应为金额（万元）{detail}"))
                continue
            if name in REQUIRED_MONEY and (out[name] is None or out[name] < 0):
                problems.append(Problem(row, name, item.get(name), f"{fiscal_year}年必填，且不得为负"))
        out["rd_expense_wan"] = out.get("rd_expense_wan") or Decimal(0)
        for name in COUNTS:
            value = item.get(name)
            if value is not None and (not isinstance(value, int) or value < 0):
                problems.append(Problem(row, name, value, f"{fiscal_year}年应为非负整数"))
            out[name] = value
        clean[fiscal_year] = out
    return clean


def _entry_level(row: int, value: Any, intake: Intake, problems: list[Problem]) -> Optional[ReviewLevel]:
    context = intake.context
    if value in (None, ""):
        return context.entry.level
    levels = [step.level for step in context.levels]
    try:
        level = ReviewLevel(value)
        index = levels.index(level)
    except ValueError:
        problems.append(Problem(row, "entry_level", value, f"应为本批次审核路线中的层级 {[level.value for level in levels]}"))
        return None
    skipped = [step for step in context.levels[:index] if not step.optional]
    if skipped:
        problems.append(Problem(row, "entry_level", value, f"不能跳过必经的{skipped[0].label}"))
        return None
    return level


def read_mapping(record: Any, index: int, intake: Intake, seen: dict[str, int], problems: list[Problem]) -> Optional[IntakeRecord]:
    """The record as an ``IntakeRecord``, or None with its problems appended (``seen``: USCC → first row)."""
    if not isinstance(record, Mapping):
        problems.append(Problem(index, "(记录)", record, "应为一个字段映射"))
        return None
    row = record.get("row") or index
    before = len(problems)
    try:
        uscc = normalise_uscc(str(record.get("uscc") or ""))
    except InvalidUSCC as exc:
        problems.append(Problem(row, "uscc", record.get("uscc"), str(exc)))
        uscc = None
    if uscc and uscc in seen:
        problems.append(Problem(row, "uscc", uscc, f"与第{seen[uscc]}行重复"))
    elif uscc:
        seen[uscc] = row
    name = str(record.get("name") or "").strip()
    if not name or len(name) > NAME_MAX:
        problems.append(Problem(row, "name", record.get("name"), "必填，不超过128个字"))
    size = record.get("size")
    size = SIZE_LABELS.get(size, size)
    if size not in set(EnterpriseSize):
        problems.append(Problem(row, "size", record.get("size"), "应为 中型/小型/微型（medium/small/micro）"))
    industry = str(record.get("industry_code") or "").strip().upper()
    if not INDUSTRY.match(industry):
        problems.append(Problem(row, "industry_code", record.get("industry_code"),
                                "应为 GB/T 4754-2017 行业代码（门类字母加2–4位数字，如 C3484）"))
    code = str(record.get("jurisdiction_code") or "").strip()
    outside = intake.jurisdiction_problem(code)
    if outside:
        problems.append(Problem(row, "jurisdiction_code", code, outside))
    registered_on = record.get("registered_on")
    if registered_on is not None and not isinstance(registered_on, date):
        problems.append(Problem(row, "registered_on", registered_on, "应为日期"))
    facts = record.get("facts") or {}
    if not isinstance(facts, dict):
        problems.append(Problem(row, "facts", facts, "应为字段映射"))
    years = _financials(row, record.get("financials"), problems)
    level = _entry_level(row, record.get("entry_level"), intake, problems)
    if len(problems) > before:
        return None
    return IntakeRecord(
        row=row, uscc=uscc, name=name, size=EnterpriseSize(size), industry_code=industry, jurisdiction_code=code,
        registered_on=registered_on, listed_board=record.get("listed_board"), years=years, facts=facts,
        category=record.get("category"), eligible=record.get("eligible"), entry_level=level,
    )
