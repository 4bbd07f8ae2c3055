"""Polish of the console (issue 14 items 6–7): errors in Chinese, a favicon, 出处 with its reference on hover,
money in 万元 with two decimals."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from models.errors import Conflict, RuleViolation
from srdi.web.bounds import web_message
from srdi.web.render import cite, make_templates
from tests.web.conftest import login

ENGLISH = re.compile(r"Input should|valid integer|Method Not Allowed|Not Found|Internal Server Error|field required", re.I)


def main_text(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html.split("<main", 1)[-1].split("</main>", 1)[0])


def test_a_bad_path_parameter_answers_a_chinese_page_and_the_api_chinese_json(client, world):
    login(client, "changan")
    page = client.get("/applications/abc")
    assert page.status_code == 400 and page.headers["content-type"].startswith("text/html")
    assert "路径参数 application_id 应为整数" in main_text(page.text) and not ENGLISH.search(page.text)
    answer = client.get("/api/v1/applications/abc")
    assert answer.status_code == 400 and answer.json()["detail"].startswith("请求参数有误：路径参数 application_id 应为整数")


def test_a_wrong_method_and_an_unknown_page_are_answered_in_chinese(client, world):
    login(client, "changan")
    wrong = client.put("/applications")
    assert wrong.status_code == 405 and "不支持此请求方式" in main_text(wrong.text) and not ENGLISH.search(wrong.text)
    assert "GET" in wrong.headers.get("allow", "")
    api = client.delete("/api/v1/applications")
    assert api.status_code == 405 and "不支持此请求方式" in api.json()["detail"]
    missing = client.get("/no-such-page")
    assert missing.status_code == 404 and "页面不存在" in main_text(missing.text)
    assert client.get("/api/v1/no-such").json() == {"detail": "页面不存在。"}


def test_a_refusal_no_route_caught_reads_without_command_line_options(console, world):
    def plans():
        raise RuleViolation("130000 有多个批次的实施方案（第 1、2 批），请用 --batch 指定")

    def stale():
        raise Conflict("申报 A1 已被他人修改（--version 3）")

    def broken():
        raise RuntimeError("boom")

    for path, handler in (("/polish-test/plans", plans), ("/api/polish-test/stale", stale), ("/polish-test/broken", broken)):
        console.add_api_route(path, handler, methods=["GET"])
    with TestClient(console, base_url="http://127.0.0.1", raise_server_exceptions=False) as client:
        refused = client.get("/polish-test/plans")
        assert refused.status_code == 400 and "请指定批次" not in refused.text
        assert "须指定批次" in main_text(refused.text) and "--" not in main_text(refused.text)
        conflict = client.get("/api/polish-test/stale")
        assert conflict.status_code == 409 and conflict.json() == {"detail": "申报 A1 已被他人修改（“版本” 3）"}
        crashed = client.get("/polish-test/broken")
        assert crashed.status_code == 500 and "服务器内部错误" in crashed.text
        assert "boom" not in crashed.text and not ENGLISH.search(crashed.text)


@pytest.mark.parametrize("domain, web", [
    ("申报 A1：“退回”须写明原因（--reason）", "申报 A1：“退回”须写明原因"),
    ("申报企业用户须用 --enterprise 指定企业的统一社会信用代码", "申报企业用户须指定企业的统一社会信用代码"),
    ("申报 HB-1 尚未进行资格审查（请先运行 srdi eligibility run --call HB）", "申报 HB-1 尚未进行资格审查"),
    ("公示期 2026-03-06 至 2026-03-13", "公示期 2026-03-06 至 2026-03-13"),
])
def test_domain_messages_written_for_the_cli_lose_their_options_on_the_web(domain, web):
    assert web_message(domain) == web


def test_the_browser_favicon_request_is_answered(client):
    answer = client.get("/favicon.ico", follow_redirects=False)
    assert answer.status_code == 301 and answer.headers["location"] == "/static/favicon.svg"
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml") and "<svg" in icon.text


def test_the_source_column_shows_the_document_number_with_the_reference_on_hover():
    full = "冀工信中小函〔2021〕116号 003_610bb7f52b8dce8c.txt L10163–10181"
    assert str(cite(full)) == f'<span class="cite" title="{full}">冀工信中小函〔2021〕116号</span>'
    assert str(cite("004_003bf4f7a3377d33.txt L77")).endswith("申报工作的通知》</span>")     # named by its profile document
    assert str(cite("工信部企业〔2022〕63号")) == '<span class="cite">工信部企业〔2022〕63号</span>' and str(cite(None)) == ""
    html = make_templates().env.get_template("_verdicts.html").render(verdicts=[
        {"label": "营业收入", "passed": True, "message": "2025年营业收入 5200 万元", "cite": full, "depth": 1}])
    shown = re.sub(r'title="[^"]*"', "", html)
    assert "冀工信中小函〔2021〕116号" in shown and ".txt" not in shown and not re.search(r"L\d+", shown)
    assert f'title="{full}"' in html


def test_the_financial_table_shows_wan_with_two_decimals_right_aligned(client, world):
    login(client, "changan")
    html = client.get(f"/applications/{world.first_in('130102')}").text
    table = html.split("主要经济指标（万元）", 1)[1].split("</table>", 1)[0]
    assert '<td class="num">5,200.00</td>' in table and '<td class="num">310.00</td>' in table
