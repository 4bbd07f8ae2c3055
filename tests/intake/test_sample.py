"""The generated workbook the demo imports: valid, spread over the province, a mix of verdicts."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select
from stdnum.cn import uscc

from models.application import Application
from models.clock import SHANGHAI
from models.jurisdiction import Jurisdiction
from srdi.demo.sample_workbook import write_sample_workbook
from tasks.intake.workbook_import import import_applications
from tests.intake.conftest import CALL_YEAR, open_test_call

PROFILES = ["national-little-giant", "key-little-giant-funding", "sichuan-key-little-giant-batch2",
            "hebei-provincial-srdi", "beijing-provincial-srdi", "qinghai-provincial-srdi"]


def test_the_hebei_sample_spreads_over_cities_and_counties_with_a_mix_of_verdicts(tmp_path, engine, hebei_call):
    sample = write_sample_workbook(tmp_path / "hb.xlsx", "hebei-provincial-srdi", CALL_YEAR, n=200, seed=51)
    assert all(uscc.is_valid(code) for code in sample.usccs) and len(set(sample.usccs)) == 200
    outcome = import_applications(sample.path, hebei_call)
    assert outcome.problems == [] and outcome.created == 200
    with engine.connect() as c:
        counties = c.execute(select(func.count(func.distinct(Application.jurisdiction_code)))).scalar()
        cities = c.execute(select(func.count(func.distinct(Jurisdiction.parent_code))).where(
            Jurisdiction.code.in_(select(Application.jurisdiction_code)))).scalar()
    assert cities >= 3 and counties >= 9
    summary = outcome.eligibility
    assert summary.eligible >= 20 and summary.ineligible >= 20


@pytest.mark.parametrize("programme", PROFILES)
def test_every_shipped_profile_gets_a_sample_that_imports_cleanly(tmp_path, engine, clock, programme):
    year = CALL_YEAR
    if programme == "beijing-provincial-srdi":
        # Beijing's window runs to 12-31 and its levels' working-day deadlines fall in the next year:
        # a 2026 call would need the 2027 holiday schedule, which is not published yet.
        year = 2025
        clock.set(datetime(2025, 4, 1, 9, 0, tzinfo=SHANGHAI))
    call = open_test_call(engine, programme, year, batch=2 if "key" in programme else None)
    sample = write_sample_workbook(tmp_path / f"{programme}.xlsx", programme, year, n=30, seed=52)
    outcome = import_applications(sample.path, call)
    assert outcome.problems == [] and outcome.created == 30 and outcome.eligibility.evaluated == 30
