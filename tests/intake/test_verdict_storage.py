"""Eligibility verdicts stored compactly: the met ones inside the overall row, the others as rows; read back whole."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from models.application import Application
from models.eligibility import EligibilityVerdict
from srdi.demo.sample_workbook import write_sample_workbook
from tasks.eligibility.engine import explain
from tasks.eligibility.rules import Row
from tasks.eligibility.verdicts import MET, read_verdicts, replace_verdicts, stored_rows
from tasks.intake.workbook_import import import_applications
from tests.intake.conftest import CALL_YEAR

pytestmark = pytest.mark.postgres


def test_only_the_overall_row_and_the_verdicts_not_met_are_rows(tmp_path, engine, hebei_call):
    sample = write_sample_workbook(tmp_path / "h.xlsx", "hebei-provincial-srdi", CALL_YEAR, n=60, seed=31)
    import_applications(sample.path, hebei_call)
    table = EligibilityVerdict.__table__
    with engine.connect() as c:
        rows = c.execute(select(table)).all()
        ids = c.execute(select(Application.id)).scalars().all()
        every = {app_id: read_verdicts(c, app_id) for app_id in ids}
    assert sorted(r.application_id for r in rows if r.node_id == "overall") == sorted(ids)
    assert all(r.passed is not True for r in rows if r.node_id != "overall")
    assert len(rows) < 10 * len(ids)              # ~25 verdicts per application, most of them met
    nodes = {frozenset(verdicts) for verdicts in every.values()}
    assert len(nodes) == 1 and len(next(iter(nodes))) > 20     # every application: every node, met or not
    for verdicts in every.values():
        assert MET not in verdicts["overall"].figures
        assert all(v.message for v in verdicts.values())
        assert any(v.passed is True and v.node_id != "overall" for v in verdicts.values())


def test_explain_shows_met_and_unmet_verdicts_with_their_figures(tmp_path, engine, hebei_call):
    sample = write_sample_workbook(tmp_path / "h.xlsx", "hebei-provincial-srdi", CALL_YEAR, n=30, seed=32)
    outcome = import_applications(sample.path, hebei_call)
    with engine.connect() as c:
        stories = [explain(c, str(app_id)) for app_id in outcome.application_ids]
    lines = [line for story in stories for line in story["verdicts"] if line["kind"] == "criterion"]
    assert {line["passed"] for line in lines} >= {True, False}
    met = [line for line in lines if line["passed"] and line["figures"].get("years")]
    assert met and all(line["message"] and "threshold" in line["figures"] for line in met)
    assert all(MET not in story["verdicts"][0]["figures"] for story in stories)


def test_bonus_points_read_back_as_stored(tmp_path, engine, hebei_call):
    sample = write_sample_workbook(tmp_path / "h.xlsx", "hebei-provincial-srdi", CALL_YEAR, n=2, seed=33)
    app_id = import_applications(sample.path, hebei_call).application_ids[0]
    rows = [Row("overall", "overall", True, figures={"category": None}, message="符合申报条件"),
            Row("bonus:a", "bonus", True, points=Decimal(1), message="加1分"),
            Row("bonus:b", "bonus", False, points=Decimal(0), message="不加分"),
            Row("bonus:c", "bonus", None, points=Decimal("0.5"), message="无法判断，暂不加分")]
    with engine.begin() as c:
        replace_verdicts(c, hebei_call, [app_id], stored_rows(app_id, rows))
    with engine.connect() as c:
        stored = read_verdicts(c, app_id)
    assert {key: (v.passed, v.points) for key, v in stored.items() if v.kind == "bonus"} == {
        "bonus:a": (True, Decimal("1.00")), "bonus:b": (False, Decimal("0.00")), "bonus:c": (None, Decimal("0.50"))}
