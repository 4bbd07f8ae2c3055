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


@pytest.mark.parametrize("programme", ["hebei-provincial-srdi", "national-little-giant", "qinghai-provincial-srdi"])
def test_met_verdicts_rendered_when_read_are_what_the_engine_would_have_stored(tmp_path, engine, clock, programme, monkeypatch):
    """Met criteria and bands are stored as a node id beside the inputs; read back, every verdict (figures and
    sentence) is the one a run describing every verdict stores."""
    from tasks.eligibility import engine as engine_module
    from tasks.eligibility.engine import run_eligibility
    from tasks.eligibility.rules import INPUTS
    from tests.intake.conftest import open_test_call

    call = open_test_call(engine, programme)
    sample = write_sample_workbook(tmp_path / "s.xlsx", programme, CALL_YEAR, n=80, seed=34)
    ids = import_applications(sample.path, call).application_ids
    with engine.connect() as c:
        overall = c.execute(select(EligibilityVerdict.figures).where(EligibilityVerdict.node_id == "overall")).scalars().all()
        lazy = [explain(c, str(app_id)) for app_id in ids]
    assert all(any(isinstance(entry, str) for entry in f[MET]) and INPUTS in f for f in overall)

    evaluate = engine_module.evaluate
    monkeypatch.setattr(engine_module, "evaluate", lambda *args, **kwargs: evaluate(*args[:3], describe_met=True))
    with engine.begin() as c:
        run_eligibility(c, call, ids, now=clock.now())
    with engine.connect() as c:
        overall = c.execute(select(EligibilityVerdict.figures).where(EligibilityVerdict.node_id == "overall")).scalars().all()
        eager = [explain(c, str(app_id)) for app_id in ids]
    assert all(not any(isinstance(entry, str) for entry in figures[MET]) and INPUTS not in figures for figures in overall)
    for before, after in zip(lazy, eager):
        for line in before["verdicts"] + after["verdicts"]:
            line["figures"].pop("evaluated_at", None)
        assert before == after
    assert sum(line["passed"] is True and line["kind"] in ("criterion", "bands") for s in lazy for line in s["verdicts"]) > 80
