"""河北省"专精特新"中小企业 (冀工信中小函〔2021〕116号, seed 003 L10161–10252): all basic + any one special."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.intake.rules_helpers import R, judge, row, year

PROFILE = "hebei-provincial-srdi"
BASIC = {"in_cultivation_pool": True, "registered_in_province": True, "years_operating": 4, "development_plan_2y": True,
         "industrial_enterprise": True, "rd_institution_grade": "B"}
NO_SPECIAL = {"main_product_sales_share_pct": 40, "main_business_ip_count": 0, "product_standard": False,
              "developed_country_cert": False, "quality_cert": False, "trademark_years": 1, "special_resources": False,
              "ip_or_proprietary_tech": 0, "innovation_new_format": False, "info_system_core_business": False}
SPECIALISED = {**NO_SPECIAL, "main_product_sales_share_pct": 60, "main_business_ip_count": 1}


def years(r1=1500, r=1800, rd_pct=3):
    """R−2, R−1, R revenues (万元) with main business = revenue, R&D ``rd_pct``% of R's revenue."""
    r2 = Decimal(r1) * Decimal("0.9")
    return {R - 2: year(r2), R - 1: year(r1), R: year(r, rd=Decimal(str(r)) * Decimal(str(rd_pct)) / 100)}


def test_all_basic_and_one_special_condition_is_eligible():
    assert judge(PROFILE, years(), {**BASIC, **SPECIALISED}).eligible is True


def test_all_basic_but_no_special_condition_is_not():
    outcome = judge(PROFILE, years(rd_pct=1), {**BASIC, **NO_SPECIAL})
    assert outcome.eligible is False and row(outcome, "special").passed is False


@pytest.mark.parametrize("r1, r, ok", [(1000, 1000.01, True), (999.99, 1500, False), (1500, 999.99, False)])
def test_revenue_of_each_of_the_last_two_years_at_least_10_million(r1, r, ok):
    """116号 L10169: 近两年营业收入均达到1000万元以上."""
    outcome = judge(PROFILE, years(r1, r), {**BASIC, **SPECIALISED})
    assert row(outcome, "basic-revenue").passed is ok
    assert f"近两年（{R - 1}—{R}年）每年" in row(outcome, "basic-revenue").message


def test_average_main_business_growth_must_be_positive():
    """116号 L10169–10171: 主营业务收入平均增长率保持正增长 (0% is not growth)."""
    flat = {R - 2: year(1500), R - 1: year(1500), R: year(1500)}
    outcome = judge(PROFILE, flat, {**BASIC, **SPECIALISED})
    assert row(outcome, "basic-growth").passed is False and outcome.eligible is False
    assert row(outcome, "basic-growth").message.endswith("0% ≤ 0%")


@pytest.mark.parametrize("share, ok", [(60, True), (59.9, False)])
def test_specialised_main_product_share_at_least_60_percent(share, ok):
    """116号 L10187: 主导产品销售收入占本企业销售收入的60%以上."""
    outcome = judge(PROFILE, years(rd_pct=1), {**BASIC, **SPECIALISED, "main_product_sales_share_pct": share})
    assert row(outcome, "specialised").passed is ok and outcome.eligible is ok


@pytest.mark.parametrize("rd_pct, ok", [(2, False), (2.01, True)])
def test_distinctive_rd_must_exceed_2_percent(rd_pct, ok):
    """116号 L10206: 研发投入占销售收入的比例超过2% — "超过" is strictly more."""
    facts = {**BASIC, **NO_SPECIAL, "special_resources": True, "ip_or_proprietary_tech": 1}
    outcome = judge(PROFILE, years(rd_pct=rd_pct), facts)
    assert row(outcome, "ds-rd").passed is ok and outcome.eligible is ok


@pytest.mark.parametrize("grade, ok", [("C", True), ("D", False)])
def test_industrial_enterprises_need_a_grade_c_rd_institution(grade, ok):
    """116号 L10179–10181: 工业企业设立C级以上研发机构."""
    outcome = judge(PROFILE, years(), {**BASIC, **SPECIALISED, "rd_institution_grade": grade})
    assert outcome.eligible is ok


def test_fast_track_waives_the_pool_and_two_years_for_a_key_field_enterprise():
    """116号 第八条 L10236–10242: 重点领域企业经营满一年即可申报."""
    newcomer = {**BASIC, **SPECIALISED, "in_cultivation_pool": False, "years_operating": 1}
    assert judge(PROFILE, years(), newcomer).eligible is False
    outcome = judge(PROFILE, years(), {**newcomer, "four_base_catalogue": True})
    assert outcome.eligible is True
    assert row(outcome, "basic-years").waived and row(outcome, "relaxation:fast-track").passed
    assert judge(PROFILE, years(), {**newcomer, "four_base_catalogue": True, "years_operating": 0}).eligible is False


@pytest.mark.parametrize("accident_year, ok", [(R - 2, False), (R - 3, True)])
def test_any_accident_in_the_last_three_years_excludes(accident_year, ok):
    """116号 第九条 L10250: 近三年发生过安全、质量、环境污染事故 (not only major ones)."""
    outcome = judge(PROFILE, years(), {**BASIC, **SPECIALISED, "accident_year": accident_year})
    assert outcome.eligible is ok
