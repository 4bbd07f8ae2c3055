"""Every export: columns fitted to their content (a Chinese character counts two), the header frozen, titles from data."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from models.clock import SHANGHAI
from models.funding import FundTranche
from models.funding_plan import ImplementationPlan
from srdi.demo.sample_workbook import write_sample_workbook
from tasks.funding.allocation_workbook import HEADER, write_allocation_workbook
from tasks.intake.error_workbook import write_error_workbook
from tasks.intake.problem import Problem
from tasks.intake.sheet import Sheet
from tasks.intake.template import write_template
from tasks.intake.workbook_import import import_applications
from tasks.reference.programmes import get_profile
from tasks.reports.sheet_format import batch_words, chinese_number, column_widths, text_width
from tasks.reports.summary_tables import recommendation_summary, sichuan_annex5, sichuan_annex7
from tests.intake.conftest import open_test_call


def width(sheet, letter: str) -> float:
    return sheet.column_dimensions[letter].width


def test_a_chinese_character_counts_two_and_titles_and_notes_do_not_widen_a_column():
    assert text_width("企业名称") == 8 and text_width("ABC1") == 4 and text_width("第一行\n更长的第二行") == 12
    widths = column_widths([["一个很长很长很长很长很长很长的标题"], ["序号", "企业名称"], [1, "石家庄长安精密机械有限公司"]])
    assert widths == [6.0, 28.0]
    assert column_widths([["x" * 300, "y"]]) == [50.0, 6.0]            # capped
    assert [chinese_number(n) for n in (1, 3, 10, 12, 20, 31)] == ["一", "三", "十", "十二", "二十", "三十一"]
    assert batch_words(2021, 2) == "第二批" and batch_words(2026, None) == "2026年"


def test_the_recommendation_summary_is_titled_with_the_call_batch_and_year(tmp_path, engine, clock):
    clock.set(datetime(2021, 4, 28, 9, 0, tzinfo=SHANGHAI))
    call = open_test_call(engine, "national-little-giant", 2021, batch=3)
    sample = write_sample_workbook(tmp_path / "n.xlsx", "national-little-giant", 2021, n=12, seed=32)
    import_applications(sample.path, call)
    with engine.connect() as c:
        result = recommendation_summary(c, call, "130000", tmp_path / "annex3.xlsx", scope="all")
        undated = recommendation_summary(c, open_test_call(engine, "national-little-giant", 2021), "130000",
                                         tmp_path / "plain.xlsx", scope="all")
    book = load_workbook(result.path)
    sheet = book.active
    assert sheet["A1"].value == "2021年推荐第三批专精特新“小巨人”企业汇总表" == book.properties.title
    assert load_workbook(undated.path).active["A1"].value == "2021年推荐专精特新“小巨人”企业汇总表"
    assert sheet.freeze_panes == "A4"                                   # title, 盖章 line and header stay in view
    names = [row[1] for row in sheet.iter_rows(min_row=4, values_only=True) if isinstance(row[0], int)]
    assert names and width(sheet, "B") == min(50, max(text_width(n) for n in names + ["企业名称"]) + 2)
    assert width(sheet, "A") < 10                                      # 序号, not the long title above it


def test_the_sichuan_annexes_take_their_batch_from_the_call(tmp_path, engine, clock):
    call = open_test_call(engine, "sichuan-key-little-giant-batch2", 2021, batch=2)
    sample = write_sample_workbook(tmp_path / "sc.xlsx", "sichuan-key-little-giant-batch2", 2021, n=5, seed=31)
    import_applications(sample.path, call)
    with engine.connect() as c:
        result = sichuan_annex5(c, call, "510100", tmp_path / "annex5.xlsx", scope="all")
    sheet = load_workbook(result.path).active
    assert sheet["A1"].value == "成都市第二批重点“小巨人”企业名单汇总表" and sheet.freeze_panes == "A4"
    assert width(sheet, "B") >= text_width("企业名称（须与工业和信息化部公布的名称一致）") or width(sheet, "B") == 50


def test_the_error_workbook_is_fitted_and_frozen(tmp_path):
    sheet = Sheet(tmp_path / "in.xlsx", "申报企业", 1, ["企业名称", "统一社会信用代码"],
                  [(2, ["石家庄长安精密机械有限公司", "91130102MA00000011"])])
    path = write_error_workbook(tmp_path / "errors.xlsx", sheet,
                                [Problem(2, "uscc", "91130102MA00000011", "18位统一社会信用代码，校验位错误")])
    book = load_workbook(path)
    rejected, details = book["被拒绝的行"], book["问题明细"]
    assert rejected.freeze_panes == "A2" and details.freeze_panes == "A2"
    assert width(rejected, "A") == text_width("石家庄长安精密机械有限公司") + 2
    assert width(details, "D") == text_width("18位统一社会信用代码，校验位错误") + 2


def test_the_intake_template_keeps_name_and_code_in_view_and_fits_its_headers(tmp_path):
    path = write_template(tmp_path / "template.xlsx", get_profile("hebei-provincial-srdi"), 2026)
    book = load_workbook(path)
    sheet, notes = book["申报企业"], book["填写说明"]
    assert sheet.freeze_panes == "C2" and width(sheet, "A") >= 32
    assert width(sheet, "B") == text_width(sheet["B1"].value) + 2             # 统一社会信用代码
    header_row = next(r for r in range(1, notes.max_row + 1) if notes.cell(r, 1).value == "列名")
    assert notes.freeze_panes == f"A{header_row + 1}" and width(notes, "B") < 10   # 必填, not the 说明 text
    assert "2026年申报数据导入模板" in book.properties.title


def test_the_allocation_workbook_is_fitted_frozen_and_titled_by_its_plan(tmp_path, engine):
    plan = ImplementationPlan(id=1, profile_id="key-little-giant-funding", province_code="110000", batch=2,
                              title="北京市第二批支持专精特新“小巨人”企业工作实施方案")
    tranche = FundTranche(id=999, plan_id=1, tranche_index=1, label="批复当年", years_after_approval=0,
                          share_pct=Decimal("40"), requires_review=False, scheduled_on=date(2021, 8, 1))
    with engine.connect() as c:
        path = write_allocation_workbook(c, plan, tranche, [("北京某某科技有限公司", "上年度绩效考核不合格，停止拨付")],
                                         Path(tmp_path))
    book = load_workbook(path)
    sheet = book["分配方案"]
    assert sheet["A1"].value.startswith("北京市第二批") and book.properties.title == sheet["A1"].value
    assert sheet.freeze_panes == "A4" and [c.value for c in sheet[3]] == HEADER
    assert width(sheet, "J") == text_width("本笔分配金额（万元）") + 2
    assert book["未列入本笔"].freeze_panes == "A2" and width(book["未列入本笔"], "B") == text_width("上年度绩效考核不合格，停止拨付") + 2


def test_a_form_of_another_programme_is_refused_naming_the_form_and_the_call_programme(tmp_path, engine, clock, capsys):
    from models.errors import RuleViolation
    from srdi.cli.main import main

    hebei = open_test_call(engine, "hebei-provincial-srdi")
    for make, form in ((lambda c: sichuan_annex7(c, hebei, "130100", tmp_path / "a7.xlsx"), "四川 附件7 企业情况汇总表"),
                       (lambda c: recommendation_summary(c, hebei, "130000", tmp_path / "a3.xlsx"), "79号 附件3 推荐汇总表")):
        with engine.connect() as c, pytest.raises(RuleViolation) as refused:
            make(c)
        assert form in str(refused.value) and "河北省\"专精特新\"中小企业认定" in str(refused.value)
    assert not (tmp_path / "a7.xlsx").exists()
    code = main(["export", "annex7", "--call", hebei, "--city", "130100", "--out", str(tmp_path / "x.xlsx")])
    assert code == 1 and "错误：四川 附件7 企业情况汇总表不适用于批次" in capsys.readouterr().err
