"""Reading an application workbook's rows into intake records (导入校验), before anything is written.

Every problem names the row as Excel shows it, the column header as written in the file, the
value as typed and what was expected, in Chinese. Rules: required cells; numbers, dates and
choices readable; 统一社会信用代码 check character (GB 32100-2015); no negative assets, revenue
or counts; 主营业务收入 not above 营业收入 of the same year; 研发人员数 not above 从业人数; the
区（县） inside the stated 市（州） (and the 市（州） inside the call's province); a USCC at most
once in the file; a USCC already in the call only when its data are unchanged (then the row is
skipped, so importing the same file twice creates nothing new). Pure Python: the caller
(tasks/intake/workbook_check.py) loads the places and what the call already holds, chunk by chunk.
A money cell may carry 元, 万元 or 亿元 (tasks/intake/cells.py converts it to 万元); each conversion is
reported.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any, Callable, Optional

from models.enterprise import InvalidUSCC, normalise_uscc
from models.enums import EnterpriseSize
from tasks.intake.cells import (
    CONVERTING,
    MONEY,
    CellError,
    as_text,
    fold,
    is_blank,
    parse_bool,
    parse_choice,
    parse_date,
    parse_decimal,
    parse_industry,
    parse_int,
    parse_list,
    read_number,
    show,
)
from tasks.intake.fields import (
    BATCH_CHOICES,
    BOARD_CHOICES,
    BY_KEY,
    ENTERPRISE_COLUMNS,
    LISTING_CHOICES,
    SIZE_CHOICES,
    Column,
    resolve_header,
)
from tasks.intake.places import Places
from tasks.intake.problem import Problem
from tasks.intake.record import (
    FISCAL_YEARS,
    MONEY_PLACES,
    NAME_MAX,
    IntakeRecord,
    StoredApplication,
    UnitConversion,
)
from tasks.intake.sheet import Percent, Sheet

YEAR_REQUIRED = ("revenue_wan", "main_business_revenue_wan")


@dataclass
class WorkbookContext:
    reference_year: int                              # 上年 = call.year − 1
    places: Places
    stored: dict[str, StoredApplication] = field(default_factory=dict)


@dataclass
class WorkbookRows:
    """What a workbook's rows come to: records to write, rows already in the call unchanged, problems."""

    records: list[IntakeRecord]
    unchanged: list[int]
    problems: list[Problem]
    file_level: bool = False          # the header itself is wrong: no row can be read
    headers: dict[str, str] = field(default_factory=dict)   # field key → header as written in the file
    conversions: list[UnitConversion] = field(default_factory=list)   # money cells typed in 元 or 亿元


@dataclass(frozen=True)
class Planned:
    index: int
    header: str
    column: Column
    year: Optional[int]


def plan_columns(sheet: Sheet, reference_year: int) -> tuple[list[Planned], list[Problem]]:
    """Map each header cell to a field; unknown, repeated or missing columns are file-level problems."""
    planned, problems, seen = [], [], {}
    for index, header in enumerate(sheet.headers):
        if not header:
            continue
        found = resolve_header(header)
        if found is None:
            problems.append(Problem(sheet.header_row, "header", header, "无法识别的列标题（可用的列见模板“填写说明”）", header))
            continue
        if found.column is None:
            continue  # 序号, computed ratios and growth: never read
        year = found.year if found.column.target == "year" else None
        if found.column.target == "year" and year is None:
            year = reference_year
        key = (found.column.key, year)
        if key in seen:
            problems.append(Problem(sheet.header_row, found.column.key, header, f"与“{seen[key]}”列重复", header))
            continue
        seen[key] = header
        planned.append(Planned(index, header, found.column, year))
    has = {(p.column.key, p.year) for p in planned}
    for column in ENTERPRISE_COLUMNS:
        if column.required and (column.key, None) not in has and not (column.key == "city" and sheet.title):
            problems.append(Problem(sheet.header_row, column.key, "（缺少此列）", "缺少必填列", column.label))
    for key in YEAR_REQUIRED:
        if (key, reference_year) not in has:
            label = {"revenue_wan": "营业收入（万元）", "main_business_revenue_wan": "主营业务收入（万元）"}[key]
            problems.append(Problem(sheet.header_row, key, "（缺少此列）", f"缺少上年（{reference_year}年）数据列",
                                    f"{reference_year}年{label}"))
    return planned, problems


