"""Server-side console sessions: a cookie stops working at log-out, password change and disabling; idle and
absolute expiry on the project clock; the database holds only the token's digest."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from models import Application, Transition, WebSession
from models.enums import ApplicationStatus
from models.web_session import token_digest
from srdi.cli.main import app as cli
from tests.web.conftest import csrf_of, login

COOKIE = "srdi_session"
NEW_PASSWORD = "Changan-2026-rotated"


def other_browser(console) -> TestClient:
    return TestClient(console, base_url="http://127.0.0.1")


def cookie_payload(value: str) -> dict:
    """What the signed cookie carries (itsdangerous: base64 JSON, then the timestamp and signature)."""
    data = value.split(".", 1)[0]
    return json.loads(base64.b64decode(data + "=" * (-len(data) % 4)))


def sessions_of(engine, username: str) -> list:
    from models import User

    with engine.connect() as c:
        return c.execute(select(WebSession).join(User, User.id == WebSession.user_id)
                         .where(User.username == username).order_by(WebSession.id)).all()


def test_a_cookie_captured_before_logout_is_refused_after_it_and_cannot_decide(console, client, world, engine):
    app_id = world.first_in("130102")
    login(client, "changan")
    page = client.get(f"/applications/{app_id}").text
    captured = client.cookies.get(COOKIE)
    csrf, version = csrf_of(page), page.split('name="version" value="', 1)[1].split('"', 1)[0]
    assert client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303

    with TestClient(console, base_url="http://127.0.0.1", cookies={COOKIE: captured}) as replay:
        assert replay.get("/api/v1/me").status_code == 401
        assert replay.get("/applications", follow_redirects=False).headers["location"].startswith("/login")
        answer = replay.post(f"/applications/{app_id}/decision", follow_redirects=False,
                             data={"decision": "reject", "reason": "用退出前的会话", "version": version, "csrf_token": csrf})
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
    with engine.connect() as c:
        assert c.execute(select(Application.status).where(Application.id == app_id)).scalar() == ApplicationStatus.pending
        assert c.execute(select(func.count()).select_from(Transition).where(Transition.actor == "changan")).scalar() == 0
    [row] = sessions_of(engine, "changan")
    assert row.revoke_reason == "logout" and row.revoked_at is not None


def test_the_database_holds_only_the_digest_of_the_cookies_token(client, world, engine):
    login(client, "changan")
    token = cookie_payload(client.cookies.get(COOKIE))["sid"]
    [row] = sessions_of(engine, "changan")
    assert row.token_hash == token_digest(token) and token not in repr(tuple(row))
    assert row.client_address == "testclient" and row.revoked_at is None


def test_a_password_change_revokes_every_open_session_of_that_user(console, client, world, engine):
    login(client, "changan")
    with other_browser(console) as laptop, other_browser(console) as colleague:
        login(laptop, "changan")
        login(colleague, "qiaoxi")
        assert client.get("/api/v1/me").status_code == laptop.get("/api/v1/me").status_code == 200
        changed = CliRunner().invoke(cli, ["user", "set-password", "changan", "--password-stdin"], input=NEW_PASSWORD + "\n")
        assert changed.exit_code == 0, changed.output
        assert client.get("/api/v1/me").status_code == 401
        assert laptop.get("/api/v1/me").status_code == 401
        assert colleague.get("/api/v1/me").status_code == 200          # another user's session stands
        assert login(laptop, "changan", NEW_PASSWORD).status_code == 303  # the new password opens a new one
        assert laptop.get("/api/v1/me").status_code == 200
    reasons = [row.revoke_reason for row in sessions_of(engine, "changan")]
    assert reasons == ["password-changed", "password-changed", None]


def test_set_password_and_disable_revoke_the_rows_at_once(console, client, world, engine):
    login(client, "changan")
    with other_browser(console) as laptop:
        login(laptop, "changan")
    runner = CliRunner()
    assert runner.invoke(cli, ["user", "set-password", "changan", "--password-stdin"], input=NEW_PASSWORD + "\n").exit_code == 0
    rows = sessions_of(engine, "changan")                                # no request in between: revoked by the command
    assert [r.revoke_reason for r in rows] == ["password-changed"] * 2 and all(r.revoked_at for r in rows)
    assert login(client, "changan", NEW_PASSWORD).status_code == 303
    done = runner.invoke(cli, ["user", "disable", "changan"])
    assert done.exit_code == 0, done.output
    assert sessions_of(engine, "changan")[-1].revoke_reason == "user-disabled"
    assert client.get("/api/v1/me").status_code == 401


def test_a_user_disabled_by_any_path_loses_their_sessions(client, world, engine):
    from sqlalchemy import update

    from models import User

    login(client, "changan")
    with engine.begin() as c:
        c.execute(update(User).where(User.username == "changan").values(active=False))
    assert client.get("/api/v1/me").status_code == 401
    assert [row.revoke_reason for row in sessions_of(engine, "changan")] == ["user-disabled"]


def test_a_session_ends_after_the_idle_limit_on_the_project_clock(console, client, world, engine, clock):
    idle = timedelta(seconds=console.state.security.idle_seconds)
    login(client, "changan")
    clock.advance(timedelta(hours=1))
    assert client.get("/api/v1/me").status_code == 200               # a request keeps it alive for another idle span
    clock.advance(idle + timedelta(seconds=1))                         # 9 h after log-in: within the absolute limit
    assert client.get("/api/v1/me").status_code == 401
    assert [row.revoke_reason for row in sessions_of(engine, "changan")] == ["idle"]
    assert login(client, "changan").status_code == 303 and client.get("/api/v1/me").status_code == 200


def test_last_seen_is_written_at_most_once_a_minute(client, world, engine, clock):
    login(client, "changan")
    [opened] = sessions_of(engine, "changan")
    clock.advance(timedelta(seconds=30))
    client.get("/api/v1/me")
    assert sessions_of(engine, "changan")[0].last_seen_at == opened.last_seen_at
    clock.advance(timedelta(seconds=31))
    client.get("/api/v1/me")
    assert sessions_of(engine, "changan")[0].last_seen_at == opened.last_seen_at + timedelta(seconds=61)


def test_a_busy_session_still_ends_at_the_absolute_limit(console, client, world, engine, clock):
    limit = console.state.security.absolute_seconds
    login(client, "changan")
    busy = timedelta(seconds=console.state.security.idle_seconds // 2)
    elapsed = timedelta(0)
    while elapsed + busy <= timedelta(seconds=limit):
        clock.advance(busy)
        elapsed += busy
        assert client.get("/api/v1/me").status_code == 200
    clock.advance(timedelta(seconds=limit) - elapsed + timedelta(seconds=1))
    assert client.get("/api/v1/me").status_code == 401
    assert [row.revoke_reason for row in sessions_of(engine, "changan")] == ["expired"]
