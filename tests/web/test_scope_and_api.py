"""Scoping, log-in, sessions, CSRF and the JSON API, through FastAPI's TestClient (no browser)."""

from __future__ import annotations

import re
from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from models import Application
from models.enums import ApplicationStatus
from tests.web.conftest import ENTERPRISES, csrf_of, login


def names_in(county: str) -> list[str]:
    return [name for code, name in ENTERPRISES if code == county]


def test_a_county_sees_only_its_own_applications_in_list_and_api(client, world):
    assert login(client, "changan").status_code == 303
    page = client.get("/applications")
    assert page.status_code == 200
    for name in names_in("130102"):
        assert name in page.text
    for name in names_in("130104") + names_in("130602"):
        assert name not in page.text
    data = client.get("/api/v1/applications").json()
    assert data["total"] == 3
    assert {row["enterprise_name"] for row in data["items"]} == set(names_in("130102"))


def test_another_countys_application_is_404_with_no_trace_of_its_data(client, world):
    login(client, "changan")
    foreign = world.first_in("130104")
    name, uscc = names_in("130104")[0], world.uscc[names_in("130104")[0]]
    for url in (f"/applications/{foreign}", f"/api/v1/applications/{foreign}"):
        answer = client.get(url)
        assert answer.status_code == 404
        assert name not in answer.text and uscc not in answer.text
    missing = client.get("/applications/999999")
    assert missing.status_code == 404 and missing.text == client.get(f"/applications/{foreign}").text


def test_a_city_sees_its_counties_but_not_another_city(client, world):
    login(client, "sjz")
    data = client.get("/api/v1/applications", params={"per_page": 100}).json()
    assert {row["enterprise_name"] for row in data["items"]} == set(names_in("130102") + names_in("130104"))
    assert client.get(f"/api/v1/applications/{world.first_in('130602')}").status_code == 404
    narrowed = client.get("/api/v1/applications", params={"jurisdiction": "130104"}).json()
    assert narrowed["total"] == 2
    # a jurisdiction filter outside the subtree widens nothing
    assert client.get("/api/v1/applications", params={"jurisdiction": "130602"}).json()["total"] == 0


def test_search_by_name_or_uscc_and_pagination(client, world):
    login(client, "hebei")
    by_name = client.get("/api/v1/applications", params={"q": "桥西"}).json()
    assert {r["enterprise_name"] for r in by_name["items"]} == set(names_in("130104"))
    target = names_in("130602")[1]
    by_uscc = client.get("/api/v1/applications", params={"q": world.uscc[target][:17].lower()}).json()
    assert [r["enterprise_name"] for r in by_uscc["items"]] == [target]
    first = client.get("/api/v1/applications", params={"per_page": 3, "page": 1}).json()
    third = client.get("/api/v1/applications", params={"per_page": 3, "page": 3}).json()
    assert (first["total"], first["pages"], len(first["items"]), len(third["items"])) == (7, 3, 3, 1)


def test_the_html_list_pages_through_the_filtered_set(client, world):
    login(client, "hebei")
    last = client.get("/applications", params={"per_page": 3, "page": 3, "q": "有限公司"}).text
    assert "共 7 条，第 3 / 3 页" in last
    assert "per_page=3&amp;page=2&amp;q=" in last and "下一页" not in last
    assert client.get("/applications", params={"q": "股份"}).text.count('href="/applications/') == 1


def test_a_decision_on_a_stale_page_is_refused_as_a_conflict(client, world, engine):
    from tasks.review.decisions import decide

    app_id = world.first_in("130102")
    login(client, "changan")
    form = client.get(f"/applications/{app_id}").text
    with engine.begin() as c:   # the same application decided meanwhile (another tab, another clerk)
        decide(c, app_id, "recommend", "changan")
    answer = client.post(f"/applications/{app_id}/decision", follow_redirects=True, data={
        "csrf_token": csrf_of(form), "version": re.search(r'name="version" value="(\d+)"', form).group(1),
        "decision": "reject", "reason": "不符合条件"})
    assert "刷新" in answer.text and 'class="flash error"' in answer.text
    with engine.connect() as c:
        assert c.execute(select(Application.status).where(Application.id == app_id)).scalar_one() == ApplicationStatus.recommended


def test_dashboard_counts_and_deadlines_are_scoped(client, world):
    login(client, "sjz")
    data = client.get("/api/v1/dashboard").json()
    assert data["call_id"] == world.call_id
    assert sum(c["count"] for c in data["counts"]) == 5
    assert {(r["name"], r["open"]) for r in data["by_jurisdiction"]} == {("长安区", 3), ("桥西区", 2)}
    assert data["funnel"][0] == {"stage": "申报受理", "count": 5}
    # the county windows close on 2026-03-16, the 10th working day after 2026-03-02; 竞秀区's is not shown
    assert {(d["jurisdiction_code"], d["due_at"][:10]) for d in data["deadlines"]} == {("130102", "2026-03-16"), ("130104", "2026-03-16")}
    page = client.get("/dashboard")
    assert page.status_code == 200 and "<svg" in page.text and "评审漏斗" in page.text


def test_requests_without_a_session_are_refused(client, world):
    assert client.get("/applications", follow_redirects=False).headers["location"].startswith("/login")
    assert client.get("/api/v1/applications").status_code == 401


