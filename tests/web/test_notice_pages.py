"""公示 pages after a whole round driven through the domain functions (TestClient, no browser)."""

from __future__ import annotations

import re
from datetime import timedelta

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


# ── Opening a notice from the browser, objections with evidence, ending it when due (issue 14) ──

def climb_to_notice(world, engine, clock) -> dict[str, int]:
    """The ladder of the ``round_on_notice`` fixture, stopping just before ``open_notice``: the province's
    recommended list (2 长安区, 1 竞秀区) waits for its 公示."""
    from tasks.review.decisions import decide
    from tasks.review.level_close import close_due_levels

    a1, a2, a3, q1, q2, j1, j2 = (world.apps[name] for _, name in ENTERPRISES)
    county = [(a1, "recommend", "changan", None), (a2, "recommend", "changan", None), (a3, "reject", "changan", "不达标"),
              (q1, "recommend", "qiaoxi", None), (q2, "reject", "qiaoxi", "缺材料"), (j1, "recommend", "jingxiu", None),
              (j2, "reject", "jingxiu", "不达标")]
    city = [(a1, "recommend", "sjz", None), (a2, "recommend", "sjz", None), (q1, "reject", "sjz", "专业化指标不足"),
            (j1, "recommend", "baoding", None)]
    province = [(a1, "recommend", "hebei", None), (a2, "recommend", "hebei", None), (j1, "recommend", "hebei", None)]
    for decisions in (county, city, province):
        with engine.begin() as c:
            for app_id, decision, user, reason in decisions:
                decide(c, app_id, decision, user, reason=reason)
        clock.advance(timedelta(hours=2))
        with engine.begin() as c:
            close_due_levels(c, clock.now())
    return {"a1": a1, "a2": a2, "j1": j1}


@pytest.fixture
def round_before_notice(world, engine, clock) -> dict[str, int]:
    return climb_to_notice(world, engine, clock)


def open_from_preview(client) -> tuple[str, "object"]:
    """The province follows 预览并开启公示 and confirms; returns the preview page and the notice page."""
    listing = client.get("/notices").text
    link = re.search(r'href="(/notices/preview\?[^"]+)"', listing).group(1).replace("&amp;", "&")
    preview = client.get(link)
    form = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', preview.text.split('id="open-notice-form"')[1]))
    return preview.text, client.post("/notices/open", data=form, follow_redirects=True)


def test_the_province_previews_the_list_then_opens_the_notice(client, round_before_notice, engine):
    login(client, "hebei")
    assert "待开启公示的推荐名单" in client.get("/notices").text
    preview, opened = open_from_preview(client)
    assert all(name in preview for name in (A1, A2, J1)) and "5个工作日" in preview and "确认开启公示" in preview
    assert opened.status_code == 200 and "已开启公示" in opened.text and all(n in opened.text for n in (A1, A2, J1))
    assert status_of(engine, round_before_notice["a1"]) == ApplicationStatus.on_notice
    assert "待开启公示的推荐名单" not in client.get("/notices").text       # nothing left to publish


def test_a_confirmation_for_a_list_that_changed_since_the_preview_is_refused(client, round_before_notice, engine):
    from models.notice import Notice

    login(client, "hebei")
    listing = client.get("/notices").text
    link = re.search(r'href="(/notices/preview\?[^"]+)"', listing).group(1).replace("&amp;", "&")
    preview = client.get(link).text
    form = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', preview.split('id="open-notice-form"')[1]))
    answer = client.post("/notices/open", data={**form, "digest": "0" * 16}, follow_redirects=True)
    assert "请重新预览" in answer.text
    with engine.connect() as c:
        assert c.execute(select(Notice.id)).first() is None


def test_a_city_is_offered_no_list_to_publish_and_cannot_open_one(client, round_before_notice, engine, world):
    from models.notice import Notice

    login(client, "sjz")
    assert "待开启公示的推荐名单" not in client.get("/notices").text
    assert client.get(f"/notices/preview?call={world.call_id}&jurisdiction=130000").status_code == 404
    page = client.get("/notices").text
    answer = client.post("/notices/open", data={"csrf_token": csrf_of(page), "call": world.call_id, "jurisdiction": "130000",
                                                "digest": "x"}, follow_redirects=False)
    assert answer.status_code == 404
    with engine.connect() as c:
        assert c.execute(select(Notice.id)).first() is None


