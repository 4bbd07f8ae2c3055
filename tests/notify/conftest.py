"""Fixtures for mail tests: a real aiosmtpd server on 127.0.0.1, bureaus and their people."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from models import Bureau, Call, Enterprise, Programme, User
from notifications.smtp_sink import free_port, running_sink


@pytest.fixture
def smtp_env(monkeypatch):
    """Mail settings pointing at a port on 127.0.0.1 (nothing listens until a sink starts)."""
    port = free_port()
    monkeypatch.setenv("SRDI_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SRDI_SMTP_PORT", str(port))
    monkeypatch.setenv("SRDI_SMTP_RETRY_DELAY", "0.05")
    monkeypatch.setenv("SRDI_MAIL_FROM", "srdi@gxt.hebei.example.cn")
    monkeypatch.setenv("SRDI_MAIL_FROM_NAME", "河北省专精特新管理系统")
    return port


@pytest.fixture
def sink(smtp_env, tmp_path):
    with running_sink(tmp_path / "mail", port=smtp_env) as sink:
        yield sink


def add_call(engine, call_id: str = "HB-2025", programme_id: str = "hebei-srdi") -> None:
    now = datetime(2025, 9, 1, tzinfo=timezone.utc)
    with engine.begin() as c:
        c.execute(Programme.__table__.insert(), [{"id": programme_id, "name": "河北省专精特新中小企业认定", "tier": "provincial_srdi",
                                                  "documents": [], "profile_sha256": "x", "loaded_at": now}])
        c.execute(Call.__table__.insert(), [{"id": call_id, "programme_id": programme_id, "name": "河北省2025年专精特新中小企业认定",
                                             "year": 2025, "jurisdiction_code": "130000", "opens_at": now, "status": "open"}])


@pytest.fixture
def call_maker(engine):
    """add a programme and its call: ``call_maker(call_id, programme_id)``."""
    return lambda call_id="HB-2025", programme_id="hebei-srdi": add_call(engine, call_id, programme_id)


@pytest.fixture
def people(engine):
    """Hebei: 长安区 (county) under 石家庄市 under 河北省, each with a bureau and staff."""
    add_call(engine)
    with engine.begin() as c:
        c.execute(Enterprise.__table__.insert(), [{"id": 1, "uscc": "91110000600037341L", "name": "石家庄精工机械有限公司",
                                                   "size": "small", "industry_code": "C34", "jurisdiction_code": "130102"}])
        c.execute(Bureau.__table__.insert(), [
            {"id": 1, "name": "长安区工业和信息化局", "kind": "sme", "jurisdiction_code": "130102", "email": "changan@gxj.example.cn"},
            {"id": 2, "name": "石家庄市工业和信息化局", "kind": "sme", "jurisdiction_code": "130100", "email": "sjz@gxj.example.cn"},
            {"id": 3, "name": "河北省工业和信息化厅", "kind": "sme", "jurisdiction_code": "130000", "email": "hebei@gxt.example.cn"},
            {"id": 4, "name": "河北省财政厅", "kind": "finance", "jurisdiction_code": "130000", "email": "hebei@czt.example.cn"},
        ])
        staff = {"bureau_id": None, "enterprise_id": None}
        c.execute(User.__table__.insert(), [{**staff, **row} for row in [
            {"username": "changan-li", "display_name": "李审核", "role": "reviewer", "jurisdiction_code": "130102",
             "bureau_id": 1, "email": "li@gxj.example.cn", "active": True},
            {"username": "changan-old", "display_name": "王离岗", "role": "reviewer", "jurisdiction_code": "130102",
             "bureau_id": 1, "email": "wang@gxj.example.cn", "active": False},
            {"username": "sjz-zhao", "display_name": "赵科长", "role": "clerk", "jurisdiction_code": "130100",
             "bureau_id": 2, "email": "zhao@gxj.example.cn", "active": True},
            {"username": "jinggong", "display_name": "陈经理", "role": "applicant", "jurisdiction_code": "130102",
             "enterprise_id": 1, "email": "chen@jinggong.example.cn", "active": True},
        ]])
    return engine
