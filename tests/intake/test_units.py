"""Money units in imports (金额单位): 元, 万元 and 亿元 become 万元 exactly; anything else is refused (issue 12, item 1).

The probe: ``69,420,000元`` in a 万元 column was stored as 69,420,000 万元 — 10,000 times too large — and fed
eligibility. Now it is 6,942 万元, the import report lists the conversion, and eligibility judges 6,942.
"""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from typer.testing import CliRunner

from models.application import Application
from models.eligibility import EligibilityVerdict
from models.enterprise import Enterprise, EnterpriseFinancialYear
from srdi.cli.main import app
from srdi.demo.sample_workbook import write_sample_workbook
from tasks.intake.applications import create_applications
from tasks.intake.cells import CellError, parse_decimal, parse_int, read_number
from tasks.intake.problem import InvalidRecords
from tasks.intake.workbook_import import import_applications
from tests.intake.conftest import CALL_YEAR, counts

REVENUE = f"{CALL_YEAR - 1}年营业收入（万元）"
MAIN = f"{CALL_YEAR - 1}年主营业务收入（万元）"


@pytest.mark.parametrize("typed, wan, unit", [
    ("69,420,000元", "6942", "元"), ("6942万元", "6942", "万元"), ("6942万", "6942", "万"), ("0.6942亿元", "6942", "亿元"),
    ("0.6942亿", "6942", "亿"), ("６９，４２０，０００元", "6942", "元"), ("６９４２万元", "6942", "万元"), ("6942 万元", "6942", "万元"),
    (" 69 420 000 元 ", "6942", "元"), ("(3,000元)", "-0.3", "元"), ("1234.56元", "0.123456", "元"), ("6942", "6942", ""),
    (6942.5, "6942.5", ""), (Decimal("12"), "12", ""),
])
def test_each_money_unit_is_converted_to_wan_exactly(typed, wan, unit):
    assert read_number(typed) == (Decimal(wan), unit)


@pytest.mark.parametrize("typed, word", [("6942千元", "千元"), ("$6942", "$"), ("6942美元", "美元"), ("US$5", "US$"),
                                         ("5人", "人"), ("5个", "个"), ("¥5000", "¥"), ("５０００港元", "港元")])
def test_a_unit_that_is_not_money_in_wan_is_refused_by_name(typed, word):
    with pytest.raises(CellError) as refused:
        parse_decimal(typed)
    assert f"“{word}”" in refused.value.expected and "万元" in refused.value.expected


def test_counts_and_years_keep_their_units_and_refuse_money():
    assert parse_int("1,200人", "人") == 1200 and parse_int("15项", "个") == 15 and parse_int("2019年") == 2019
    assert parse_decimal("12.5%", percent=True) == Decimal("12.5")
    with pytest.raises(CellError, match="不能带“元”"):
        parse_int("120元", "人")
    with pytest.raises(CellError, match="不能带“万元”"):
        parse_decimal("3万元", unit="%")


def _typed_workbook(tmp_path, cells: dict[int, dict[str, object]], n: int = 4, seed: int = 61):
    """A sample workbook of ``n`` rows with some cells retyped: Excel row → header → value."""
    sample = write_sample_workbook(tmp_path / "typed.xlsx", "hebei-provincial-srdi", CALL_YEAR, n=n, seed=seed)
    book = load_workbook(sample.path)
    sheet = book.active
    headers = [c.value for c in sheet[1]]
    for row, values in cells.items():
        for header, value in values.items():
            sheet.cell(row=row, column=headers.index(header) + 1, value=value)
    book.save(sample.path)
    return sample


def _revenues(engine) -> dict[str, Decimal]:
    with engine.connect() as c:
        rows = c.execute(select(Enterprise.uscc, EnterpriseFinancialYear.revenue_wan)
                         .join(Enterprise, Enterprise.id == EnterpriseFinancialYear.enterprise_id)
                         .where(EnterpriseFinancialYear.fiscal_year == CALL_YEAR - 1)).all()
    return {uscc: Decimal(str(value)) for uscc, value in rows}


def test_a_workbook_in_yuan_is_stored_in_wan_and_the_report_lists_each_conversion(tmp_path, engine, hebei_call):
    sample = _typed_workbook(tmp_path, {2: {REVENUE: "69,420,000元", MAIN: "60,000,000元"}, 3: {REVENUE: "０.６９４２亿元", MAIN: 6000},
                                        4: {REVENUE: "6942万元", MAIN: 6000}})
    outcome = import_applications(sample.path, hebei_call)
    assert outcome.written and outcome.created == 4, outcome.problems
    stored = _revenues(engine)
    assert stored[sample.usccs[0]] == stored[sample.usccs[1]] == stored[sample.usccs[2]] == Decimal("6942")
    shown = [(c.row, c.column, c.typed, c.stored) for c in outcome.conversions]
    assert shown == [(2, REVENUE, "69,420,000元", Decimal("6942")), (2, MAIN, "60,000,000元", Decimal("6000")),
                     (3, REVENUE, "０.６９４２亿元", Decimal("6942"))]
    assert str(outcome.conversions[0]) == f"第2行「{REVENUE}」“69,420,000元” → 6942 万元"


