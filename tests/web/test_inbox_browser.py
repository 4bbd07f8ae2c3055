"""待我办理 in Chromium: a county reviewer bulk-recommends two applications and returns a third with a reason;
later the province's inbox shows its overdue reviews in red (docs/inbox.png)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from models import Application
from models.enums import ApplicationStatus
from models.transition import Transition
from tests.web.browsing import needs_chromium, screenshot, sign_in

pytestmark = needs_chromium


def refs(engine, ids: list[int]) -> list[str]:
    with engine.connect() as c:
        found = dict(c.execute(select(Application.id, Application.ref).where(Application.id.in_(ids))).all())
    return [found[i] for i in ids]


def tick(page, ref: str) -> None:
    page.check(f'tr[data-ref="{ref}"] input[name=pick]')


def test_a_county_bulk_decides_and_the_province_sees_what_is_overdue(page, world, engine, clock):
    from tasks.review.decisions import decide
    from tasks.review.level_close import close_due_levels

    a1, a2, a3 = (world.apps[n] for n in ("石家庄长安精密机械有限公司", "石家庄长安新材料科技有限公司", "长安智能传感股份有限公司"))
    r1, r2, r3 = refs(engine, [a1, a2, a3])
    sign_in(page, "changan")
    assert page.inner_text("h1") == "待我办理"
    tick(page, r1)
    tick(page, r2)
    page.fill(f'tr[data-ref="{r1}"] input[name=row_score]', "92")
    page.fill("input[name=score]", "86.5")
    page.check("input[name=decision][value=recommend]")
    page.click("#bulk button[type=submit]")
    assert "已记录：同意推荐 2 件" in page.inner_text(".flash.ok")
    assert page.locator("tr[data-ref]").count() == 1            # only the third still waits
    tick(page, r3)
    page.check("input[name=decision][value=return]")
    page.fill("textarea[name=reason]", "请补充近两年研发费用专项审计报告")
    page.click("#bulk button[type=submit]")
    assert "已记录：退回修改 1 件" in page.inner_text(".flash.ok")
    assert "目前没有待您办理的事项" in page.inner_text("main")
    with engine.connect() as c:
        rows = c.execute(select(Transition.application_id, Transition.action, Transition.score, Transition.reason)
                         .where(Transition.actor == "changan").order_by(Transition.id)).all()
        status = dict(c.execute(select(Application.id, Application.status).where(Application.id.in_([a1, a2, a3]))).all())
    assert [(r.application_id, r.action, str(r.score) if r.score is not None else None) for r in rows] == [
        (a1, "recommend", "92.00"), (a2, "recommend", "86.50"), (a3, "return", None)]
    assert rows[2].reason == "请补充近两年研发费用专项审计报告"
    assert status == {a1: ApplicationStatus.recommended, a2: ApplicationStatus.recommended, a3: ApplicationStatus.returned}

    # the rest of the ladder through the domain; the province then lets its own deadline pass
    with engine.begin() as c:
        decide(c, world.apps["桥西工业软件有限公司"], "recommend", "qiaoxi")
        decide(c, world.apps["竞秀电力装备有限公司"], "recommend", "jingxiu")
    clock.advance(timedelta(days=20))
    with engine.begin() as c:
        close_due_levels(c, clock.now())
        for name, user in (("石家庄长安精密机械有限公司", "sjz"), ("石家庄长安新材料科技有限公司", "sjz"),
                           ("桥西工业软件有限公司", "sjz"), ("竞秀电力装备有限公司", "baoding")):
            decide(c, world.apps[name], "recommend", user)
        for name, user in (("桥西生物医药科技有限公司", "sjz"), ("保定竞秀光电有限公司", "baoding")):   # escalated by the counties
            decide(c, world.apps[name], "reject", user, reason="研发投入强度不达标")
    clock.advance(timedelta(hours=2))
    with engine.begin() as c:
        close_due_levels(c, clock.now())
    clock.advance(timedelta(days=60))
    page.click("header .who button")
    sign_in(page, "hebei")
    assert page.locator("#inbox-apps tr.overdue").count() == 4
    assert "逾期" in page.inner_text("#inbox-apps") and "待结束审核" in page.inner_text("#inbox-items")
    color = page.eval_on_selector("#inbox-apps tr.overdue td.deadline", "cell => getComputedStyle(cell).color")
    assert color not in ("rgb(0, 0, 0)", "") and color.startswith("rgb(")
    screenshot(page, "inbox.png")
