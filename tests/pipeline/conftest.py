"""Factories for pipeline tests: calls, reviewers, applications taken in through create_applications.

``ladder`` writes small profiles of our own into a temporary programmes directory (SRDI_PROGRAMMES_DIR)
so edge cases (quotas, lapse/escalate, deadlines) are driven by profile data; ``shipped`` uses the
real programmes/ directory. ``prefect_harness`` is the one Prefect test server of the session.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Optional

import pytest
import yaml
from sqlalchemy import inspect, select, text
from stdnum.cn import uscc as stdnum_uscc

from models import Application, Transition, User
from models.clock import SHANGHAI
from models.enums import Role
from models.settings import REPO_ROOT
from tasks.intake.applications import create_applications
from tasks.reference.calls import open_call
from tasks.reference.routing import Tree
from tasks.review.decisions import decide

# 石家庄: 长安、桥西; 保定: 竞秀; 唐山: 路北; 雄安新区 is a prefecture-level unit without counties.
COUNTIES = ["130102", "130104", "130602", "130203"]
XIONGAN = "133100"


def bj(y, m, d, hh=9, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SHANGHAI)


def make_uscc(n: int, county: str = "130102") -> str:
    body = f"91{county}MA{n:07d}"[:17]
    return body + stdnum_uscc.calc_check_digit(body)


def record(n: int, county: str, **extra) -> dict:
    return {
        "row": n + 1, "uscc": make_uscc(n, county), "name": f"测试企业{n:04d}有限公司", "size": "small",
        "industry_code": "C3484", "jurisdiction_code": county,
        "financials": [{"fiscal_year": 2025, "revenue_wan": "5200", "main_business_revenue_wan": "5000", "rd_expense_wan": "300"}],
        **extra,
    }


def level(name: str, due: str, on_missed: str = "escalate", quota: Optional[dict] = None, **extra) -> dict:
    step = {"level": name, "label": f"{name}审核", "deadline": {"kind": "fixed", "at": due}, "on_missed": on_missed, **extra}
    if quota:
        step["quota"] = quota
    return step


def write_profile(directory: Path, pid: str, route: list[dict], jurisdiction: str = "130000", **extra) -> None:
    data = {"id": pid, "name": f"测试方案{pid}", "tier": "provincial_srdi", "jurisdiction": jurisdiction,
            "documents": [{"number": "测试〔2026〕1号", "title": "测试"}], "route": route, **extra}
    (directory / f"{pid}.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


LADDER = [
    level("county", "2026-03-20T17:30:00+08:00"),
    level("municipal", "2026-04-10T17:30:00+08:00"),
    level("provincial", "2026-04-30T17:30:00+08:00", quota={"max": 3, "sub_caps": [{"category": "c", "max": 1, "label": "c类"}]}),
]


@pytest.fixture
def programmes_dir(tmp_path, monkeypatch) -> Path:
    directory = tmp_path / "programmes"
    directory.mkdir()
    monkeypatch.setenv("SRDI_PROGRAMMES_DIR", str(directory))
    monkeypatch.setenv("SRDI_CALENDAR_DIR", str(REPO_ROOT / "programmes" / "calendar"))
    write_profile(directory, "ladder", LADDER)
    return directory


@dataclass
class World:
    """A handle on one test database: open calls, add reviewers, take in and decide applications."""

    engine: object
    clock: object
    users: set[str] = field(default_factory=set)

    def open(self, programme: str, year: int = 2026, **kw) -> str:
        kw.setdefault("opens_at", self.clock.now() - timedelta(days=1))
        with self.engine.begin() as c:
            return open_call(c, programme, year, now=self.clock.now(), **kw).id

    def reviewer(self, code: str, role: Role = Role.reviewer) -> str:
        name = f"{role.value}-{code}"
        if name not in self.users:
            with self.engine.begin() as c:
                c.execute(User.__table__.insert(), [{"username": name, "display_name": name, "role": role,
                                                     "jurisdiction_code": code, "active": True}])
            self.users.add(name)
        return name

    def applicant(self, app_id: int) -> str:
        with self.engine.connect() as c:
            enterprise_id = c.execute(select(Application.enterprise_id).where(Application.id == app_id)).scalar()
        name = f"applicant-{enterprise_id}"
        if name not in self.users:
            with self.engine.begin() as c:
                c.execute(User.__table__.insert(), [{"username": name, "display_name": name, "role": Role.applicant,
                                                     "jurisdiction_code": "130000", "enterprise_id": enterprise_id, "active": True}])
            self.users.add(name)
        return name

    def take_in(self, call_id: str, records: list[dict], actor: str = "system") -> dict[str, int]:
        with self.engine.begin() as c:
            return create_applications(c, call_id, records, actor, self.clock.now()).applications

    def apply(self, call_id: str, per_county: dict[str, int], start: int = 1, **extra) -> list[int]:
        records, n = [], start
        for county, count in per_county.items():
            for _ in range(count):
                records.append(record(n, county, **extra))
                n += 1
        ids = self.take_in(call_id, records)
        return [ids[r["uscc"]] for r in records]

    def desk(self, app_id: int) -> str:
        return self.app(app_id).review_jurisdiction_code

    def decide(self, app_id: int, decision: str = "recommend", by: Optional[str] = None, **kw):
        actor = by or self.reviewer(self.desk(app_id))
        if decision in ("return", "reject"):
            kw.setdefault("reason", "材料不全")
        with self.engine.begin() as c:
            return decide(c, app_id, decision, actor, **kw)

    def app(self, app_id: int):
        with self.engine.connect() as c:
            return c.execute(select(Application).where(Application.id == app_id)).first()

    def log(self, app_id: int) -> list:
        with self.engine.connect() as c:
            return c.execute(select(Transition).where(Transition.application_id == app_id).order_by(Transition.id)).all()


@pytest.fixture
def world(engine, clock) -> World:
    return World(engine, clock)


def dump(engine) -> dict[str, list]:
    """Every row of every table, ordered, for "running twice changes nothing" comparisons."""
    with engine.connect() as c:
        return {t: c.execute(text(f'SELECT * FROM "{t}" ORDER BY 1')).all() for t in sorted(inspect(c).get_table_names())}


def score(value: str) -> Decimal:
    return Decimal(value)



__all__ = ["COUNTIES", "XIONGAN", "World", "bj", "dump", "level", "make_uscc", "record", "write_profile", "Tree"]
