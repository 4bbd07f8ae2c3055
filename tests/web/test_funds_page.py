"""资金 page: plans, tranches, payments and reviews after the funding demo's three tranches."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from models.enums import Role
from models.funding import FundingRecipient, Payment
from models.jurisdiction import User
from tests.web.conftest import login


@pytest.fixture
def funded(engine, clock, tmp_path, password_hash):
    from srdi.demo.funding_round import run_funding_demo

    run_funding_demo(engine, out_dir=tmp_path, echo=lambda _: None)
    with engine.begin() as c:
        c.execute(User.__table__.insert(), [
            {"username": u, "display_name": u, "role": Role.clerk, "jurisdiction_code": code, "active": True,
             "password_hash": password_hash}
            for u, code in (("bj-finance", "110000"), ("tj-finance", "120000"), ("dongcheng", "110101"), ("xicheng", "110102"))])


def test_a_province_sees_its_plan_with_what_each_recipient_was_paid(client, funded, engine):
    login(client, "bj-finance")
    page = client.get("/funds")
    assert page.status_code == 200 and "北京" in page.text
    with engine.connect() as c:
        beijing = c.execute(select(FundingRecipient.name, func.sum(Payment.amount_wan))
                            .join(Payment, Payment.recipient_id == FundingRecipient.id)
                            .where(FundingRecipient.uscc.like("91110%")).group_by(FundingRecipient.id)).all()
    assert len(beijing) >= 30
    for name, _ in beijing:
        assert name in page.text
    assert "停止支持" in page.text and "第1年考核" in page.text
    assert "天津" not in page.text.split('id="recipients"')[1]


def test_plans_and_recipients_of_another_province_or_district_are_not_shown(client, funded, engine):
    login(client, "tj-finance")
    assert "北京精密制造" not in client.get("/funds").text
    client.post("/logout", data={"csrf_token": client.get("/").text.split('name="csrf_token" value="')[1].split('"')[0]})
    login(client, "xicheng")      # the Beijing enterprises all sit in 东城区
    page = client.get("/funds")
    assert page.status_code == 200 and "本辖区没有支持对象" in page.text
    client.post("/logout", data={"csrf_token": page.text.split('name="csrf_token" value="')[1].split('"')[0]})
    login(client, "dongcheng")
    page = client.get("/funds").text
    with engine.connect() as c:
        rows = c.execute(select(FundingRecipient.name, FundingRecipient.enterprise_id)
                         .where(FundingRecipient.uscc.like("91110%"))).all()
    assert any(e is None for _, e in rows)               # platforms: only for users covering the province
    for name, enterprise_id in rows:
        assert (name in page) == (enterprise_id is not None), name
    (plan,) = client.get("/api/v1/funds").json()
    listed = client.get(f"/api/v1/funds/{plan['id']}").json()
    assert {r["name"] for r in listed["recipients"]} == {name for name, e in rows if e is not None}
    assert sum(float(t["paid_wan"]) for t in listed["tranches"]) == pytest.approx(sum(float(r["paid_wan"]) for r in listed["recipients"]))


def test_after_the_demo_a_later_tranche_previews_no_new_payment_and_names_who_is_held_back(client, funded, engine):
    from models.funding_plan import ImplementationPlan

    with engine.connect() as c:
        plan_id = c.execute(select(ImplementationPlan.id).where(ImplementationPlan.province_code == "110000")).scalar()
        before = c.execute(select(func.count()).select_from(Payment)).scalar()
    login(client, "bj-finance")
    tranches = client.get(f"/funds?plan={plan_id}").text.split('id="tranches"', 1)[1].split("</table>", 1)[0]
    assert "继续支持名单已录入" in tranches
    page = client.get(f"/funds/plans/{plan_id}/tranches/3").text
    assert 'id="preview-count">0<' in page and "没有新的拨付" in page
    held = page.split('id="preview-held"', 1)[1].split("</table>", 1)[0]
    assert "停止支持：" in held and "不合格" in held
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(Payment)).scalar() == before
