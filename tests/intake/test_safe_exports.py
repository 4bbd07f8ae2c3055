"""Formula-safe Excel exports (公式注入防护, issue 12 item 6): text starting with = + - @ tab or CR is written as
text, never as a formula, in every export; numbers stay numbers. Checked by reading the files back with openpyxl."""

from __future__ import annotations

from io import BytesIO

from openpyxl import Workbook, load_workbook
from sqlalchemy import update
from typer.testing import CliRunner

from models import Enterprise
from srdi.cli.main import app
from srdi.demo.sample_workbook import write_sample_workbook
from tasks.intake.workbook_import import import_applications
from tasks.reports.safe_cells import append_row, as_text
from tests.intake.conftest import CALL_YEAR
from tests.web.conftest import client, console, login, password_hash, world  # noqa: F401 - fixtures

FORMULA = '=HYPERLINK("http://x","y")'


def _cells(book, text):
    return [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row if cell.value == text]


def test_the_helper_writes_risky_text_as_text_in_normal_and_write_only_workbooks(tmp_path):
    risky = [FORMULA, "+86 311", "-负数说明", "@SUM(A1)", "\t制表", "=1+2"]
    for write_only in (True, False):
        book = Workbook(write_only=write_only)
        sheet = book.create_sheet("s") if write_only else book.active
        append_row(sheet, ["标题", 1])
        append_row(sheet, [*risky, -5, -0.5, 3, None, "普通文字"])
        path = tmp_path / f"safe-{write_only}.xlsx"
        book.save(path)
        row = list(load_workbook(path).worksheets[0].iter_rows(min_row=2, values_only=False))[0]
        assert [(c.value, c.data_type) for c in row[:6]] == [(text, "s") for text in risky]
        assert all(c.quotePrefix for c in row[:6])
        assert [(c.value, c.data_type) for c in row[6:9]] == [(-5, "n"), (-0.5, "n"), (3, "n")]
        assert row[-1].value == "普通文字" and not row[-1].quotePrefix


def test_an_enterprise_named_like_a_formula_is_text_in_applications_xlsx(client, world, engine):  # noqa: F811
    with engine.begin() as c:
        c.execute(update(Enterprise).where(Enterprise.uscc == world.uscc["桥西工业软件有限公司"]).values(name=FORMULA))
    login(client, "hebei")
    answer = client.get("/applications.xlsx")
    assert answer.status_code == 200
    book = load_workbook(BytesIO(answer.content))
    (cell,) = _cells(book, FORMULA)
    assert cell.data_type == "s" and cell.value == FORMULA
    assert not [c for s in book.worksheets for r in s.iter_rows() for c in r if c.data_type == "f"]
    assert any(c.data_type == "n" for s in book.worksheets for r in s.iter_rows() for c in r)   # counts stay numbers


def test_the_cli_export_and_the_error_workbook_write_it_as_text(tmp_path, engine, hebei_call, national_call):
    sample = write_sample_workbook(tmp_path / "s.xlsx", "hebei-provincial-srdi", CALL_YEAR, n=3, seed=71)
    book = load_workbook(sample.path)
    sheet = book.active
    headers = [c.value for c in sheet[1]]
    for row, header, text in ((2, "企业名称", FORMULA), (3, "企业名称", "-坏行"), (3, "企业规模", "=巨型")):
        as_text(sheet.cell(row=row, column=headers.index(header) + 1, value=text))   # typed as text by the applicant
    book.save(sample.path)
    errors = tmp_path / "errors.xlsx"
    outcome = import_applications(sample.path, hebei_call, skip_invalid=True, errors_out=errors)
    assert outcome.created == 2 and outcome.rejected == 1
    rejected = load_workbook(errors)
    for text in ("-坏行", "=巨型"):
        assert [(c.data_type, c.value) for c in _cells(rejected, text)] and all(c.data_type == "s" for c in _cells(rejected, text))
    out = tmp_path / "annex3.xlsx"      # 附件3 is a form of the national programme: the same enterprises applying there
    assert import_applications(sample.path, national_call, skip_invalid=True).created >= 1
    result = CliRunner().invoke(app, ["export", "recommendation", "--call", national_call, "--province", "130000", "--scope", "all",
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    exported = load_workbook(out)
    (cell,) = _cells(exported, FORMULA)
    assert cell.data_type == "s" and cell.value == FORMULA
    assert not [c for s in exported.worksheets for r in s.iter_rows() for c in r if c.data_type == "f"]