def test_the_cli_report_and_json_say_which_cells_were_converted(tmp_path, engine, hebei_call):
    sample = _typed_workbook(tmp_path, {3: {REVENUE: "69,420,000元", MAIN: 6000}})
    result = CliRunner().invoke(app, ["import", "applications", str(sample.path), "--call", hebei_call, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["conversions"] == [{"row": 3, "column": REVENUE, "typed": "69,420,000元", "stored_wan": "6942.0000"}]
    again = _typed_workbook(tmp_path, {3: {REVENUE: "69,420,000元", MAIN: 6000}}, seed=62)
    printed = CliRunner().invoke(app, ["import", "applications", str(again.path), "--call", hebei_call])
    assert printed.exit_code == 0, printed.output
    assert "金额单位换算 1 处" in printed.output and "69,420,000元" in printed.output and "6942" in printed.output


@pytest.mark.parametrize("typed, word", [("5000千元", "千元"), ("$6942", "$"), ("6942美元", "美元"), ("120人", "人")])
def test_a_foreign_unit_refuses_the_file_naming_row_column_and_value(tmp_path, engine, hebei_call, typed, word):
    sample = _typed_workbook(tmp_path, {3: {REVENUE: typed}})
    before = counts(engine)
    outcome = import_applications(sample.path, hebei_call)
    assert not outcome.written and counts(engine) == before
    (problem,) = outcome.problems
    assert (problem.row, problem.column, problem.value) == (3, REVENUE, typed)
    assert f"“{word}”" in problem.expected and str(problem).startswith(f"第3行「{REVENUE}」“{typed}”")


def _verdicts(engine, uscc: str) -> dict[str, bool]:
    with engine.connect() as c:
        rows = c.execute(select(EligibilityVerdict.node_id, EligibilityVerdict.passed)
                         .join(Application, Application.id == EligibilityVerdict.application_id)
                         .join(Enterprise, Enterprise.id == Application.enterprise_id).where(Enterprise.uscc == uscc)).all()
    return dict(rows)


def test_eligibility_judges_the_converted_amount(tmp_path, engine, hebei_call):
    """Three copies of one enterprise's figures: in 万元, in 元 and — wrongly — 万元 figures typed with 元."""
    sample = write_sample_workbook(tmp_path / "one.xlsx", "hebei-provincial-srdi", CALL_YEAR, n=3, seed=63)
    book = load_workbook(sample.path)
    sheet = book.active
    headers = [c.value for c in sheet[1]]
    money = [i for i, h in enumerate(headers) if h and "（万元）" in h]
    first = [c.value for c in sheet[2]]
    for row in (3, 4):
        for index, value in enumerate(first):
            if index not in (headers.index("企业名称"), headers.index("统一社会信用代码")):
                sheet.cell(row=row, column=index + 1, value=value)
    for index in money:
        if first[index] not in (None, ""):
            wan = parse_decimal(first[index])
            sheet.cell(row=3, column=index + 1, value=f"{wan * 10000:f}元")
            sheet.cell(row=4, column=index + 1, value=f"{wan:f}元")
    book.save(sample.path)
    outcome = import_applications(sample.path, hebei_call)
    assert outcome.written and outcome.created == 3, outcome.problems
    in_wan, in_yuan, mistyped = (_verdicts(engine, uscc) for uscc in sample.usccs)
    assert in_wan == in_yuan
    assert in_wan != mistyped          # 10,000 times smaller: the revenue thresholds fail
    stored = _revenues(engine)
    assert stored[sample.usccs[0]] == stored[sample.usccs[1]]
    assert stored[sample.usccs[2]] == (stored[sample.usccs[0]] / 10000).quantize(Decimal("0.0001"), ROUND_HALF_UP)   # to the 元


def test_a_python_caller_goes_through_the_same_conversion(engine, hebei_call, clock):
    from tests.web.conftest import make_uscc

    record = {"uscc": make_uscc(1, "130102"), "name": "石家庄元换算测试有限公司", "size": "small", "industry_code": "C3484",
              "jurisdiction_code": "130102",
              "financials": [{"fiscal_year": CALL_YEAR - 1, "revenue_wan": "69,420,000元", "main_business_revenue_wan": "0.6亿元",
                              "rd_expense_wan": 310}]}
    with engine.begin() as c:
        create_applications(c, hebei_call, [record], "system", clock.now())
    assert _revenues(engine)[record["uscc"]] == Decimal("6942")
    bad = {**record, "uscc": make_uscc(2, "130102"), "financials": [{**record["financials"][0], "revenue_wan": "5000千元"}]}
    with engine.begin() as c, pytest.raises(InvalidRecords) as refused:
        create_applications(c, hebei_call, [bad], "system", clock.now())
    (problem,) = refused.value.problems
    assert problem.field == "revenue_wan" and problem.value == "5000千元" and "“千元”" in problem.expected
