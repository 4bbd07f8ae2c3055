"""A provincial 公示 in a real browser (Playwright, Debian's Chromium): the province previews its list and
opens the notice, registers an objection with its evidence, finds it unfounded, and — the window ended —
ends the notice and reads the certificate numbers issued."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from models import Recognition
from tests.web.browsing import needs_chromium, screenshot, sign_in
from tests.web.conftest import ENTERPRISES
from tests.web.test_notice_pages import climb_to_notice

pytestmark = needs_chromium

A1, A2, _, _, _, J1, _ = (name for _, name in ENTERPRISES)


def test_the_province_runs_its_notice_from_preview_to_certificates(page, world, engine, clock):
    climb_to_notice(world, engine, clock)
    sign_in(page, "hebei")
    page.goto("/notices")
    page.click("#pending-lists a:has-text('预览并开启公示')")
    preview = page.inner_text("#preview-entries")
    assert all(name in preview for name in (A1, A2, J1))
    screenshot(page, "notice-preview.png", min_bytes=0)
    page.click("#open-notice-form button[type=submit]")
    page.wait_for_selector(".flash.ok")
    assert "已开启公示" in page.inner_text(".flash.ok")
    assert "结束公示并认定" not in page.content()           # the window has only begun

    page.select_option("#objection-form select[name=application_ref]", label=page.locator(
        "#objection-form option", has_text=A2).inner_text())
    page.fill("#objection-form input[name=objector]", "石家庄某同行企业")
    page.fill("#objection-form input[name=contact]", "0311-87654321")
    page.fill("#objection-form textarea[name=grounds]", "该企业主导产品市场占有率数据不实")
    page.fill("#objection-form textarea[name=evidence]", "行业协会统计年报摘录1份")
    page.click("#objection-form button[type=submit]")
    page.wait_for_selector(".flash.ok")
    objections = page.inner_text("#objections")
    assert "行业协会统计年报摘录1份" in objections and "调查中" in objections
    assert "异议调查中" in page.inner_text("#notice-entries")

    page.check("#objections input[value=rejected]")
    page.fill("#objections textarea[name=finding]", "经核查，市场占有率数据有第三方报告佐证")
    page.click("#objections button[type=submit]")
    page.wait_for_selector(".flash.ok")
    assert "异议不成立" in page.inner_text(".flash.ok") and "公示中" in page.inner_text(".flash.ok")

    notice_url = page.url
    clock.advance(timedelta(days=14))                       # past closes_at (the session has lapsed meanwhile)
    sign_in(page, "hebei")
    page.goto(notice_url)
    page.click("#close-notice-form button[type=submit]")
    page.wait_for_selector(".flash.ok")
    assert "予以认定 3 家" in page.inner_text(".flash.ok")
    with engine.connect() as c:
        numbers = c.execute(select(Recognition.certificate_no)).scalars().all()
    shown = page.inner_text("#certificates")
    assert len(numbers) == 3 and all(number in shown for number in numbers)
    screenshot(page, "notice-certificates.png", min_bytes=0)
    page.goto("/recognitions")
    assert all(number in page.inner_text("#recognitions") for number in numbers)
