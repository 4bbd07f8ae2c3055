"""公示 pages after a whole round driven through the domain functions (TestClient, no browser)."""

from __future__ import annotations

import re

import pytest
from markupsafe import escape
from sqlalchemy import select

from models import Application
from models.enums import ApplicationStatus
from models.notice import Objection, ObjectionStatus
from tests.web.conftest import ENTERPRISES, csrf_of, login

A1, A2, _, _, _, J1, _ = (name for _, name in ENTERPRISES)


def status_of(engine, app_id: int) -> ApplicationStatus:
    with engine.connect() as c:
        return c.execute(select(Application.status).where(Application.id == app_id)).scalar_one()


def test_the_province_records_an_objection_and_its_upheld_outcome(client, round_on_notice, engine):
    ids = round_on_notice
    login(client, "hebei")
    page = client.get(f"/notices/{ids['notice']}")
    assert page.status_code == 200
    assert all(name in page.text for name in (A1, A2, J1)) and "5个工作日" in page.text
    ref = re.search(f'<option value="([^"]+)">{A2}', page.text).group(1)
    answer = client.post(f"/notices/{ids['notice']}/objections", follow_redirects=True, data={
        "csrf_token": csrf_of(page.text), "application_ref": ref, "objector": "某同行企业", "contact": "0311-00000000",
        "grounds": "该企业2025年度存在重大安全生产事故"})
    assert "已登记" in answer.text and "该企业2025年度存在重大安全生产事故" in answer.text
    assert status_of(engine, ids["a2"]) == ApplicationStatus.on_hold
    with engine.connect() as c:
        objection_id = c.execute(select(Objection.id)).scalar_one()
    answer = client.post(f"/objections/{objection_id}/outcome", follow_redirects=True, data={
        "csrf_token": csrf_of(answer.text), "outcome": "upheld", "finding": "经应急管理部门核实，事故属实"})
    assert "异议成立" in answer.text
    assert status_of(engine, ids["a2"]) == ApplicationStatus.removed
    timeline = client.get(f"/applications/{ids['a2']}").text
    assert "经应急管理部门核实，事故属实" in timeline and "异议成立" in timeline


def test_a_county_sees_only_its_own_entries_and_cannot_decide_objections(client, round_on_notice, engine):
    ids = round_on_notice
    with engine.begin() as c:
        from tasks.notice.objections import record_objection

        ref = c.execute(select(Application.ref).where(Application.id == ids["a1"])).scalar_one()
        objection_id = record_objection(c, ref, objector="匿名来信", contact="信箱", grounds="质疑专利归属", username="hebei")
    login(client, "changan")
    page = client.get(f"/notices/{ids['notice']}")
    assert A1 in page.text and A2 in page.text and J1 not in page.text
    assert 'id="objection-form"' not in page.text and "/outcome" not in page.text
    answer = client.post(f"/objections/{objection_id}/outcome", follow_redirects=True,
                         data={"csrf_token": csrf_of(page.text), "outcome": "rejected", "finding": "县里说没问题"})
    assert "无权" in answer.text
    with engine.connect() as c:
        assert c.execute(select(Objection.status)).scalar_one() == ObjectionStatus.open
    assert status_of(engine, ids["a1"]) == ApplicationStatus.on_hold


def test_open_notices_appear_on_the_dashboards_of_the_jurisdictions_they_list(client, round_on_notice):
    login(client, "jingxiu")
    notices = client.get("/api/v1/dashboard").json()["notices"]
    assert [n["id"] for n in notices] == [round_on_notice["notice"]]
    detail = client.get(f"/api/v1/notices/{round_on_notice['notice']}").json()
    assert [e["name"] for e in detail["list"]] == [J1] and detail["unit"] == "working_days"
    client.post("/logout", data={"csrf_token": csrf_of(client.get("/").text)})
    login(client, "qiaoxi")   # 桥西区 has nobody on the list
    assert client.get("/api/v1/dashboard").json()["notices"] == []
    assert client.get(f"/notices/{round_on_notice['notice']}").status_code == 404


def test_eligibility_verdicts_are_shown_on_the_application_page(client, world, engine):
    from tasks.eligibility.engine import run_eligibility

    with engine.begin() as c:
        run_eligibility(c, world.call_id)
    login(client, "changan")
    page = client.get(f"/applications/{world.first_in('130102')}").text
    assert "资格审查结论" in page
    with engine.connect() as c:
        from models.eligibility import EligibilityVerdict

        message = c.execute(select(EligibilityVerdict.message).where(
            EligibilityVerdict.application_id == world.first_in("130102")).order_by(EligibilityVerdict.id)).scalars().first()
    assert message and str(escape(message)) in page


def test_the_internal_notice_list_flags_an_entry_recommended_against_the_eligibility_check(client, round_on_notice, engine):
    from sqlalchemy import update

    ids = round_on_notice
    with engine.begin() as c:
        c.execute(update(Application).where(Application.id == ids["a1"]).values(eligible=False, eligibility_override="专家复核符合"))
    login(client, "hebei")
    page = client.get(f"/notices/{ids['notice']}").text
    row = re.search(f"<tr><td>\\d+</td><td><a[^>]*>{A1}</a>(.*?)</tr>", page, re.S).group(1)
    assert "资格审查不符合，经说明推荐" in row and "专家复核符合" in row
    other = re.search(f"<tr><td>\\d+</td><td><a[^>]*>{A2}</a>(.*?)</tr>", page, re.S).group(1)
    assert "资格审查不符合" not in other


def test_the_timeline_marks_a_row_written_outside_srdi(client, round_on_notice, engine):
    """A transition slipped in with raw SQL is not in the audit chain: the console says so beside it."""
    import sqlite3

    from sqlalchemy.engine import make_url

    ids = round_on_notice
    login(client, "hebei")
    assert "此行不可信" not in client.get(f"/applications/{ids['a1']}").text
    if engine.dialect.name != "sqlite":
        pytest.skip("the raw insert below uses the SQLite shell's view of the file")
    with sqlite3.connect(make_url(engine.url).database) as c:
        c.execute("INSERT INTO transition (application_id, at, actor, role, jurisdiction_code, action, from_level, from_status, "
                  f"to_level, to_status, reason) VALUES ({ids['a1']}, '2026-03-02 01:00:00', 'changan', 'reviewer', '130102', "
                  "'recommend', 'county', 'pending', 'county', 'recommended', '补录')")
    page = client.get(f"/applications/{ids['a1']}").text
    assert page.count("此行不可信") == 1 and "⚠ 未入审计链" in page
    marks = [e["audit"] for e in client.get(f"/api/v1/applications/{ids['a1']}").json()["timeline"]]
    assert marks.count("未入审计链") == 1 and marks.count(None) == len(marks) - 1
