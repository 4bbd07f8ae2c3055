"""The console in a real browser: Playwright driving Debian's Chromium (headless) against uvicorn.

Chromium comes from the distribution (`apt-get install chromium`), never from `playwright install`;
the tests are skipped, saying so, only when /usr/bin/chromium is absent.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from models import Application, Transition
from models.enums import ApplicationStatus, ReviewLevel
from tasks.review.decisions import decide
from tasks.review.level_close import close_level
from tests.web.browsing import needs_chromium, screenshot, sign_in
from tests.web.conftest import ENTERPRISES

pytestmark = needs_chromium


def application_row(engine, application_id: int):
    with engine.connect() as c:
        return c.execute(select(Application.level, Application.status, Application.version)
                         .where(Application.id == application_id)).one()


def last_transition(engine, application_id: int):
    with engine.connect() as c:
        return c.execute(select(Transition).where(Transition.application_id == application_id)
                         .order_by(Transition.id.desc()).limit(1)).first()


def test_county_reviewer_returns_an_application_with_a_reason_and_sees_it_in_the_timeline(page, world, engine):
    app_id = world.first_in("130102")
    reason = "2025年度审计报告缺研发费用专项审计，请补充后重新提交"
    sign_in(page, "changan")
    page.goto(f"/applications/{app_id}")
    page.check("#decision-form input[value=return]")
    page.fill("#decision-form textarea[name=reason]", reason)
    page.click("#decision-form button[type=submit]")
    page.wait_for_selector(".flash.ok")
    assert "退回修改" in page.inner_text(".flash.ok")
    timeline = page.inner_text("#timeline")
    assert reason in timeline and "长安区审核员" in timeline and "退回修改" in timeline
    assert "退回修改" in page.inner_text("#current-status")
    screenshot(page, "application.png", min_bytes=0)
    row = application_row(engine, app_id)
    assert (row.level, row.status) == (ReviewLevel.county, ApplicationStatus.returned)
    last = last_transition(engine, app_id)
    assert (last.actor, last.action, last.reason) == ("changan", "return", reason)


def test_a_return_without_a_reason_is_refused_and_changes_nothing(page, world, engine):
    app_id = world.first_in("130102")
    sign_in(page, "changan")
    page.goto(f"/applications/{app_id}")
    page.check("#decision-form input[value=return]")
    page.click("#decision-form button[type=submit]")
    page.wait_for_selector(".flash.error")
    assert "须写明原因" in page.inner_text(".flash.error")
    assert application_row(engine, app_id).status == ApplicationStatus.pending


@pytest.fixture
def at_city(world, engine, clock) -> int:
    """长安区 decided everything (two recommended, one rejected) and closed its level after intake ended:
    two applications now wait at 石家庄市. Returns one of them."""
    ids = [world.apps[name] for code, name in ENTERPRISES if code == "130102"]
    with engine.begin() as c:
        decide(c, ids[0], "recommend", "changan", score=Decimal("86"))
        decide(c, ids[1], "recommend", "changan", score=Decimal("91.5"))
        decide(c, ids[2], "reject", "changan", reason="主营业务收入占比不足70%")
    clock.advance(timedelta(hours=2))
    with engine.begin() as c:
        close_level(c, world.call_id, "county", "130102")
    assert application_row(engine, ids[0]).level == ReviewLevel.municipal
    return ids[0]


def test_city_reviewer_recommends_an_application_forwarded_by_a_county(page, at_city, engine):
    sign_in(page, "sjz")
    page.goto(f"/applications/{at_city}")
    page.check("#decision-form input[value=recommend]")
    page.fill("#decision-form input[name=score]", "88.5")
    page.fill("#decision-form textarea[name=reason]", "技术水平突出，同意推荐")
    page.click("#decision-form button[type=submit]")
    page.wait_for_selector(".flash.ok")
    timeline = page.inner_text("#timeline")
    assert "石家庄市审核员" in timeline and "同意推荐" in timeline and "88.5" in timeline
    row = application_row(engine, at_city)
    assert (row.level, row.status) == (ReviewLevel.municipal, ApplicationStatus.recommended)
    assert last_transition(engine, at_city).score == Decimal("88.5")


def test_a_county_reviewer_opening_another_countys_application_is_refused(page, world):
    foreign = world.first_in("130104")
    name = next(n for code, n in ENTERPRISES if code == "130104")
    sign_in(page, "changan")
    response = page.goto(f"/applications/{foreign}")
    assert response.status == 404
    text = page.content()
    assert "未找到" in text
    assert name not in text and world.uscc[name] not in text and "桥西" not in text
    assert page.locator("#decision-form").count() == 0


def test_a_form_posted_without_its_csrf_token_is_rejected(page, world, engine):
    app_id = world.first_in("130102")
    sign_in(page, "changan")
    page.goto(f"/applications/{app_id}")
    page.evaluate("document.querySelector('#decision-form input[name=csrf_token]').remove()")
    page.check("#decision-form input[value=reject]")
    page.fill("#decision-form textarea[name=reason]", "伪造的提交")
    with page.expect_navigation() as navigation:
        page.click("#decision-form button[type=submit]")
    assert navigation.value.status == 403
    assert "CSRF" in page.content()
    assert application_row(engine, app_id).status == ApplicationStatus.pending


def test_dashboard_screenshot_for_the_province(page, round_on_notice, engine):
    from tasks.notice.objections import record_objection

    with engine.begin() as c:
        ref = c.execute(select(Application.ref).where(Application.id == round_on_notice["a2"])).scalar_one()
        record_objection(c, ref, objector="某同行企业", contact="0311-00000000", grounds="质疑专利归属", username="hebei")
    sign_in(page, "hebei")
    page.goto("/dashboard")
    funnel = page.text_content("svg.funnel")
    assert all(stage in funnel for stage in ("申报受理", "进入市（州）评审", "进入省评审", "公示", "认定"))
    bars = page.text_content("svg.bars")
    assert "石家庄市" in bars and "保定市" in bars    # the province sees one bar per city
    table = page.inner_text("#level-status")
    assert "不予推荐" in table and "公示中" in table and "异议调查中" in table
    assert "拟认定名单公示" in page.inner_text("ul.notices")
    screenshot(page, "dashboard.png")
