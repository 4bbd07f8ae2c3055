"""In Chromium: a provincial funds officer previews the first tranche's run, confirms it and sees the payments."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from models.funding import Payment
from tests.web.browsing import needs_chromium, screenshot, sign_in
from tests.web.test_funds_actions import beijing_plan, officers  # noqa: F401  (fixtures)

pytestmark = needs_chromium


def test_a_funds_officer_previews_confirms_and_sees_the_payments(page, engine, beijing_plan):  # noqa: F811
    sign_in(page, "bj-funds")
    page.goto(f"/funds?plan={beijing_plan}")
    page.click("#tranches >> text=拨付预览")
    page.wait_for_selector("#preview-payable")
    assert page.inner_text("#preview-count") == "11"
    previewed = page.inner_text("#preview-amount")
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(Payment)).scalar() == 0      # the preview paid nothing

    page.fill("input[name=doc_no]", "财建〔2021〕88号")
    page.click("#confirm-run button[type=submit]")
    page.wait_for_selector("p.flash.ok")
    assert "新增拨付 11 笔" in page.inner_text("p.flash.ok")
    assert page.locator("#payments tbody tr").count() == 11
    with engine.connect() as c:
        total = c.execute(select(func.sum(Payment.amount_wan))).scalar()
    assert f"{Decimal(str(total)):,.2f}" == previewed
    assert page.inner_text("#tranche-status") == "已拨付"

    page.goto(f"/funds?plan={beijing_plan}")
    first = page.locator("#tranches tbody tr").first
    assert "11" in first.inner_text() and previewed in first.inner_text()
    screenshot(page, "funds.png")
