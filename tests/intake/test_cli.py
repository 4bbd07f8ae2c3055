"""`srdi import`, `srdi eligibility` and `srdi export` as a clerk runs them."""

from __future__ import annotations

import json

from openpyxl import load_workbook
from typer.testing import CliRunner

from srdi.cli.main import app
from srdi.demo.sample_workbook import write_sample_workbook
from tests.intake.conftest import CALL_YEAR, counts

runner = CliRunner()


def test_the_template_has_the_programme_headers_and_instructions(tmp_path):
    out = tmp_path / "t.xlsx"
    result = runner.invoke(app, ["import", "template", "--programme", "national-little-giant", "--year", "2026",
                                 "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    book = load_workbook(out)
    headers = [c.value for c in book["申报企业"][1]]
    assert headers[:6] == ["企业名称", "统一社会信用代码", "所在市（州）", "区（县）", "企业规模", "所属行业"]
    assert {"2025年营业收入（万元）", "2024年研发经费总额（万元）", "2023年净利润（万元）", "有效发明专利数量（个）",
            "最近一次重大安全、质量、环境污染事故年份"} <= set(headers)
    assert not any("比重" in h or "增长率" in h or "资产负债率" in h for h in headers)   # computed, never asked
    notes = [row[0] for row in book["填写说明"].iter_rows(values_only=True) if row]
    assert any("工信厅企业函〔2021〕79号" in str(row) for row in book["填写说明"].iter_rows(values_only=True))
    assert "企业名称" in notes


def test_an_empty_template_imports_as_nothing_to_do(tmp_path, engine, hebei_call):
    out = tmp_path / "t.xlsx"
    runner.invoke(app, ["import", "template", "--programme", "hebei-provincial-srdi", "--year", "2026", "--out", str(out)])
    result = runner.invoke(app, ["import", "applications", str(out), "--call", hebei_call, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["rows"] == 0


def test_import_explain_and_export_from_the_command_line(tmp_path, engine, hebei_call):
    sample = write_sample_workbook(tmp_path / "s.xlsx", "hebei-provincial-srdi", CALL_YEAR, n=25, seed=41)
    result = runner.invoke(app, ["import", "applications", str(sample.path), "--call", hebei_call, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["created"] == 25 and data["eligibility"]["evaluated"] == 25
    from sqlalchemy import select

    from models.application import Application
    with engine.connect() as c:
        ref = c.execute(select(Application.ref).order_by(Application.ref)).scalars().first()
    shown = runner.invoke(app, ["eligibility", "explain", ref])
    assert shown.exit_code == 0 and "近两年营业收入均达到1000万元以上" in shown.output and "万元" in shown.output
    rerun = runner.invoke(app, ["eligibility", "run", "--call", hebei_call, "--json"])
    assert rerun.exit_code == 0 and json.loads(rerun.stdout)["evaluated"] == 25
    out = tmp_path / "notice.xlsx"
    missing = runner.invoke(app, ["export", "notice", "999", "--out", str(out)])
    assert missing.exit_code != 0


def test_a_bad_workbook_exits_non_zero_and_writes_nothing(tmp_path, engine, hebei_call):
    sample = write_sample_workbook(tmp_path / "s.xlsx", "hebei-provincial-srdi", CALL_YEAR, n=30, seed=42, invalid=3)
    before = counts(engine)
    errors = tmp_path / "errors.xlsx"
    result = runner.invoke(app, ["import", "applications", str(sample.path), "--call", hebei_call, "--errors-out", str(errors)])
    assert result.exit_code == 1
    assert "未写入任何数据" in result.output and counts(engine) == before
    assert errors.exists()
    skipped = runner.invoke(app, ["import", "applications", str(sample.path), "--call", hebei_call, "--skip-invalid", "--json"])
    assert skipped.exit_code == 0 and json.loads(skipped.stdout)["created"] == 27
