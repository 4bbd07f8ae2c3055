"""Importing application workbooks: precise errors, all-or-nothing, --skip-invalid, idempotence."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from srdi.demo.sample_workbook import write_sample_workbook
from tasks.intake.workbook_import import import_applications
from tests.intake.conftest import CALL_YEAR, counts

# What a clerk must read for each kind of broken row (rule → (column header, words in the message)).
EXPECTED = {
    "bad_check_char": ("统一社会信用代码", "校验位错误"),
    "main_over_revenue": ("2025年主营业务收入（万元）", "主营业务收入不应大于同年营业收入"),
    "negative_assets": ("2025年资产总额（万元）", "不能为负数"),
    "county_outside_city": ("区（县）", "不在所填的"),
    "duplicate_in_file": ("统一社会信用代码", "在本文件中重复出现"),
    "already_in_call": ("统一社会信用代码", "已在本批次申报"),
    "unreadable_number": ("2025年营业收入（万元）", "应为数字"),
    "missing_name": ("企业名称", "必填"),
    "bad_size": ("企业规模", "应为“中型”“小型”或“微型”"),
    "unknown_city": ("所在市（州）", "不是河北省的市（州）"),
    "rd_staff_over_employees": ("2025年研发人员数（人）", "研发人员数不应大于同年从业人数"),
}


def _thousand_with_37_bad(tmp_path: Path, engine, call_id: str):
    """Twenty enterprises already in the call, then a workbook of 1,000 rows of which 37 are bad."""
    first = write_sample_workbook(tmp_path / "first.xlsx", "hebei-provincial-srdi", CALL_YEAR, n=20, seed=11)
    assert import_applications(first.path, call_id).created == 20
    big = write_sample_workbook(tmp_path / "big.xlsx", "hebei-provincial-srdi", CALL_YEAR, n=1000, seed=12,
                                invalid=37, in_call_usccs=first.usccs)
    assert len(big.invalid) == 37 and set(big.invalid.values()) == set(EXPECTED)
    return big


def test_37_bad_rows_give_37_precise_errors_and_nothing_is_written(tmp_path, engine, hebei_call):
    big = _thousand_with_37_bad(tmp_path, engine, hebei_call)
    before = counts(engine)
    outcome = import_applications(big.path, hebei_call)
    assert not outcome.written and outcome.created == 0
    assert counts(engine) == before
    assert len(outcome.problems) == 37
    assert {p.row for p in outcome.problems} == set(big.invalid)
    for problem in outcome.problems:
        column, words = EXPECTED[big.invalid[problem.row]]
        assert problem.column == column, str(problem)
        assert words in problem.expected, str(problem)
        assert problem.value and str(problem).startswith(f"第{problem.row}行「{column}」")


@pytest.mark.postgres
def test_skip_invalid_writes_the_963_good_rows_and_an_error_workbook_of_37(tmp_path, engine, hebei_call):
    big = _thousand_with_37_bad(tmp_path, engine, hebei_call)
    before = counts(engine)
    errors = tmp_path / "errors.xlsx"
    outcome = import_applications(big.path, hebei_call, skip_invalid=True, errors_out=errors)
    after = counts(engine)
    assert outcome.written and outcome.created == 963 and outcome.rejected == 37
    assert after["Application"] - before["Application"] == 963
    assert after["Transition"] - before["Transition"] == 963          # one submit each
    assert outcome.eligibility.evaluated == 963
    sheet = load_workbook(errors, read_only=True)["被拒绝的行"]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(rows) == 37
    header = next(sheet.iter_rows(max_row=1, values_only=True))
    assert header[-2:] == ("原行号", "错误原因")
    assert {r[-2] for r in rows} == set(big.invalid)
    assert all(r[-1] for r in rows)


@pytest.mark.postgres
def test_importing_the_same_file_twice_creates_nothing_new(tmp_path, engine, hebei_call):
    sample = write_sample_workbook(tmp_path / "a.xlsx", "hebei-provincial-srdi", CALL_YEAR, n=60, seed=3)
    first = import_applications(sample.path, hebei_call)
    assert first.created == 60
    before = counts(engine)
    again = import_applications(sample.path, hebei_call)
    assert again.problems == [] and again.created == 0 and again.unchanged == 60
    assert counts(engine) == before


def test_a_changed_row_for_an_enterprise_already_in_the_call_is_refused_with_the_difference(tmp_path, engine, hebei_call):
    sample = write_sample_workbook(tmp_path / "a.xlsx", "hebei-provincial-srdi", CALL_YEAR, n=5, seed=4)
    import_applications(sample.path, hebei_call)
    book = load_workbook(sample.path)
    sheet = book.active
    headers = [c.value for c in sheet[1]]
    sheet.cell(row=3, column=headers.index("2025年营业收入（万元）") + 1, value=987654)
    book.save(tmp_path / "b.xlsx")
    outcome = import_applications(tmp_path / "b.xlsx", hebei_call)
    assert [p.row for p in outcome.problems] == [3]
    assert "已在本批次申报" in outcome.problems[0].expected and "本文件“987654”" in outcome.problems[0].expected


def _write(path: Path, headers: list, rows: list[list]) -> Path:
    book = Workbook()
    sheet = book.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


HEADERS = ["企业名称", "统一社会信用代码", "所在市（州）", "区（县）", "企业规模", "所属行业",
           "2025年营业收入（万元）", "2025年主营业务收入（万元）", "主导产品销售收入占营业收入比重（%）"]
GOOD = "91110000600037341L"


def test_what_clerks_really_type_is_accepted(tmp_path, engine, hebei_call):
    path = _write(tmp_path / "typed.xlsx", HEADERS, [
        ["  保定某某电气有限公司 ", " 91110000600037341l", "保定", "竞秀区", "小型 ", "38电气机械和器材制造业",
         "１２,３４５.５", "12,000", "65.5%"],
    ])
    outcome = import_applications(path, hebei_call)
    assert outcome.problems == [] and outcome.created == 1
    from sqlalchemy import select

    from models.application import Application
    from models.enterprise import Enterprise, EnterpriseFinancialYear
    with engine.connect() as c:
        enterprise = c.execute(select(Enterprise)).one()
        year = c.execute(select(EnterpriseFinancialYear)).one()
        facts = c.execute(select(Application.facts)).scalar()
    assert (enterprise.name, enterprise.uscc, enterprise.industry_code) == ("保定某某电气有限公司", GOOD, "C38")
    assert enterprise.jurisdiction_code == "130602"  # 竞秀区 of 保定市
    assert (year.fiscal_year, str(year.revenue_wan), str(year.main_business_revenue_wan)) == (2025, "12345.5000", "12000.0000")
    assert facts["main_product_sales_share_pct"] == 65.5


def test_a_percent_formatted_excel_cell_is_read_in_percentage_points(tmp_path, engine, hebei_call):
    path = _write(tmp_path / "pct.xlsx", HEADERS, [
        ["保定某某电气有限公司", GOOD, "保定市", "竞秀区", "小型", "C38", 12000, 11000, 0.655],
    ])
    book = load_workbook(path)
    book.active["I2"].number_format = "0.0%"
    book.save(path)
    outcome = import_applications(path, hebei_call)
    assert outcome.created == 1
    from sqlalchemy import select

    from models.application import Application
    with engine.connect() as c:
        assert c.execute(select(Application.facts)).scalar()["main_product_sales_share_pct"] == 65.5


def test_a_gbk_csv_from_excel_imports_like_the_workbook(tmp_path, engine, hebei_call):
    path = tmp_path / "list.csv"
    lines = [",".join(HEADERS), f"保定某某电气有限公司,{GOOD},保定市,竞秀区,小型,C38,\"12,000\",11000,60%"]
    path.write_bytes("\r\n".join(lines).encode("gb18030"))
    outcome = import_applications(path, hebei_call)
    assert outcome.problems == [] and outcome.created == 1


def test_an_unknown_or_missing_column_is_refused_for_the_whole_file(tmp_path, engine, hebei_call):
    path = _write(tmp_path / "bad.xlsx", ["企业名称", "统一社会信用代码", "所在市（州）", "区（县）", "企业规模", "所属行业",
                                          "2025年营收", "2025年主营业务收入（万元）"],
                  [["保定某某电气有限公司", GOOD, "保定市", "竞秀区", "小型", "C38", 1, 1]])
    before = counts(engine)
    outcome = import_applications(path, hebei_call, skip_invalid=True)
    assert not outcome.written and counts(engine) == before
    messages = [str(p) for p in outcome.problems]
    assert any("「2025年营收」" in m and "无法识别的列标题" in m for m in messages)
    assert any("2025年营业收入（万元）" in m and "缺少上年（2025年）数据列" in m for m in messages)


def test_ratios_typed_into_the_workbook_are_ignored_and_computed_instead(tmp_path, engine, hebei_call):
    path = _write(tmp_path / "ratio.xlsx", HEADERS[:8] + ["2025年主营业务收入占营业收入比重（%）"],
                  [["保定某某电气有限公司", GOOD, "保定市", "竞秀区", "小型", "C38", 10000, 6000, "95%"]])
    outcome = import_applications(path, hebei_call)
    assert outcome.created == 1
    from sqlalchemy import select

    from models.application import Application
    with engine.connect() as c:
        facts = c.execute(select(Application.facts)).scalar()
    assert "main_business_share_pct" not in facts


def test_a_county_of_chongqing_is_found_under_either_of_its_two_city_level_nodes(tmp_path, engine, clock):
    from tests.intake.conftest import open_test_call

    call = open_test_call(engine, "national-little-giant")
    path = _write(tmp_path / "cq.xlsx", HEADERS[:8], [["重庆某某机械有限公司", GOOD, "重庆市", "忠县", "小型", "C34", 9000, 8000]])
    outcome = import_applications(path, call)
    assert outcome.problems == [] and outcome.created == 1
    from sqlalchemy import select

    from models.application import Application
    with engine.connect() as c:
        assert c.execute(select(Application.jurisdiction_code)).scalar() == "500233"


def test_the_error_workbook_can_be_corrected_and_imported_again(tmp_path, engine, hebei_call):
    sample = write_sample_workbook(tmp_path / "s.xlsx", "hebei-provincial-srdi", CALL_YEAR, n=40, seed=61, invalid=2)
    errors = tmp_path / "errors.xlsx"
    first = import_applications(sample.path, hebei_call, skip_invalid=True, errors_out=errors)
    assert first.created == 38 and first.rejected == 2
    book = load_workbook(errors)
    sheet = book["被拒绝的行"]
    headers = [c.value for c in sheet[1]]
    uscc_col = headers.index("统一社会信用代码") + 1
    from stdnum.cn import uscc as stdnum_uscc
    for row in range(2, sheet.max_row + 1):
        if "校验位错误" in sheet.cell(row=row, column=len(headers)).value:
            body = sheet.cell(row=row, column=uscc_col).value[:17]
            sheet.cell(row=row, column=uscc_col, value=body + stdnum_uscc.calc_check_digit(body))
        else:  # 主营业务收入 above 营业收入: the clerk types the audited figure
            column = headers.index("2025年主营业务收入（万元）") + 1
            sheet.cell(row=row, column=column, value=1)
    book.save(errors)
    second = import_applications(errors, hebei_call)
    assert second.problems == [] and second.created == 2


def test_a_ban_only_the_database_knows_refuses_the_row_in_the_files_own_column(tmp_path, engine, hebei_call):
    from datetime import date

    from models.enterprise import Enterprise
    from models.enums import EnterpriseSize
    with engine.begin() as c:
        c.execute(Enterprise.__table__.insert().values(uscc=GOOD, name="保定某某电气有限公司", size=EnterpriseSize.small,
                                                       industry_code="C38", jurisdiction_code="130602",
                                                       banned_until=date(2028, 5, 1), ban_reason="提供虚假材料"))
    path = _write(tmp_path / "banned.xlsx", HEADERS[:8], [["保定某某电气有限公司", GOOD, "保定市", "竞秀区", "小型", "C38", 9000, 8000]])
    outcome = import_applications(path, hebei_call, skip_invalid=True)
    assert outcome.created == 0 and [str(p) for p in outcome.problems] == [
        f"第2行「统一社会信用代码」“{GOOD}”：该企业被禁止申报至 2028-05-01（提供虚假材料）"]


def test_a_row_with_figures_of_another_year_needs_that_years_revenues_and_a_name_fits_its_column(tmp_path, engine, hebei_call):
    headers = HEADERS[:8] + ["2024年研发经费总额（万元）"]
    path = _write(tmp_path / "years.xlsx", headers, [
        ["保定某某电气有限公司", GOOD, "保定市", "竞秀区", "小型", "C38", 9000, 8000, 300],
        ["保定" + "某" * 130 + "有限公司", "91130100MA07XYZ00A", "保定市", "竞秀区", "小型", "C38", 9000, 8000, None],
    ])
    outcome = import_applications(path, hebei_call)
    assert not outcome.written
    found = {(p.row, p.column, p.expected) for p in outcome.problems}
    assert (2, "2024年营业收入（万元）", "必填（已填写2024年的其他数据）") in found
    assert (2, "2024年主营业务收入（万元）", "必填（已填写2024年的其他数据）") in found
    assert (3, "企业名称", "必填，不超过128个字") in found