def test_wrong_password_is_refused_without_saying_which_part_was_wrong(client, world):
    answer = login(client, "changan", "not-the-password-1")
    assert answer.status_code == 401 and "用户名或密码错误" in answer.text
    assert login(client, "nobody", "not-the-password-1").text.count("用户名或密码错误") == 1
    assert client.get("/api/v1/me").status_code == 401


def test_a_session_expires_after_the_idle_limit(console, client, world):
    login(client, "changan")
    assert client.get("/api/v1/me").json()["jurisdiction_code"] == "130102"
    start = console.state.wall_clock()
    console.state.wall_clock = lambda: start + console.state.session_max_age + 5
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/applications", follow_redirects=False).status_code == 303


def test_a_deactivated_user_is_signed_out_at_the_next_request(client, world, engine):
    from sqlalchemy import update

    from models import User

    login(client, "changan")
    with engine.begin() as c:
        c.execute(update(User).where(User.username == "changan").values(active=False))
    assert client.get("/api/v1/me").status_code == 401


def test_every_form_post_without_the_csrf_token_is_refused(console, client, world):
    from srdi.web import auth, notices, pages

    login(client, "changan")
    app_id = world.first_in("130102")
    posts = [r.path for router in (auth.router, pages.router, notices.router) for r in router.routes if "POST" in r.methods]
    assert {"/login", "/logout", "/applications/{application_id}/decision"} <= set(posts)
    for path in posts:
        url = path.replace("{application_id}", str(app_id)).replace("{notice_id}", "1").replace("{objection_id}", "1")
        answer = client.post(url, data={"decision": "reject", "reason": "x", "version": "1"}, follow_redirects=False)
        assert answer.status_code == 403, url
        assert "CSRF" in answer.text
        wrong = client.post(url, data={"csrf_token": "forged", "version": "1"}, follow_redirects=False)
        assert wrong.status_code == 403, url
    assert client.get("/api/v1/me").status_code == 200  # still signed in: logout without a token did nothing


def test_excel_download_holds_the_filtered_scoped_list(client, world):
    login(client, "sjz")
    answer = client.get("/applications.xlsx", params={"jurisdiction": "130104"})
    assert answer.status_code == 200
    sheet = load_workbook(BytesIO(answer.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("申报编号", "批次", "企业名称", "统一社会信用代码")
    assert {r[2] for r in rows[1:]} == set(names_in("130104"))
    summary = load_workbook(BytesIO(client.get("/summary.xlsx").content))
    assert {"分层级状态", "按辖区", "评审漏斗", "近期截止"} <= set(summary.sheetnames)
    assert sum(r[3] for r in list(summary["分层级状态"].iter_rows(values_only=True))[1:]) == 5


def test_openapi_page_is_served_without_the_internet(client):
    html = client.get("/api/docs").text
    assert "/static/swagger/swagger-ui-bundle.js" in html and "cdn" not in html.lower()
    assert client.get("/static/swagger/swagger-ui-bundle.js").status_code == 200
    schema = client.get("/api/openapi.json").json()
    assert {"/api/v1/applications", "/api/v1/applications/{application_id}", "/api/v1/dashboard", "/api/v1/notices/{notice_id}",
            "/api/v1/funds/{plan_id}"} <= set(schema["paths"])


@pytest.mark.parametrize("path", ["/", "/applications", "/notices", "/funds", "/login"])
def test_pages_load_nothing_from_the_internet(client, world, path):
    login(client, "hebei")
    html = client.get(path).text
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "") and "https://" not in html


def test_an_application_that_failed_the_eligibility_check_is_recommended_only_with_a_recorded_reason(client, world, engine):
    """Issue 12 (7): the console warns, refuses a bare recommendation, and shows the reason once given."""
    from sqlalchemy import update

    app_id = world.first_in("130102")
    with engine.begin() as c:
        c.execute(update(Application).where(Application.id == app_id).values(eligible=False))
    login(client, "changan")
    form = client.get(f"/applications/{app_id}").text
    assert 'id="eligibility-warning"' in form and 'name="override"' in form
    data = {"csrf_token": csrf_of(form), "version": re.search(r'name="version" value="(\d+)"', form).group(1),
            "decision": "recommend"}
    refused = client.post(f"/applications/{app_id}/decision", follow_redirects=True, data=data)
    assert "仍要同意推荐须写明推荐理由" in refused.text and 'class="flash error"' in refused.text
    shown = client.post(f"/applications/{app_id}/decision", follow_redirects=True, data={**data, "override": "现场核查已补正"})
    assert 'id="eligibility-override"' in shown.text and "资格审查不符合，仍予推荐：现场核查已补正" in shown.text
    with engine.connect() as c:
        row = c.execute(select(Application.status, Application.eligibility_override).where(Application.id == app_id)).one()
    assert tuple(row) == (ApplicationStatus.recommended, "现场核查已补正")
    sheet = load_workbook(BytesIO(client.get("/applications.xlsx").content)).active
    rows = list(sheet.iter_rows(values_only=True))
    flagged = {r[0]: r[10:12] for r in rows[1:]}
    assert rows[0][10:12] == ("资格审查", "资格审查不符合仍推荐的理由") and flagged[row_ref(engine, app_id)] == ("不符合", "现场核查已补正")
    assert sum(1 for value in flagged.values() if value[1]) == 1


def row_ref(engine, app_id: int) -> str:
    with engine.connect() as c:
        return c.execute(select(Application.ref).where(Application.id == app_id)).scalar_one()
