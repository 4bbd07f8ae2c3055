"""Beijing, Qinghai and Sichuan profiles and the 财建〔2021〕2号 key-enterprise conditions at their thresholds."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from tests.intake.rules_helpers import R, judge, row, year

# ---------------------------------------------------------------- Beijing (seed 003 L7190–7271)
BEIJING = "beijing-provincial-srdi"
BJ_FACTS = {"registered_in_province": True, "years_operating": 3, "independent_legal_person": True, "is_sme": True,
            "priority_industry": True, "latest_valuation_wan": 0}


def bj_years(share=80, revenue=2000, net=100, growth=5):
    g = 1 + Decimal(growth) / 100
    r0 = Decimal(revenue) / g / g
    return {y: year(rev, main=rev * Decimal(str(share)) / 100, net=Decimal(net), rd=rev / 20)
            for y, rev in ((R - 2, r0), (R - 1, r0 * g), (R, Decimal(revenue)))}


@pytest.mark.parametrize("share, ok", [(50, True), (49.99, False)])
def test_beijing_main_business_share_at_least_50_percent(share, ok):
    """北京自荐通知 L7210: 上年度主营业务收入占营业收入比重50%以上."""
    assert judge(BEIJING, bj_years(share=share), BJ_FACTS).eligible is ok


@pytest.mark.parametrize("revenue, net, valuation, ok", [
    (1500, 0, 0, True), (1499.99, 0, 0, False),            # 上年度营业收入1500万元及以上
    (1000, 300, 0, True), (1000, 299.99, 0, False),         # 近两年净利润累计不低于600万元
    (1000, 0, 10000, True), (1000, 0, 9999, False),         # 最新一轮融资估值不低于1亿元
])
def test_beijing_one_of_three_business_conditions(revenue, net, valuation, ok):
    """北京自荐通知 L7214–7220: 经营条件须符合之一."""
    outcome = judge(BEIJING, bj_years(revenue=revenue, net=net), {**BJ_FACTS, "latest_valuation_wan": valuation})
    assert row(outcome, "business").passed is ok and outcome.eligible is ok


def test_beijing_third_party_items_are_recorded_but_do_not_decide():
    """L7222–7255 are evaluated by the third party: a 2% R&D ratio is recorded, not disqualifying."""
    outcome = judge(BEIJING, bj_years(), BJ_FACTS)
    assert outcome.eligible is True and row(outcome, "in-rd-ratio").passed is True
    low = bj_years()
    for figures in low.values():
        figures["rd_expense_wan"] = figures["revenue_wan"] / 50
    outcome = judge(BEIJING, low, BJ_FACTS)
    assert outcome.eligible is True and row(outcome, "in-rd-ratio").passed is False


@pytest.mark.parametrize("growth, points", [(10, 1), (9.9, 0)])
def test_beijing_growth_of_10_percent_earns_a_bonus_point(growth, points):
    """L7259: 近两年主营业务或净利润平均增长率10%以上 (激励条件)."""
    assert judge(BEIJING, bj_years(growth=growth), BJ_FACTS).points == points


# ---------------------------------------------------------------- Qinghai (seed 003 L29519–29617)
QINGHAI = "qinghai-provincial-srdi"
QH_FACTS = {"registered_in_province": True, "years_operating": 5, "independent_legal_person": True, "is_sme": True,
            "industrial_enterprise": True, "quality_cert": True, "info_system_core_business": True}


def qh_years(revenue=2000, debt=60, rd_pct=4, growth=5):
    g = 1 + Decimal(str(growth)) / 100
    r = Decimal(str(revenue))
    out = {}
    for y, rev in ((R, r), (R - 1, r / g), (R - 2, r / g / g)):
        out[y] = year(rev, rd=rev * Decimal(str(rd_pct)) / 100, net=rev / 10, assets=100, liabilities=debt,
                      employees=100, rd_staff=5)
    return out


@pytest.mark.parametrize("revenue, ok", [(1000, True), (999.99, False)])
def test_qinghai_revenue_at_least_10_million(revenue, ok):
    """青海认定管理办法第五条 L29531: 年营业收入1000万元（含）以上."""
    assert judge(QINGHAI, qh_years(revenue=revenue), QH_FACTS).eligible is ok


@pytest.mark.parametrize("debt, ok", [(70, True), (70.01, False)])
def test_qinghai_asset_liability_ratio_at_most_70(debt, ok):
    """L29533: 资产负债率不高于70%."""
    assert judge(QINGHAI, qh_years(debt=debt), QH_FACTS).eligible is ok


@pytest.mark.parametrize("rd_pct, ok", [(3, True), (2.99, False)])
def test_qinghai_rd_at_least_3_percent_of_main_business_or_10_percent_staff(rd_pct, ok):
    """L29555–29560: 研发投入占主营业务收入不低于3%，或科技人员占职工总数不低于10% (here 5%)."""
    assert judge(QINGHAI, qh_years(rd_pct=rd_pct), QH_FACTS).eligible is ok


def test_qinghai_priority_fields_relax_at_most_two_quantitative_indicators():
    """L29535–29547: 可放宽基本条件第1、2条，但不超过2项量化指标."""
    weak = qh_years(revenue=900, debt=75)                  # fails two quantified indicators
    assert judge(QINGHAI, weak, QH_FACTS).eligible is False
    outcome = judge(QINGHAI, weak, {**QH_FACTS, "four_base_catalogue": True})
    assert outcome.eligible is True and row(outcome, "b2-revenue").waived and row(outcome, "b2-debt").waived
    weaker = qh_years(revenue=900, debt=75)
    outcome = judge(QINGHAI, weaker, {**QH_FACTS, "four_base_catalogue": True, "years_operating": 2})
    assert outcome.eligible is False                        # a third failing indicator is not waived


@pytest.mark.parametrize("accident_year, ok", [(R - 1, False), (R - 2, True)])
def test_qinghai_accident_in_the_last_two_years_excludes(accident_year, ok):
    """L29608: 近两年发生过安全、质量和环境污染事故."""
    assert judge(QINGHAI, qh_years(), {**QH_FACTS, "accident_year": accident_year}).eligible is ok


# ---------------------------------------------------------------- Sichuan batch 2 (seed 004 L9–26) and 财建〔2021〕2号
SICHUAN = "sichuan-key-little-giant-batch2"
KEY = {"little_giant_recognised": True, "four_base_catalogue": True, "invention_patents": 2, "quality_cert": True,
       "rd_institution": False, "standards_count": 0,
       "listing_plan": False}


def key_years(share=80, rd_pct=5, growth=5):
    g = 1 + Decimal(str(growth)) / 100
    out = {}
    revenue = Decimal(8000)
    for y in (R - 2, R - 1, R):
        out[y] = year(revenue, main=revenue * Decimal(str(share)) / 100, rd=revenue * Decimal(str(rd_pct)) / 100)
        revenue *= g
    return out


@pytest.mark.parametrize("profile", [SICHUAN, "key-little-giant-funding"])
@pytest.mark.parametrize("share, ok", [(70, True), (69.99, False)])
def test_key_enterprises_need_70_percent_main_business(profile, share, ok):
    """004 L20 / 财建〔2021〕2号 L425–427: 主营业务收入占营业收入比重70%以上."""
    assert judge(profile, key_years(share=share), KEY).eligible is ok


@pytest.mark.parametrize("profile", [SICHUAN, "key-little-giant-funding"])
@pytest.mark.parametrize("rd_pct, ok", [(4, True), (3.99, False)])
def test_key_enterprises_need_4_percent_rd_over_two_years(profile, rd_pct, ok):
    """004 L22 / 财建〔2021〕2号 L429: 截至上年末的近2年研发经费支出占营业收入比重4%以上."""
    assert judge(profile, key_years(rd_pct=rd_pct), KEY).eligible is ok


@pytest.mark.parametrize("patents, ok", [(2, True), (1, False)])
def test_key_enterprises_two_invention_patents_or_an_institution_or_a_standard(patents, ok):
    """004 L22: 有效发明专利2项以上、研发机构、标准1个以上 三项之一."""
    assert judge(SICHUAN, key_years(), {**KEY, "invention_patents": patents}).eligible is ok
    assert judge(SICHUAN, key_years(), {**KEY, "invention_patents": patents, "standards_count": 1}).eligible is True


def test_sichuan_batch_2_does_not_require_growth():
    """004 L26: 上年主营业务收入增长（不作为第二批申报条件）."""
    shrinking = key_years(growth=-5)
    outcome = judge(SICHUAN, shrinking, KEY)
    assert outcome.eligible is True and row(outcome, "E5").passed is False


def test_the_central_conditions_require_growth_except_in_batch_1():
    """财建〔2021〕2号 L436: 上年主营业务收入增长（不作为第一批申报条件）；或有上市计划."""
    shrinking = key_years(growth=-5)
    assert judge("key-little-giant-funding", shrinking, KEY, batch=2).eligible is False
    assert judge("key-little-giant-funding", shrinking, {**KEY, "listing_plan": True}, batch=2).eligible is True
    assert judge("key-little-giant-funding", shrinking, KEY, batch=1).eligible is True


@pytest.mark.parametrize("board, ok", [("科创板", False), ("深交所创业板", False), ("新三板", True), (None, True)])
def test_listed_enterprises_are_excluded(board, ok):
    """004 L10: 不含已在上交所主板、科创板和深交所主板、中小板、创业板，以及境外公开发行股票的企业 (新三板 is not listed there)."""
    assert judge(SICHUAN, key_years(), KEY, listed_board=board).eligible is ok


def test_a_batch_1_key_enterprise_cannot_apply_again():
    """004 L10: 不含已申报成功第一批重点"小巨人"的企业."""
    earlier = (("key_little_giant", "active", "sichuan-key-little-giant-batch2-2021-1"),)
    outcome = judge(SICHUAN, key_years(), KEY, recognitions=earlier, call_id="sichuan-key-little-giant-batch2-2021-2")
    assert outcome.eligible is False and row(outcome, "exclusion:E7-batch1-key").passed is False


def test_a_banned_enterprise_is_excluded_until_the_ban_ends():
    """79号 L1059–1063: 弄虚作假……三年内不得申请."""
    facts = {"years_operating": 5, "independent_legal_person": True, "is_sme": True}
    outcome = judge("national-little-giant", {}, facts, banned_until=date(2026, 3, 2))
    assert row(outcome, "exclusion:banned").passed is False
    outcome = judge("national-little-giant", {}, facts, banned_until=date(2026, 3, 1))
    assert row(outcome, "exclusion:banned").passed is True
