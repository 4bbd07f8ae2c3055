"""评审环节 in Chromium: the province imports a workbook, then 石家庄 previews its quota and closes its level."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import Application
from models.enums import ApplicationStatus, ReviewLevel
from srdi.demo.sample_workbook import write_sample_workbook
from tests.web.browsing import needs_chromium, screenshot, sign_in
from tests.web.conftest import HEBEI
from tests.web.test_stages import A1, A2, Q1, categorise, decide_counties, quota_programme, score_city, where  # noqa: F401

pytestmark = [*needs_chromium, pytest.mark.usefixtures("quota_programme")]   # before ``world`` opens the call


def test_the_province_imports_and_the_city_closes_its_level_after_the_quota_preview(page, world, engine, clock, tmp_path):
    sample = write_sample_workbook(tmp_path / "竞秀区申报.xlsx", HEBEI, 2026, ["130602"], n=4, seed=21)
    sign_in(page, "hebei")
    page.goto("/stages")
    page.click(f"#call-{world.call_id} a.import-link")
    page.set_input_files("#intake-form input[type=file]", str(sample.path))
    page.click("#intake-form button[type=submit]")
    assert page.inner_text("#intake-created").startswith("读取 4 行：新建申报 4 份")
    with engine.connect() as c:
        imported = c.execute(select(Application.id).where(Application.jurisdiction_code == "130602")).all()
    assert len(imported) == 2 + 4

    decide_counties(world, engine, clock)
    categorise(engine, world, {A1: "c", Q1: "c"})
    score_city(engine, world, {A1: "90", Q1: "88", A2: "80"})     # two c-class: the second is over the sub-cap
    page.click("header .who button")
    sign_in(page, "sjz")
    page.goto("/stages")
    page.click(f"#call-{world.call_id} a.close-link")
    rows = page.locator("#preview-rows tbody tr")
    assert rows.count() == 3
    assert "超出名额" in rows.nth(1).inner_text() and "c类）名额（1名）" in rows.nth(1).inner_text()
    assert "报送上级" in rows.nth(0).inner_text() and "报送上级" in rows.nth(2).inner_text()
    screenshot(page, "quota-preview.png")
    assert where(engine, world.apps[Q1]) == (ReviewLevel.municipal, ApplicationStatus.recommended)
    page.click("#close-confirm")
    page.wait_for_selector("#close-done")
    assert "报送上级 2 件，超出名额 1 件" in page.inner_text("main")
    assert where(engine, world.apps[Q1]) == (ReviewLevel.municipal, ApplicationStatus.quota_cut)
    assert where(engine, world.apps[A2]) == (ReviewLevel.provincial, ApplicationStatus.pending)
