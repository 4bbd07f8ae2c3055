"""What clerks type into cells, and how headers in the forms' many spellings are recognised."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from tasks.intake.cells import CellError, parse_bool, parse_date, parse_decimal, parse_industry, parse_int
from tasks.intake.fields import resolve_header


@pytest.mark.parametrize("typed, value", [
    ("1,234.5", "1234.5"), ("１２３４", "1234"), (" 500 ", "500"), ("(300)", "-300"), ("500万元", "500"),
    (1234.5, "1234.5"), (12, "12"), ("1 234", "1234"),
])
def test_numbers_as_typed(typed, value):
    assert parse_decimal(typed) == Decimal(value)


def test_percentages_in_a_percentage_column():
    assert parse_decimal("12.5%", percent=True) == Decimal("12.5")
    assert parse_decimal("１２．５％", percent=True) == Decimal("12.5")
    assert parse_decimal(0.125, percent=True, percent_format=True) == Decimal("12.5")
    with pytest.raises(CellError, match="不要带 %"):
        parse_decimal("12.5%")


@pytest.mark.parametrize("typed", ["12,3a5", "一千", "", "--"])
def test_what_is_not_a_number_says_so(typed):
    with pytest.raises(CellError, match="应为数字"):
        parse_decimal(typed)


def test_whole_numbers_only_where_counts_are_asked():
    assert parse_int("1,200") == 1200 and parse_int(30.0) == 30
    with pytest.raises(CellError, match="应为整数"):
        parse_int("12.5")


@pytest.mark.parametrize("typed, value", [("是", True), ("否", False), (" √ ", True), ("有", True), ("无", False),
                                          ("Y", True), ("no", False), (1, True), ("☑是", True)])
def test_yes_and_no(typed, value):
    assert parse_bool(typed) is value


def test_dates_as_typed():
    assert parse_date("2019年5月1日") == parse_date("2019/5/1") == parse_date("20190501") == date(2019, 5, 1)
    with pytest.raises(CellError):
        parse_date("2019-02-30")


@pytest.mark.parametrize("typed, code", [("14 食品制造业", "C14"), ("C14食品制造业", "C14"), ("3484", "C3484"),
                                         ("65", "I65"), (34, "C34")])
def test_industry_codes_get_their_section_letter(typed, code):
    assert parse_industry(typed)[0] == code


def test_an_industry_letter_that_contradicts_the_number_is_refused():
    with pytest.raises(CellError):
        parse_industry("A34 通用设备制造业")


@pytest.mark.parametrize("header, key, year", [
    ("2025年营业收入（万元）", "revenue_wan", 2025), ("营业收入(万元)2025", "revenue_wan", 2025),
    ("营业收入2025（万元）", "revenue_wan", 2025), ("2024年度净利润总额（万元）", "net_profit_wan", 2024),
    ("所在市(州)", "city", None), ("*统一社会信用代码", "uscc", None), ("有效发明专利数量（个）", "invention_patents", None),
    ("《工业“四基”发展目录》所列重点领域/是否属于", "four_base_catalogue", None), ("实缴税金（万元）", "taxes_paid_wan", None),
])
def test_headers_in_the_forms_spellings(header, key, year):
    found = resolve_header(header)
    assert found.column.key == key and found.year == year


@pytest.mark.parametrize("header", ["2025年主营业务收入增长率（%）", "研发经费占营业收入比重（%）", "资产负债率", "序号"])
def test_computed_and_bookkeeping_columns_are_recognised_and_never_read(header):
    found = resolve_header(header)
    assert found is not None and found.column is None