def test_an_objection_keeps_its_evidence_and_a_rejected_one_restores_the_entry(client, round_on_notice, engine):
    ids = round_on_notice
    login(client, "hebei")
    page = client.get(f"/notices/{ids['notice']}")
    ref = re.search(f'<option value="([^"]+)">{A1}', page.text).group(1)
    answer = client.post(f"/notices/{ids['notice']}/objections", follow_redirects=True, data={
        "csrf_token": csrf_of(page.text), "application_ref": ref, "objector": "石家庄某科技公司", "contact": "0311-12345678",
        "grounds": "专利权属存在争议", "evidence": "专利权属纠纷起诉状复印件1份"})
    assert "专利权属纠纷起诉状复印件1份" in answer.text and "异议调查中" in answer.text
    with engine.connect() as c:
        objection = c.execute(select(Objection)).one()
    assert objection.objector == "石家庄某科技公司" and objection.contact == "0311-12345678"
    assert objection.grounds == "专利权属存在争议\n证据材料：专利权属纠纷起诉状复印件1份"
    answer = client.post(f"/objections/{objection.id}/outcome", follow_redirects=True, data={
        "csrf_token": csrf_of(answer.text), "outcome": "rejected", "finding": "经核实专利权属清晰"})
    assert "异议不成立" in answer.text and "经核实专利权属清晰" in answer.text
    assert status_of(engine, ids["a1"]) == ApplicationStatus.on_notice
    assert entry_status(answer.text, A1) == "公示中"           # restored to the list


def entry_status(html: str, name: str) -> str:
    return re.search(f"<tr><td>\\d+</td><td><a[^>]*>{name}</a>.*?<td>([^<]*)</td></tr>", html, re.S).group(1)


def test_an_upheld_objection_shows_the_entry_removed(client, round_on_notice):
    ids = round_on_notice
    login(client, "hebei")
    page = client.get(f"/notices/{ids['notice']}").text
    ref = re.search(f'<option value="([^"]+)">{J1}', page).group(1)
    answer = client.post(f"/notices/{ids['notice']}/objections", follow_redirects=True, data={
        "csrf_token": csrf_of(page), "application_ref": ref, "objector": "匿名", "contact": "来信", "grounds": "环保处罚未披露"})
    assert entry_status(answer.text, J1) == "异议调查中"
    objection_id = re.search(r'action="/objections/(\d+)/outcome"', answer.text).group(1)
    answer = client.post(f"/objections/{objection_id}/outcome", follow_redirects=True, data={
        "csrf_token": csrf_of(answer.text), "outcome": "upheld", "finding": "处罚属实"})
    assert entry_status(answer.text, J1) == "已移出" and "已移出" in answer.text


def test_before_the_window_ends_there_is_no_close_action_and_a_forced_post_changes_nothing(client, round_on_notice, engine):
    from models.notice import Notice, NoticeStatus

    login(client, "hebei")
    page = client.get(f"/notices/{round_on_notice['notice']}").text
    assert "结束公示并认定" not in page
    answer = client.post(f"/notices/{round_on_notice['notice']}/close", data={"csrf_token": csrf_of(page)}, follow_redirects=True)
    assert "尚未期满，不能结束" in answer.text
    with engine.connect() as c:
        assert c.execute(select(Notice.status)).scalar_one() == NoticeStatus.open
    assert status_of(engine, round_on_notice["a1"]) == ApplicationStatus.on_notice


def test_ending_a_due_notice_issues_certificates(client, round_on_notice, engine, clock):
    from models import Recognition

    ids = round_on_notice
    clock.advance(timedelta(days=14))
    login(client, "changan")                    # a county sees the notice, but does not publish it
    assert "结束公示并认定" not in client.get(f"/notices/{ids['notice']}").text
    client.post("/logout", data={"csrf_token": csrf_of(client.get("/notices").text)})
    login(client, "hebei")
    page = client.get(f"/notices/{ids['notice']}").text
    assert "结束公示并认定" in page
    answer = client.post(f"/notices/{ids['notice']}/close", data={"csrf_token": csrf_of(page)}, follow_redirects=True)
    assert "予以认定 3 家" in answer.text
    with engine.connect() as c:
        numbers = c.execute(select(Recognition.certificate_no).order_by(Recognition.certificate_no)).scalars().all()
    assert len(numbers) == 3 and all(n in answer.text for n in numbers) and "结束公示并认定" not in answer.text
    again = client.post(f"/notices/{ids['notice']}/close", data={"csrf_token": csrf_of(answer.text)}, follow_redirects=True)
    assert "已于" in again.text and "结束公示" in again.text
    with engine.connect() as c:
        assert len(c.execute(select(Recognition.id)).all()) == 3
