"""The eligibility engine over a stored call: verdict rows, idempotent re-runs, explanations."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from models.application import Application
from models.eligibility import EligibilityVerdict
from srdi.demo.sample_workbook import write_sample_workbook
from tasks.eligibility.engine import explain, run_eligibility
from tasks.intake.workbook_import import import_applications
from tests.intake.conftest import CALL_YEAR


def _verdicts(engine) -> set[tuple]:
    table = EligibilityVerdict.__table__
    with engine.connect() as c:
        return {(r.application_id, r.node_id, r.passed, r.waived, r.message) for r in c.execute(select(table))}


def test_a_rerun_leaves_exactly_the_same_verdicts(tmp_path, engine, hebei_call):
    sample = write_sample_workbook(tmp_path / "a.xlsx", "hebei-provincial-srdi", CALL_YEAR, n=80, seed=21)
    import_applications(sample.path, hebei_call)
    first = _verdicts(engine)
    with engine.begin() as c:
        summary = run_eligibility(c, hebei_call)
    assert _verdicts(engine) == first
    assert summary.evaluated == 80 and summary.eligible + summary.ineligible + summary.undetermined == 80
    assert 0 < summary.eligible < 80          # the sample mixes passing and failing enterprises
    with engine.connect() as c:
        judged = c.execute(select(Application.eligible)).scalars().all()
    assert None not in judged and judged.count(True) == summary.eligible


def test_changed_data_changes_the_verdict_on_the_next_run(tmp_path, engine, hebei_call):
    sample = write_sample_workbook(tmp_path / "a.xlsx", "hebei-provincial-srdi", CALL_YEAR, n=30, seed=22)
    import_applications(sample.path, hebei_call)
    with engine.connect() as c:
        app_id = c.execute(select(Application.id).where(Application.eligible.is_(True))).scalars().first()
    with engine.begin() as c:
        facts = c.execute(select(Application.facts).where(Application.id == app_id)).scalar()
        c.execute(update(Application).where(Application.id == app_id).values(facts={**facts, "false_information": True}))
        run_eligibility(c, hebei_call)
        story = explain(c, str(app_id))
    assert story["eligible"] is False
    assert story["verdicts"][0]["message"].startswith("不得申报：在申请过程中提供虚假信息")


@pytest.mark.postgres
def test_explain_lists_every_rule_with_the_figures_it_used(tmp_path, engine, national_call):
    sample = write_sample_workbook(tmp_path / "n.xlsx", "national-little-giant", CALL_YEAR, n=40, seed=23)
    outcome = import_applications(sample.path, national_call)
    with engine.connect() as c:
        categories = c.execute(select(Application.category)).scalars().all()
        story = explain(c, str(outcome.application_ids[0]))
    assert set(categories) <= {"a", "b", "c", None} and len(set(categories) - {None}) >= 2
    ids = [line["node_id"] for line in story["verdicts"]]
    assert ids[0] == "overall" and "debt-ratio" in ids and "class" in ids and "exclusion:major-accident" in ids
    debt = next(line for line in story["verdicts"] if line["node_id"] == "debt-ratio")
    assert debt["message"].startswith(f"上年（{CALL_YEAR - 1}年）资产负债率 ")
    assert set(debt["figures"]["years"][str(CALL_YEAR - 1)]) == {"total_assets_wan", "total_liabilities_wan"}
    assert "79号" in debt["cite"]
    depth = {line["node_id"]: line["depth"] for line in story["verdicts"]}
    assert depth["lg"] == 1 and depth["basic"] == 2 and depth["basic-years"] == 3