def cell_reader(column: Column) -> Callable[[Any, bool], Any]:
    """A function reading one cell of ``column`` (value, formatted-as-%) or raising CellError."""
    kind = column.kind
    if kind in ("text", "city", "county"):
        return lambda value, _: as_text(value)
    if kind == "uscc":
        def uscc(value: Any, _: bool) -> str:
            checked = checked_uscc(fold(as_text(value)))
            if isinstance(checked, InvalidUSCC):
                raise CellError(str(checked))
            return checked
        return uscc
    choices = {"size": (SIZE_CHOICES, "应为“中型”“小型”或“微型”"),
               "board": (BOARD_CHOICES, "应为上市板块之一：" + "、".join(column.choices)),
               "listing": (LISTING_CHOICES, "应为“无上市计划”“有上市计划”或“已上市”"),
               "enum": (BATCH_CHOICES if column.key == "little_giant_batch" else {c: c for c in column.choices},
                        "应为以下之一：" + "、".join(column.choices))}
    if kind in choices:
        options, expected = choices[kind]
        return lambda value, _: parse_choice(value, options, expected)
    simple = {"industry": parse_industry, "date": parse_date, "bool": parse_bool, "list": parse_list}
    if kind in simple:
        parse = simple[kind]
        return lambda value, _: parse(value)
    if column.unit == MONEY:
        money = money_reader(column)
        return lambda value, percent_format: money(value, percent_format)[0]
    minimum, unit = column.minimum, column.unit
    too_small = _too_small(minimum)

    def number(value: Any, percent_format: bool) -> Any:
        if kind == "int":
            result = parse_int(value, unit)
        else:
            result = parse_decimal(value, percent_format=percent_format, unit=unit)
        if minimum is not None and result < minimum:
            raise CellError(too_small)
        return result
    return number


def money_reader(column: Column) -> Callable[[Any, bool], tuple[Decimal, str]]:
    """Reading one cell of a 万元 column: (amount in 万元 to the stored places, the unit as typed)."""
    minimum = column.minimum
    too_small = _too_small(minimum)

    def money(value: Any, _: bool) -> tuple[Decimal, str]:
        if value.__class__ is float:   # what nearly every cell holds: read_number's own first case, without the call
            text = repr(value)
            if len(text) < 16 and "e" not in text:
                amount = Decimal(text).quantize(MONEY_PLACES, rounding=ROUND_HALF_UP)
                if minimum is not None and amount < minimum:
                    raise CellError(too_small)
                return amount, ""
        amount, typed = read_number(value, unit=MONEY)
        amount = amount.quantize(MONEY_PLACES, rounding=ROUND_HALF_UP)
        if minimum is not None and amount < minimum:
            raise CellError(too_small)
        return amount, typed
    return money


def _too_small(minimum: Optional[Decimal]) -> str:
    return "不能为负数" if minimum == 0 else f"应不小于 {minimum}"


@lru_cache(maxsize=65536)
def checked_uscc(text: str) -> str | InvalidUSCC:
    """The canonical USCC, or the refusal (memoised: a file is checked, then looked up, then written)."""
    try:
        return normalise_uscc(text)
    except InvalidUSCC as exc:
        return exc


_SPACES = " \t\r\n\u3000\xa0\u200b"


