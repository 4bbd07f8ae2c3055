"""Bounds on paging and ids: out of range or not a number is a 400 with a Chinese message, never a 500."""

from __future__ import annotations

import pytest

from tests.web.conftest import csrf_of, login

HUGE = "99999999999999999999"


@pytest.mark.parametrize("value", [HUGE, "-1", "0", "abc", "1.5", ""])
def test_a_page_number_out_of_range_or_not_a_number_is_refused_with_400(client, world, value):
    login(client, "hebei")
    page = client.get("/applications", params={"page": value})
    assert page.status_code == 400 and "text/html" in page.headers["content-type"]
    assert "请求参数有误" in page.text and "page" in page.text
    api = client.get("/api/v1/applications", params={"page": value})
    assert api.status_code == 400 and api.headers["content-type"].startswith("application/json")
    assert api.json()["detail"].startswith("请求参数有误：查询参数 page ")


def test_the_message_says_what_is_allowed(client, world):
    login(client, "hebei")
    assert "查询参数 page 不得大于 100000（实际为 '99999999999999999999'）" in client.get(
        "/api/v1/applications", params={"page": HUGE}).json()["detail"]
    assert "查询参数 page 应为整数（实际为 'abc'）" in client.get("/api/v1/applications", params={"page": "abc"}).json()["detail"]
    assert "查询参数 per_page 不得大于 500" in client.get("/api/v1/applications", params={"per_page": "501"}).json()["detail"]
    assert "查询参数 q 长度不得超过 100 个字符" in client.get("/api/v1/applications", params={"q": "桥" * 101}).json()["detail"]


def test_the_last_allowed_page_is_an_empty_page_not_an_error(client, world):
    login(client, "hebei")
    data = client.get("/api/v1/applications", params={"page": 100000, "per_page": 500}).json()
    assert data["items"] == [] and data["total"] == 7
    assert client.get("/applications", params={"page": 100000}).status_code == 200


@pytest.mark.parametrize("path", ["/applications/{}", "/api/v1/applications/{}", "/notices/{}", "/api/v1/notices/{}",
                                  "/api/v1/funds/{}", "/funds?plan={}"])
@pytest.mark.parametrize("value", [HUGE, "-1", "abc"])
def test_ids_out_of_range_or_not_numbers_are_refused_with_400(client, world, path, value):
    login(client, "hebei")
    answer = client.get(path.format(value))
    assert answer.status_code == 400 and "请求参数有误" in answer.text


def test_a_decision_with_an_impossible_version_is_refused_and_changes_nothing(client, world):
    app_id = world.first_in("130102")
    login(client, "changan")
    page = client.get(f"/applications/{app_id}").text
    answer = client.post(f"/applications/{app_id}/decision", follow_redirects=False,
                         data={"decision": "reject", "reason": "x", "version": HUGE, "csrf_token": csrf_of(page)})
    assert answer.status_code == 400 and "表单字段 version 不得大于" in answer.text
    assert client.get(f"/api/v1/applications/{app_id}").json()["status"] == "pending"


@pytest.mark.parametrize("score", ["NaN", "Infinity", "1e999999", "-sNaN"])
def test_a_decision_with_a_strange_score_is_a_message_not_a_500(client, world, score):
    app_id = world.first_in("130102")
    login(client, "changan")
    page = client.get(f"/applications/{app_id}").text
    version = page.split('name="version" value="', 1)[1].split('"', 1)[0]
    answer = client.post(f"/applications/{app_id}/decision", follow_redirects=False,
                         data={"decision": "recommend", "score": score, "version": version, "csrf_token": csrf_of(page)})
    assert answer.status_code == 303
    assert client.get(f"/api/v1/applications/{app_id}").json()["status"] == "pending"
