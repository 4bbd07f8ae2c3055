"""Large imports in bounded memory (issue 12 item 8): the workbook is streamed and checked chunk by chunk, valid
records are set aside (on disk past a limit), then written chunk by chunk — still all or nothing. Memory itself
is measured by bench/intake.py (--rows 100000); here a few thousand rows go through the streaming path with small
chunks, and the counts must be what the whole-file path gives."""

from __future__ import annotations

import pytest

from srdi.demo.sample_workbook import write_sample_workbook
from tasks.intake import sheet as sheet_module
from tasks.intake import spill as spill_module
from tasks.intake import workbook_check
from tasks.intake.sheet import Percent, open_sheet, read_sheet
from tasks.intake.workbook_import import import_applications
from tasks.intake.xlsx_stream import stream_rows
from tests.intake.conftest import CALL_YEAR, counts

ROWS, INVALID = 2000, 40


@pytest.fixture
def streamed(monkeypatch):
    """Every sheet streamed (not calamine), 700-row chunks, at most 1,000 records in memory before the spill file."""
    monkeypatch.setattr(sheet_module, "STREAM_FROM_BYTES", 0)
    monkeypatch.setattr(workbook_check, "CHUNK_ROWS", 700)
    monkeypatch.setattr(spill_module.RecordSpill.__init__, "__defaults__", (1000,))


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    return write_sample_workbook(tmp_path_factory.mktemp("big") / "big.xlsx", "hebei-provincial-srdi", CALL_YEAR, n=ROWS,
                                 seed=81, invalid=INVALID)


def test_the_streaming_reader_reads_what_calamine_reads(big):
    whole = read_sheet(big.path)
    assert isinstance(whole.rows, list) and len(whole.rows) == ROWS
    from python_calamine import CalamineWorkbook

    cells = CalamineWorkbook.from_path(str(big.path)).get_sheet_by_index(0).to_python(skip_empty_area=False)
    streamed = list(stream_rows(big.path, 0))
    assert [number for number, _ in streamed] == list(range(1, len(cells) + 1))
    for (_, values), expected in zip(streamed, cells):
        assert values + [None] * (len(expected) - len(values)) == [None if v == "" else v for v in expected]


def test_percent_formatted_cells_are_read_as_percentages_on_both_paths(tmp_path, monkeypatch):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["企业名称", "统一社会信用代码"])
    sheet.append(["甲", 0.125])
    sheet["B2"].number_format = "0.0%"
    book.save(tmp_path / "p.xlsx")
    calamine = read_sheet(tmp_path / "p.xlsx").rows[0][1][1]
    monkeypatch.setattr(sheet_module, "STREAM_FROM_BYTES", 0)
    streamed = read_sheet(tmp_path / "p.xlsx").rows[0][1][1]
    assert isinstance(calamine, Percent) and isinstance(streamed, Percent) and calamine == streamed == 0.125


def test_a_streamed_import_with_skip_invalid_writes_the_good_rows_once(big, tmp_path, engine, hebei_call, streamed):
    assert isinstance(open_sheet(big.path).rows, sheet_module.DataRows)
    before = counts(engine)
    outcome = import_applications(big.path, hebei_call, skip_invalid=True, errors_out=tmp_path / "errors.xlsx")
    assert outcome.rows == ROWS and outcome.rejected == INVALID == len(big.invalid)
    assert {p.row for p in outcome.problems} == set(big.invalid)
    assert outcome.written and outcome.created == ROWS - INVALID == len(outcome.application_ids)
    assert outcome.eligibility.evaluated == ROWS - INVALID
    after = counts(engine)
    assert after["Application"] - before["Application"] == ROWS - INVALID
    assert after["Enterprise"] - before["Enterprise"] == ROWS - INVALID
    rejected = read_sheet(tmp_path / "errors.xlsx")
    assert sorted(values[-2] for _, values in rejected.rows) == sorted(big.invalid)
    again = import_applications(big.path, hebei_call, skip_invalid=True)
    assert again.created == 0 and again.unchanged == ROWS - INVALID and counts(engine) == after


def test_a_streamed_import_stays_all_or_nothing(big, engine, hebei_call, streamed):
    before = counts(engine)
    outcome = import_applications(big.path, hebei_call)
    assert not outcome.written and outcome.created == 0 and counts(engine) == before
    assert {p.row for p in outcome.problems} == set(big.invalid)


def test_a_credit_code_repeated_in_distant_chunks_refuses_both_rows(tmp_path, engine, hebei_call, streamed):
    sample = write_sample_workbook(tmp_path / "dup.xlsx", "hebei-provincial-srdi", CALL_YEAR, n=1600, seed=82)
    from openpyxl import load_workbook

    book = load_workbook(sample.path)
    sheet = book.active
    column = [c.value for c in sheet[1]].index("统一社会信用代码") + 1
    sheet.cell(row=1500, column=column, value=sheet.cell(row=3, column=column).value)
    book.save(sample.path)
    outcome = import_applications(sample.path, hebei_call, skip_invalid=True)
    assert {p.row for p in outcome.problems} == {3, 1500} and "在本文件中重复出现（第3、1500行）" in outcome.problems[0].expected
    assert outcome.created == 1598
