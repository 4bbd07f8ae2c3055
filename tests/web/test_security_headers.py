"""Security headers on every kind of response, and the session cookie's flags."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.web.conftest import login

EXPECTED = {"x-frame-options": "DENY", "x-content-type-options": "nosniff", "referrer-policy": "same-origin"}


def assert_secured(answer) -> None:
    for name, value in EXPECTED.items():
        assert answer.headers.get(name) == value, (answer.request.url, name)
    policy = answer.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "default-src 'self'" in policy and "object-src 'none'" in policy
    assert "'unsafe-eval'" not in policy and "script-src 'self'" in policy
    assert "'unsafe-inline'" not in policy.split("script-src", 1)[1].split(";", 1)[0]


def test_headers_on_a_page_an_api_answer_a_404_a_redirect_and_a_static_file(client, world):
    unauthenticated = [client.get("/applications", follow_redirects=False), client.get("/api/v1/me"), client.get("/login")]
    assert [a.status_code for a in unauthenticated] == [303, 401, 200]
    login(client, "changan")
    answers = unauthenticated + [
        client.get("/"), client.get("/api/v1/applications"), client.get("/no-such-page"), client.get("/api/v1/applications/999999"),
        client.get("/static/console.css"), client.get("/api/docs"), client.get("/api/openapi.json"),
        client.get("/applications", params={"page": "abc"}),
    ]
    assert [a.status_code for a in answers[3:]] == [200, 200, 404, 404, 200, 200, 200, 400]
    for answer in answers:
        assert_secured(answer)


def test_the_policy_allows_the_templates_inline_handler_by_hash_only(client, world):
    from srdi.web.headers import source_hash

    login(client, "hebei")
    policy = client.get("/").headers["content-security-policy"]
    assert f"'unsafe-hashes' {source_hash('this.form.submit()')}" in policy
    docs = client.get("/api/docs")
    script = docs.text.split("<script>", 1)[1].split("</script>", 1)[0]
    assert source_hash(script) in docs.headers["content-security-policy"]


def test_an_unhandled_error_is_answered_with_the_headers_too(console):
    @console.get("/boom-for-test")
    def boom():
        raise RuntimeError("boom")

    with TestClient(console, base_url="http://127.0.0.1", raise_server_exceptions=False) as client:
        answer = client.get("/boom-for-test")
    assert answer.status_code == 500 and "服务器内部错误" in answer.text and "boom" not in answer.text
    assert_secured(answer)


def test_the_session_cookie_is_httponly_and_samesite_lax(client, world):
    answer = login(client, "changan")
    cookie = answer.headers["set-cookie"].lower()
    assert cookie.startswith("srdi_session=") and "httponly" in cookie and "samesite=lax" in cookie
    assert "secure" not in cookie and "strict-transport-security" not in answer.headers


def test_over_https_the_cookie_is_secure_and_hsts_is_sent(engine, world, monkeypatch):
    from srdi.web.app import create_app

    monkeypatch.setenv("SRDI_COOKIE_SECURE", "1")
    with TestClient(create_app(engine, key="k" * 32), base_url="https://127.0.0.1") as client:
        answer = login(client, "changan")
    assert "; secure" in answer.headers["set-cookie"].lower()
    assert answer.headers["strict-transport-security"].startswith("max-age=")
