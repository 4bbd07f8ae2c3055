"""Fixtures for funding tests: recognised key enterprises, a plan taken to approval.

Recognitions are inserted directly (srdi/demo/funding_seed.py), so these tests exercise funding
without running the recognition pipeline. The funding rules are the real profile
programmes/key-little-giant-funding.yaml and the real performance rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import pytest

from models.clock import SHANGHAI
from models.funding_plan import OpinionStage, VersionKind
from srdi.demo.funding_seed import create_key_enterprises, make_uscc
from tasks.funding.plan import approve_plan, open_plan, record_opinion, submit_version
from tasks.funding.rules import funding_profile, performance_rules

BEIJING = "110000"
TIANJIN = "120000"
APPROVED_AT = datetime(2021, 7, 20, 10, 0, tzinfo=SHANGHAI)


def at(text: str) -> datetime:
    """A Beijing wall-clock time, e.g. at("2021-05-12 08:00")."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.fixture
def profile():
    return funding_profile()


@pytest.fixture
def rules():
    return performance_rules()


def enterprises(engine, n: int, province: str = BEIJING, start: int = 1, prefix: str = "测试精密") -> list[dict]:
    county = f"{province[:2]}0101"
    with engine.begin() as c:
        return create_key_enterprises(c, province, n, name_prefix=prefix, county=county, serial_start=start,
                                      valid_from=date(2021, 1, 1), valid_to=date(2023, 12, 31))


def platform(province: str, serial: int, category: str, amount, name: str | None = None) -> dict:
    return {"item_type": "platform", "platform_category": category, "uscc": make_uscc(f"{province[:2]}0101", 900000 + serial),
            "name": name or f"平台{serial}", "amount_wan": amount}


def key_rows(ents: list[dict], amount=400) -> list[dict]:
    return [{"item_type": "key_enterprise", "uscc": e["uscc"], "name": e["name"], "amount_wan": amount + 10 * i}
            for i, e in enumerate(ents)]


@dataclass
class Approved:
    plan_id: int
    enterprises: list[dict]
    rows: list[dict]


def approve(engine, profile, rows: list[dict], province: str = BEIJING, batch: int = 1,
            approved_at: datetime = APPROVED_AT, institution_amounts: dict | None = None) -> int:
    """Take a plan through 报送版 → 初步/正式意见 → 备案版 → 批复."""
    with engine.begin() as c:
        plan_id = open_plan(c, province, batch, profile)
        submit_version(c, plan_id, VersionKind.submission, rows, submitted_at=at("2021-03-25 10:00"), profile=profile)
        record_opinion(c, plan_id, OpinionStage.preliminary, issued_at=at("2021-05-06 10:00"))
        record_opinion(c, plan_id, OpinionStage.formal, issued_at=at("2021-06-10 10:00"),
                       institution_amounts=institution_amounts)
        submit_version(c, plan_id, VersionKind.filed, rows, submitted_at=at("2021-06-25 10:00"), profile=profile)
        approve_plan(c, plan_id, approved_at=approved_at, doc_no="工信部联企业函〔2021〕1号", profile=profile)
    return plan_id


@pytest.fixture
def approved(engine, profile, clock) -> Approved:
    """Beijing batch 1: ten key enterprises (400…490万元) and one 重点支持 platform (200万元)."""
    ents = enterprises(engine, 10)
    rows = key_rows(ents) + [platform(BEIJING, 1, "key_support", 200)]
    return Approved(approve(engine, profile, rows), ents, rows)


def money(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.0001"))