def _json_number(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


class RowReader:
    """Reads one row at a time into a record or its problems; ``conversions`` collects the 金额单位 converted."""

    def __init__(self, sheet: Sheet, planned: list[Planned], context: WorkbookContext):
        self.sheet, self.planned, self.context = sheet, planned, context
        self.title_city = context.places.city_in_text(sheet.title) if sheet.title else None
        self.headers = {(p.column.key if p.year is None else f"{p.column.key}@{p.year}"): p.header for p in planned}
        self.cells = [(p.index, p.header, p.column.key, p.year, p.column.unit == MONEY,
                       money_reader(p.column) if p.column.unit == MONEY else cell_reader(p.column)) for p in planned]
        self.conversions: list[UnitConversion] = []

    def read(self, number: int, values: list[Any]) -> tuple[Optional[IntakeRecord], list[Problem]]:
        problems: list[Problem] = []
        fields: dict[str, Any] = {}
        headers = self.headers
        years: dict[int, dict[str, Any]] = defaultdict(dict)
        width = len(values)
        for index, header, key, year, money, reader in self.cells:
            raw = values[index] if index < width else None
            if raw is None or (raw.__class__ is str and not raw.strip(_SPACES)):   # ``_blank``, spelt out: every cell
                continue
            try:
                value = reader(raw, raw.__class__ is Percent)
            except CellError as exc:
                problems.append(Problem(number, key, show(raw), exc.expected, header))
                continue
            if money:
                value, typed = value
                if typed in CONVERTING:
                    self.conversions.append(UnitConversion(number, header, show(raw), value))
            if year is not None:
                years[year][key] = value
            else:
                fields[key] = value
        for column in ENTERPRISE_COLUMNS:
            if column.required and column.target != "location" and column.key not in fields:
                header = headers.get(column.key, column.label)
                if not _has_problem(problems, header):
                    problems.append(Problem(number, column.key, "（空）", "必填", header))
        if len(fields.get("name", "")) > NAME_MAX:
            problems.append(Problem(number, "name", fields["name"], f"必填，不超过{NAME_MAX}个字", headers["name"]))
        listing, board = fields.get("listing"), fields.get("listed_board")
        if listing == "listed" and board is None and not _has_problem(problems, headers.get("listed_board")):
            problems.append(Problem(number, "listing", "已上市", "已上市的须在“上市板块”列填写板块", headers.get("listing", "上市情况")))
        if board is not None and listing in ("none", "plan"):
            problems.append(Problem(number, "listed_board", board, f"上市情况为“{show(values[self._index('listing')])}”，不应填写上市板块",
                                    headers["listed_board"]))
        reference = self.context.reference_year
        for key in YEAR_REQUIRED:
            header = headers.get(f"{key}@{reference}")
            if key not in years.get(reference, {}) and header and not _has_problem(problems, header):
                problems.append(Problem(number, key, "（空）", f"必填（上年即{reference}年数据）", header))
        for year, figures in years.items():   # any other year filled at all needs its two revenues too
            if year not in FISCAL_YEARS:
                key = next(iter(figures))
                problems.append(Problem(number, "fiscal_year", year, f"年度应在 {FISCAL_YEARS[0]}–{FISCAL_YEARS[-1]} 年之间",
                                        headers[f"{key}@{year}"]))
                continue
            for key in YEAR_REQUIRED if year != reference else ():
                header = headers.get(f"{key}@{year}", BY_KEY[key].header(year))
                if key not in figures and not _has_problem(problems, header):
                    problems.append(Problem(number, key, "（空）", f"必填（已填写{year}年的其他数据）", header))
        problems += self._check_years(number, years, headers)
        jurisdiction = self._place(number, fields, headers, problems)
        record = None
        if not problems:
            record = self._record(number, fields, years, jurisdiction)
        return record, problems

    def _index(self, key: str) -> int:
        return next(p.index for p in self.planned if p.column.key == key)

    def _check_years(self, number: int, years: dict, headers: dict) -> list[Problem]:
        problems = []
        for year, figures in sorted(years.items()):
            revenue, main = figures.get("revenue_wan"), figures.get("main_business_revenue_wan")
            if revenue is not None and main is not None and main > revenue:
                problems.append(Problem(number, "main_business_revenue_wan", show(main),
                                        f"主营业务收入不应大于同年营业收入（{show(revenue)}万元）",
                                        headers[f"main_business_revenue_wan@{year}"]))
            staff, rd_staff = figures.get("employees"), figures.get("rd_staff")
            if staff is not None and rd_staff is not None and rd_staff > staff:
                problems.append(Problem(number, "rd_staff", show(rd_staff), f"研发人员数不应大于同年从业人数（{staff}人）",
                                        headers[f"rd_staff@{year}"]))
        return problems

    def _place(self, number: int, fields: dict, headers: dict, problems: list[Problem]) -> Optional[str]:
        places = self.context.places
        city_text, county_text = fields.get("city"), fields.get("county")
        city_header, county_header = headers.get("city", "所在市（州）"), headers.get("county", "区（县）")
        if not city_text and self.title_city:
            city_text = places.name(self.title_city)
        if not city_text:
            problems.append(Problem(number, "city", "（空）", "必填", city_header))
            return None
        city = places.city(city_text)
        if city is None:
            candidates = places.cities_named(city_text)
            found = [code for code in (places.county(c, county_text or "") for c in candidates) if code]
            if len(found) == 1:
                return found[0]
            problems.append(Problem(number, "city", city_text, f"不是{places.scope_name}的市（州）" if not candidates
                                    else "对应多个市（州），请在“区（县）”列填写所属区（县）", city_header))
            return None
        if not county_text:
            if places.has_counties(city):
                problems.append(Problem(number, "county", "（空）", "必填", county_header))
                return None
            return city
        county = places.county(city, county_text)
        if county is not None:
            return county
        elsewhere = places.county_anywhere(county_text)
        if elsewhere:
            owner = "、".join(places.name(places.parent(code)) for code in elsewhere)
            expected = f"不在所填的{places.name(city)}辖区内（{county_text}属于{owner}）"
        else:
            expected = f"不是{places.name(city)}的区（县）"
        problems.append(Problem(number, "county", county_text, expected, county_header))
        return None

    def _record(self, number: int, fields: dict, years: dict, jurisdiction: str) -> IntakeRecord:
        code, industry_name = fields["industry_code"]
        facts = {key: (_json_number(value) if value.__class__ is Decimal else value) for key, value in fields.items()
                 if key not in _NON_FACT}
        if industry_name:
            facts["industry_name"] = industry_name
        if fields.get("listing") in ("none", "plan") and "listing_plan" not in facts:
            facts["listing_plan"] = fields["listing"] == "plan"
        board = fields.get("listed_board")
        return IntakeRecord(
            row=number, uscc=fields["uscc"], name=fields["name"], size=EnterpriseSize(fields["size"]), industry_code=code,
            jurisdiction_code=jurisdiction, registered_on=fields.get("registered_on"), listed_board=board,
            years={year: dict(figures) for year, figures in years.items() if figures}, facts=facts,
        )


_NON_FACT = {c.key for c in ENTERPRISE_COLUMNS if c.target != "fact"}


def _has_problem(problems: list[Problem], header: Optional[str]) -> bool:
    return header is not None and any(p.column == header for p in problems)


def uscc_in_row(values: list[Any], planned: list[Planned]) -> Optional[str]:
    """The row's valid USCC, if it has one (to find what the call already holds before reading the rows)."""
    for plan in planned:
        if plan.column.key == "uscc" and plan.index < len(values) and not is_blank(values[plan.index]):
            checked = checked_uscc(fold(as_text(values[plan.index])))
            return None if isinstance(checked, InvalidUSCC) else checked
    return None
