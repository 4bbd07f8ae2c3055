"""Seeding key enterprises for the funding demo, the benchmark and tests: enterprises in a province,
each holding an active national 小巨人 recognition. Idempotent by USCC and certificate number."""

from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from sqlalchemy import select
from sqlalchemy.engine import Connection
from stdnum.cn import uscc as stdnum_uscc

from models.clock import clock
from models.enterprise import Enterprise
from models.enums import EnterpriseSize, JurisdictionLevel
from models.errors import NotFound
from models.jurisdiction import Jurisdiction
from models.programme import Programme
from models.recognition import Recognition
from models.workflow import RECOGNITION
from models.workflow_writer import SystemActor, initial, record_created
from tasks.funding.plan_checks import LITTLE_GIANT_TIER
from tasks.insert_once import insert_new
from tasks.people.scope import subtree_clause

LITTLE_GIANT_PROGRAMME = "national-little-giant"


def make_uscc(region: str, serial: int) -> str:
    """A well-formed 统一社会信用代码 (GB 32100-2015 check character) for seeded data."""
    body = f"91{region}{serial:09d}"
    return body + stdnum_uscc.calc_check_digit(body)


def first_county(connection: Connection, province_code: str) -> str:
    province = connection.execute(select(Jurisdiction.path).where(Jurisdiction.code == province_code)).scalar()
    code = None if province is None else connection.execute(select(Jurisdiction.code).where(
        subtree_clause(Jurisdiction.path, province), Jurisdiction.level == JurisdictionLevel.county
    ).order_by(Jurisdiction.code).limit(1)).scalar()
    if code is None:
        raise NotFound(f"行政区划表中没有 {province_code} 的区县，请先加载行政区划（srdi db init）")
    return code


def ensure_little_giant_programme(connection: Connection) -> str:
    """The programme recognitions hang on: an existing 小巨人 programme, else a minimal row."""
    existing = connection.execute(select(Programme.id).where(Programme.tier == LITTLE_GIANT_TIER).order_by(Programme.id)).scalar()
    if existing:
        return existing
    insert_new(connection, Programme.__table__, [{
        "id": LITTLE_GIANT_PROGRAMME, "name": "国家级专精特新“小巨人”企业认定", "tier": LITTLE_GIANT_TIER,
        "documents": [{"number": "工信厅企业函〔2021〕79号"}], "profile_sha256": "", "loaded_at": clock.now()}], ["id"])
    return LITTLE_GIANT_PROGRAMME


def create_key_enterprises(connection: Connection, province_code: str, count: int, *, name_prefix: str,
                           valid_from: date, valid_to: date, serial_start: int = 1,
                           county: Optional[str] = None) -> list[dict]:
    """``count`` enterprises in one county of the province, each a recognised 小巨人; returns
    [{id, uscc, name}] in serial order."""
    county = county or first_county(connection, province_code)
    programme_id = ensure_little_giant_programme(connection)
    now: datetime = clock.now()
    specs = [{"uscc": make_uscc(county, serial), "name": f"{name_prefix}{serial:04d}有限公司", "size": EnterpriseSize.small,
              "industry_code": "C34", "jurisdiction_code": county, "created_at": now}
             for serial in range(serial_start, serial_start + count)]
    insert_new(connection, Enterprise.__table__, specs, ["uscc"])
    ids = dict(connection.execute(select(Enterprise.uscc, Enterprise.id).where(Enterprise.uscc.in_([s["uscc"] for s in specs]))).all())
    titles = {f"LG-{s['uscc']}": s for s in specs}
    held = set(connection.execute(select(Recognition.certificate_no).where(Recognition.certificate_no.in_(list(titles)))).scalars())
    insert_new(connection, Recognition.__table__, [
        {"certificate_no": number, "enterprise_id": ids[s["uscc"]], "programme_id": programme_id,
         "tier": LITTLE_GIANT_TIER, "jurisdiction_code": "000000", "valid_from": valid_from, "valid_to": valid_to,
         **initial(RECOGNITION, "issue"), "created_at": now} for number, s in titles.items()], ["certificate_no"])
    issued = connection.execute(select(Recognition.id).where(Recognition.certificate_no.in_([n for n in titles if n not in held])))
    record_created(connection, RECOGNITION, "issue", issued.scalars().all(), actor=SystemActor("000000"), at=now,
                   reason="演示数据：已认定的“小巨人”企业")
    return [{"id": ids[s["uscc"]], "uscc": s["uscc"], "name": s["name"]} for s in specs]
