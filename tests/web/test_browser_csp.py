"""The Content-Security-Policy in a real browser: no page of the console trips it, the templates' inline
handler still runs, Swagger UI still starts — and an injected inline script would not."""

from __future__ import annotations

from tests.web.browsing import needs_chromium, sign_in

pytestmark = needs_chromium


def watch_violations(tab) -> list[str]:
    seen: list[str] = []
    tab.on("console", lambda message: seen.append(message.text) if "Content Security Policy" in message.text else None)
    tab.on("pageerror", lambda error: seen.append(str(error)))
    return seen


def test_no_page_trips_the_policy_and_the_call_selector_still_submits(page, world):
    violations = watch_violations(page)
    sign_in(page, "hebei")
    for path in ("/", "/dashboard", "/applications", f"/applications/{world.first_in('130102')}", "/notices", "/funds"):
        page.goto(path)
        page.wait_for_load_state("load")
    page.goto("/dashboard")
    page.dispatch_event("select[name=call]", "change")                # onchange="this.form.submit()"
    page.wait_for_url(f"**/dashboard?call={world.call_id}")
    page.goto("/api/docs")
    page.wait_for_selector(".swagger-ui .info .title")
    assert "srdi 管理控制台 API" in page.inner_text(".swagger-ui .info .title")
    assert violations == []


def test_an_inline_script_injected_into_a_page_is_blocked(page, world):
    violations = watch_violations(page)
    sign_in(page, "hebei")
    page.evaluate("""() => { const s = document.createElement('script'); s.textContent = 'window.injected = 1';
                             document.body.appendChild(s); }""")
    assert page.evaluate("() => window.injected") is None
    assert any("Content Security Policy" in v for v in violations)
