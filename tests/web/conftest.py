"""Fixtures for the console: a Hebei round taken in through the intake function, bureau users with
passwords at four levels, a TestClient, and (for browser tests) the app on a real uvicorn server.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from stdnum.cn import uscc as stdnum_uscc

from models import Application, User
from models.enums import Role
from srdi.web.passwords import hash_password
from tasks.intake.applications import create_applications
from tasks.reference.calls import open_call

HEBEI = "hebei-provincial-srdi"
PASSWORD = "審核-Passw0rd-2026"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
DOCS = Path(__file__).resolve().parents[2] / "docs"

# county → enterprises: 石家庄长安区 3, 石家庄桥西区 2, 保定竞秀区 2
ENTERPRISES = [
    ("130102", "石家庄长安精密机械有限公司"), ("130102", "石家庄长安新材料科技有限公司"), ("130102", "长安智能传感股份有限公司"),
    ("130104", "桥西工业软件有限公司"), ("130104", "桥西生物医药科技有限公司"),
    ("130602", "竞秀电力装备有限公司"), ("130602", "保定竞秀光电有限公司"),
]
USERS = [
    ("changan", "长安区审核员", "130102"), ("qiaoxi", "桥西区审核员", "130104"),
    ("jingxiu", "竞秀区审核员", "130602"), ("sjz", "石家庄市审核员", "130100"), ("baoding", "保定市审核员", "130600"),
    ("hebei", "河北省厅审核员", "130000"),
]


def make_uscc(n: int, county: str) -> str:
    body = f"91{county}MA{n:07d}"[:17]
    return body + stdnum_uscc.calc_check_digit(body)


@dataclass
class World:
    call_id: str
    apps: dict[str, int] = field(default_factory=dict)      # enterprise name → application id
    uscc: dict[str, str] = field(default_factory=dict)      # enterprise name → USCC

    def first_in(self, county: str) -> int:
        return next(self.apps[name] for code, name in ENTERPRISES if code == county)


@pytest.fixture(scope="session")
def password_hash() -> str:
    return hash_password(PASSWORD)


@pytest.fixture
def world(engine, clock, password_hash) -> World:
    """The Hebei 2026 call (opened 20 days ago, intake closing in an hour) with 7 applications pending
    at their counties — whose 10-working-day county deadlines fall on 2026-03-16 — and users."""
    now = clock.now()
    with engine.begin() as c:
        c.execute(User.__table__.insert(), [
            {"username": u, "display_name": name, "role": Role.reviewer, "jurisdiction_code": code, "active": True,
             "password_hash": password_hash} for u, name, code in USERS])
        call = open_call(c, HEBEI, 2026, opens_at=now - timedelta(days=20), closes_at=now + timedelta(hours=1), now=now)
        records = [
            {"row": i + 2, "uscc": make_uscc(i + 1, code), "name": name, "size": "small", "industry_code": "C3484",
             "jurisdiction_code": code, "eligible": True,
             "financials": [{"fiscal_year": 2025, "revenue_wan": "5200", "main_business_revenue_wan": "5000",
                             "rd_expense_wan": "310"}]}
            for i, (code, name) in enumerate(ENTERPRISES)
        ]
        create_applications(c, call.id, records, "system", now)
        world = World(call.id, uscc={r["name"]: r["uscc"] for r in records})
        rows = c.execute(select(Application.id, Application.enterprise_id)).all()
        from models import Enterprise

        names = dict(c.execute(select(Enterprise.id, Enterprise.name)).all())
        world.apps = {names[r.enterprise_id]: r.id for r in rows}
    return world


@pytest.fixture
def round_on_notice(world, engine, clock) -> dict[str, int]:
    """The whole ladder through the domain functions: every county, city and the province decide,
    the levels close, and the province's 公示 opens with 3 enterprises (2 长安区, 1 竞秀区).
    Returns the application ids by short name and the notice id."""
    from tasks.notice.publication import open_notice
    from tasks.review.decisions import decide
    from tasks.review.level_close import close_due_levels

    a1, a2, a3, q1, q2, j1, j2 = (world.apps[name] for _, name in ENTERPRISES)
    county = [(a1, "recommend", "changan", None), (a2, "recommend", "changan", None),
              (a3, "reject", "changan", "主营业务收入占比不足70%"), (q1, "recommend", "qiaoxi", None),
              (q2, "reject", "qiaoxi", "缺少知识产权证明材料"), (j1, "recommend", "jingxiu", None),
              (j2, "reject", "jingxiu", "近两年研发投入强度不达标")]
    city = [(a1, "recommend", "sjz", None), (a2, "recommend", "sjz", None), (q1, "reject", "sjz", "专业化指标不足"),
            (j1, "recommend", "baoding", None)]
    province = [(a1, "recommend", "hebei", None), (a2, "recommend", "hebei", None), (j1, "recommend", "hebei", None)]
    for decisions in (county, city, province):
        with engine.begin() as c:
            for app_id, decision, user, reason in decisions:
                decide(c, app_id, decision, user, reason=reason)
        clock.advance(timedelta(hours=2))   # past the intake's close, so levels may close early
        with engine.begin() as c:
            close_due_levels(c, clock.now())
    with engine.begin() as c:
        (notice_id,) = open_notice(c, world.call_id, now=clock.now())
    return {"a1": a1, "a2": a2, "a3": a3, "q1": q1, "q2": q2, "j1": j1, "j2": j2, "notice": notice_id}


@pytest.fixture
def console(engine):
    from srdi.web.app import create_app

    return create_app(engine, key="test-secret-key-for-signing-cookies")


@pytest.fixture
def client(console):
    from fastapi.testclient import TestClient

    with TestClient(console, base_url="http://127.0.0.1") as test_client:
        yield test_client


def login(client, username: str, password: str = PASSWORD):
    """Log in through the form as a browser would (GET for the token, then POST)."""
    page = client.get("/login")
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token, "next": "/"},
                       follow_redirects=False)


def csrf_of(html: str) -> str:
    return html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def live_server(console):
    """The console on a real uvicorn server in a background thread; yields its base URL."""
    import uvicorn

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(console, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, headless, once per test module."""
    from playwright.sync_api import sync_playwright

    from tests.web.browsing import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server, locale="zh-CN", timezone_id="Asia/Shanghai",
                                  viewport={"width": 1360, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    yield tab
    context.close()
