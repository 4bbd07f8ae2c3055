"""Summary tables generated from stored data, and read back to the same data."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from models.application import Application
from models.enterprise import Enterprise, EnterpriseFinancialYear
from models.enums import ApplicationStatus, ReviewLevel
from srdi.demo.sample_workbook import write_sample_workbook
from tasks.intake.sheet import read_sheet
from tasks.intake.workbook_import import import_applications
from tasks.reports.summary_tables import (
    ANNEX3,
    ANNEX5,
    ANNEX6,
    recommendation_summary,
    sichuan_annex5,
    sichuan_annex6,
    sichuan_annex7,
)
from tests.intake.conftest import counts, open_test_call

SICHUAN = "sichuan-key-little-giant-batch2"
CHENGDU = "510100"


def read_back(path):
    """Headers and numbered data rows of an exported table, read back the way intake reads a workbook."""
    sheet = read_sheet(path)
    data = [values for _, values in sheet.rows if values and isinstance(values[0], (int, float)) and not isinstance(values[0], bool)]
    return sheet.headers, data


def _sichuan(tmp_path, engine, n=40):
    call = open_test_call(engine, SICHUAN, 2021, batch=2)
    sample = write_sample_workbook(tmp_path / "sc.xlsx", SICHUAN, 2021, n=n, seed=31)
    assert import_applications(sample.path, call).created == n
    return call


def _snapshot(engine, call_id: str) -> dict:
    """What 附件7 carries, per USCC, as stored."""
    with engine.connect() as c:
        rows = c.execute(select(Enterprise.uscc, Enterprise.name, Enterprise.size, Application.facts, Enterprise.id)
                         .join(Application, Application.enterprise_id == Enterprise.id)
                         .where(Application.call_id == call_id, Application.jurisdiction_code.like("5101%"))).all()
        years = {}
        for y in c.execute(select(EnterpriseFinancialYear)):
            years.setdefault(y.enterprise_id, {})[y.fiscal_year] = (y.revenue_wan, y.main_business_revenue_wan)
    keep = ("little_giant_batch", "ownership_type", "niche_field", "main_product_name", "four_base_catalogue", "fills_gap")
    return {r.uscc: (r.name, r.size, {k: r.facts.get(k) for k in keep}, years[r.id]) for r in rows}


@pytest.mark.postgres
def test_annex7_exported_then_imported_gives_the_same_data(tmp_path, engine, clock):
    call = _sichuan(tmp_path, engine)
    result = sichuan_annex7_at(engine, call, tmp_path / "annex7.xlsx")
    stored = _snapshot(engine, call)
    assert result.rows == len(stored) > 0
    before = counts(engine)
    again = import_applications(result.path, call)           # into the same call: every row unchanged
    assert again.problems == [] and again.unchanged == result.rows and counts(engine) == before
    other = open_test_call(engine, SICHUAN, 2021, batch=3)   # into another call: the same enterprises and figures
    moved = import_applications(result.path, other)
    assert moved.problems == [] and moved.created == result.rows
    assert _snapshot(engine, other) == stored


def sichuan_annex7_at(engine, call, path):
    with engine.connect() as c:
        return sichuan_annex7(c, call, CHENGDU, path, scope="all")


def test_annex7_has_the_seed_headers_in_two_rows(tmp_path, engine, clock):
    call = _sichuan(tmp_path, engine, n=10)
    result = sichuan_annex7_at(engine, call, tmp_path / "annex7.xlsx")
    headers, rows = read_back(result.path)
    assert headers[:11] == ["序号", "企业名称", "认定批次", "区（县）", "统一社会信用代码", "企业规模", "企业类型", "行业大类",
                            "具体细分领域名称", "主导产品类别", "主导产品名称"]
    assert "《工业“四基”发展目录》所列重点领域/是否属于" in headers and "国内或国际空白/国内/国际" in headers
    assert {"2018年营业收入", "2019年营业收入", "2020年营业收入", "2020年主营业务收入占营业收入比重"} <= set(headers)
    from openpyxl import load_workbook
    title = load_workbook(result.path).active["A1"].value
    assert title == "成都市第二批重点支持国家级专精特新“小巨人”企业情况汇总表"


def test_annex5_lists_only_what_the_city_recommended(tmp_path, engine, clock):
    call = _sichuan(tmp_path, engine)
    with engine.begin() as c:
        ids = c.execute(select(Application.id).where(Application.call_id == call, Application.jurisdiction_code.like("5101%"))
                        .order_by(Application.ref)).scalars().all()
        c.execute(update(Application).where(Application.id.in_(ids[:2])).values(level=ReviewLevel.provincial,
                                                                                status=ApplicationStatus.pending))
        c.execute(update(Application).where(Application.id == ids[2]).values(level=ReviewLevel.municipal,
                                                                            status=ApplicationStatus.recommended))
        c.execute(update(Application).where(Application.id == ids[3]).values(level=ReviewLevel.municipal,
                                                                            status=ApplicationStatus.rejected))
        names = c.execute(select(Enterprise.name).join(Application, Application.enterprise_id == Enterprise.id)
                          .where(Application.id.in_(ids[:3])).order_by(Application.ref)).scalars().all()
        result = sichuan_annex5(c, call, CHENGDU, tmp_path / "annex5.xlsx")
    headers, rows = read_back(result.path)
    assert headers == ANNEX5 and result.rows == 3
    assert [r[1] for r in rows] == names
    assert all(r[3].split(" ")[0].isdigit() and len(r[3].split(" ")[0]) == 2 for r in rows)   # 2位码及名称


def test_annex6_has_headers_and_says_there_are_no_platform_rows(tmp_path, engine, clock):
    call = _sichuan(tmp_path, engine, n=5)
    with engine.connect() as c:
        result = sichuan_annex6(c, call, CHENGDU, tmp_path / "annex6.xlsx")
    from openpyxl import load_workbook
    sheet = load_workbook(result.path).active
    assert [cell.value for cell in sheet[3]] == ANNEX6 and result.rows == 0 and "无数据行" in result.note


def test_the_79_recommendation_summary_carries_the_class_of_each_enterprise(tmp_path, engine, national_call):
    sample = write_sample_workbook(tmp_path / "n.xlsx", "national-little-giant", 2026, n=30, seed=32)
    import_applications(sample.path, national_call)
    with engine.begin() as c:
        c.execute(update(Application).where(Application.eligible.is_(True)).values(level=ReviewLevel.ministry))
        expected = c.execute(select(Enterprise.name, Application.category).join(Application, Application.enterprise_id == Enterprise.id)
                             .where(Application.eligible.is_(True), Application.jurisdiction_code.like("13%"))
                             .order_by(Application.ref)).all()
        result = recommendation_summary(c, national_call, "130000", tmp_path / "annex3.xlsx")
    headers, rows = read_back(result.path)
    assert headers == ANNEX3 and result.rows == len(expected) > 0
    assert [(r[1], r[4]) for r in rows] == [tuple(e) for e in expected]
    assert {r[4] for r in rows} <= {"a", "b", "c"}


def test_a_notice_list_shows_the_listed_enterprises_in_order_without_removed_ones(tmp_path, engine, hebei_call):
    from datetime import timedelta

    from models.clock import clock as the_clock
    from models.notice import Notice, NoticeEntry, NoticeEntryStatus
    from tasks.reports.summary_tables import NOTICE, notice_list

    sample = write_sample_workbook(tmp_path / "h.xlsx", "hebei-provincial-srdi", 2026, n=6, seed=33)
    import_applications(sample.path, hebei_call)
    now = the_clock.now()
    with engine.begin() as c:
        apps = c.execute(select(Application.id, Application.enterprise_id, Enterprise.name, Enterprise.uscc)
                         .join(Enterprise, Enterprise.id == Application.enterprise_id).order_by(Application.ref)).all()
        notice_id = c.execute(Notice.__table__.insert().values(
            call_id=hebei_call, programme_id="hebei-provincial-srdi", level=ReviewLevel.provincial, jurisdiction_code="130000",
            round=1, title="河北省2026年省级专精特新中小企业拟认定名单公示", opens_at=now, closes_at=now + timedelta(days=7),
            length=5, unit="working_days", opening_day_counts=False, status="open", opened_by="system")).inserted_primary_key[0]
        c.execute(NoticeEntry.__table__.insert(), [
            {"notice_id": notice_id, "application_id": a.id, "enterprise_id": a.enterprise_id, "position": i,
             "status": NoticeEntryStatus.removed if i == 2 else NoticeEntryStatus.listed} for i, a in enumerate(apps, start=1)])
        result = notice_list(c, notice_id, tmp_path / "notice.xlsx")
    headers, rows = read_back(result.path)
    assert headers == NOTICE and result.rows == 5
    kept = [a for i, a in enumerate(apps, start=1) if i != 2]
    assert [(r[1], r[2]) for r in rows] == [(a.name, a.uscc) for a in kept]
    assert all(r[3].endswith("市") and r[4] for r in rows)
