"""Log-in throttling: the 6th wrong password locks the name (the right password is refused during the lock),
the lock grows with further failures, an address is locked after many failures, every failure is logged."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

import httpx
from sqlalchemy import func, select

from models import LoginAttempt
from tests.web.conftest import login

WRONG = "not-the-password-9"


def outcomes(engine, username: str) -> list[str]:
    with engine.connect() as c:
        return list(c.execute(select(LoginAttempt.outcome).where(LoginAttempt.username == username)
                              .order_by(LoginAttempt.id)).scalars())


def test_the_sixth_wrong_password_is_locked_and_the_right_one_refused_until_the_lock_passes(client, world, engine, clock, caplog):
    caplog.set_level(logging.WARNING, logger="srdi.web.login")
    for _ in range(5):
        assert login(client, "changan", WRONG).status_code == 401
    sixth = login(client, "changan", WRONG)
    assert sixth.status_code == 429 and "已暂时锁定" in sixth.text
    assert "请于北京时间 2026-03-02 09:15 之后（约 15 分钟后）再试" in sixth.text
    assert int(sixth.headers["Retry-After"]) == 15 * 60
    right = login(client, "changan")                                   # the right password, during the lock
    assert right.status_code == 429 and client.get("/api/v1/me").status_code == 401
    clock.advance(timedelta(minutes=14))
    assert login(client, "changan").status_code == 429
    clock.advance(timedelta(minutes=1, seconds=1))
    assert login(client, "changan").status_code == 303
    assert client.get("/api/v1/me").json()["username"] == "changan"
    assert outcomes(engine, "changan") == ["failure"] * 5 + ["locked"] * 3 + ["success"]
    logged = [r.getMessage() for r in caplog.records if r.name == "srdi.web.login"]
    assert sum("log-in failed" in m and "'changan'" in m for m in logged) == 5
    assert sum("refused while locked" in m for m in logged) == 3


def test_a_success_clears_the_count_and_each_failure_after_a_lock_doubles_it(client, world, clock):
    for _ in range(4):
        login(client, "changan", WRONG)
    assert login(client, "changan").status_code == 303                 # 4 failures, then success: cleared
    for _ in range(5):
        assert login(client, "changan", WRONG).status_code == 401      # a fresh count of five
    assert login(client, "changan").status_code == 429
    clock.advance(timedelta(minutes=15, seconds=1))
    assert login(client, "changan", WRONG).status_code == 401          # the 6th failure: now 30 minutes
    clock.advance(timedelta(minutes=16))
    assert login(client, "changan").status_code == 429
    clock.advance(timedelta(minutes=15))
    assert login(client, "changan").status_code == 303


def test_an_unknown_name_is_locked_the_same_way_so_the_answer_reveals_nothing(client, world):
    known, unknown = [], []
    for _ in range(6):
        known.append(login(client, "changan", WRONG))
        unknown.append(login(client, "no-such-user", WRONG))
    assert [r.status_code for r in known] == [r.status_code for r in unknown] == [401] * 5 + [429]
    assert known[-1].text.replace("changan", "no-such-user") == unknown[-1].text


def test_an_address_is_locked_after_many_failures_across_names(client, world, console):
    limit = console.state.security.address_max_failures
    for i in range(limit):
        assert login(client, f"guess{i}", WRONG).status_code == 401
    assert login(client, "qiaoxi").status_code == 429                  # a real user, right password, same address


def test_guesses_sent_in_parallel_get_no_more_checks_than_the_limit(live_server, world, engine, console):
    limit = console.state.security.max_failures
    codes: list[int] = []

    def guess() -> None:
        with httpx.Client(base_url=live_server, timeout=30) as browser:
            page = browser.get("/login").text
            token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
            codes.append(browser.post("/login", data={"username": "hebei", "password": WRONG, "csrf_token": token}).status_code)

    threads = [threading.Thread(target=guess) for _ in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(codes) == [401] * codes.count(401) + [429] * codes.count(429) and len(codes) == 24
    assert 1 <= codes.count(401) <= limit                              # at most five passwords were checked
    with engine.connect() as c:
        checked = c.execute(select(func.count()).select_from(LoginAttempt)
                            .where(LoginAttempt.username == "hebei", LoginAttempt.outcome == "failure")).scalar()
    assert checked == codes.count(401)
