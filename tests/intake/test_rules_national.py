"""国家级专精特新"小巨人" (工信厅企业函〔2021〕79号, seed 003 L861–938): each threshold just above and below."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.intake.rules_helpers import R, judge, row, year

PROFILE = "national-little-giant"
FACTS = {"years_operating": 5, "independent_legal_person": True, "is_sme": True, "provincial_srdi": True,
         "niche_market_years": 5, "niche_market_rank_province": 1, "invention_patents": 3, "other_ip_count": 0,
         "rd_institution": True, "info_system_core_business": True, "own_brand": True, "quality_cert": True,
         "equity_financing_2y_wan": 0, "key_tech_breakthrough": False}


def years(start=10000, *, growth=10, debt=50, share=90, rd=4, last_revenue=None):
    """R−2 … R: revenue ``start`` growing ``growth``% a year (exact decimals); R−1 and R spend ``rd``% on R&D."""
    factor = 1 + Decimal(str(growth)) / 100
    revenue = Decimal(str(start))
    out = {}
    for y in (R - 2, R - 1, R):
        if y == R and last_revenue is not None:
            revenue = Decimal(str(last_revenue))
        out[y] = year(revenue, main=revenue * Decimal(str(share)) / 100, rd=revenue * Decimal(str(rd)) / 100,
                      net=revenue / 10, assets=1000, liabilities=Decimal(str(debt)) * 10, employees=200, rd_staff=40)
        revenue *= factor
    return out


def test_a_sound_class_a_enterprise_is_eligible():
    outcome = judge(PROFILE, years(), FACTS)
    assert outcome.eligible is True and outcome.category == "a"


@pytest.mark.parametrize("debt, ok", [(70, True), (70.01, False)])
def test_asset_liability_ratio_at_most_70_percent(debt, ok):
    """79号 L894: 资产负债率不高于70%."""
    outcome = judge(PROFILE, years(debt=debt), FACTS)
    assert row(outcome, "debt-ratio").passed is ok and outcome.eligible is ok


@pytest.mark.parametrize("growth, ok", [(5, True), (4.99, False)])
def test_average_growth_of_main_business_or_net_profit_at_least_5_percent(growth, ok):
    """79号 L892: 近2年主营业务收入或净利润的平均增长率达到5%以上."""
    outcome = judge(PROFILE, years(growth=growth), FACTS)
    assert row(outcome, "economic-growth").passed is ok and outcome.eligible is ok
    assert "平均主营业务收入增长率" in row(outcome, "growth-main-business").message


@pytest.mark.parametrize("share, ok", [(70, True), (69.99, False)])
def test_main_business_share_at_least_70_percent(share, ok):
    """79号 L898: 主营业务收入占营业收入达70%以上."""
    outcome = judge(PROFILE, years(share=share), FACTS)
    assert row(outcome, "main-business-share").passed is ok and outcome.eligible is ok


@pytest.mark.parametrize("fact, value, ok", [
    ("niche_market_years", 3, True), ("niche_market_years", 2, False),          # L896 细分市场3年及以上
    ("niche_market_rank_province", 3, True), ("niche_market_rank_province", 4, False),  # L898–900 全省前3位
])
def test_specialisation_thresholds(fact, value, ok):
    outcome = judge(PROFILE, years(), {**FACTS, fact: value})
    assert outcome.eligible is ok


@pytest.mark.parametrize("invention, other, ok", [(2, 0, True), (1, 4, False), (1, 5, True)])
def test_two_invention_patents_or_five_other_ip(invention, other, ok):
    """79号 L904: 有效发明专利2项或实用新型、外观设计专利、软件著作权5项及以上."""
    outcome = judge(PROFILE, years(), {**FACTS, "invention_patents": invention, "other_ip_count": other})
    assert row(outcome, "ip").passed is ok and outcome.eligible is ok


@pytest.mark.parametrize("revenue, category", [(10000, "a"), (9999.99, "b"), (5000, "b"), (4999.99, "c")])
def test_revenue_bands_choose_the_class(revenue, category):
    """79号 L916–932: a ≥1亿元; b 5000万元（含）—1亿元（不含）; c 不足5000万元 (上年度营业收入)."""
    assert judge(PROFILE, years(last_revenue=revenue), FACTS).category == category


@pytest.mark.parametrize("start, rd, ok", [(10000, 3, True), (10000, 2.99, False), (5000, 6, True), (5000, 5.99, False)])
def test_class_a_needs_3_percent_and_class_b_6_percent_rd_over_two_years(start, rd, ok):
    """79号 L918–930: a类 近2年研发经费支出占营业收入比重不低于3%; b类 不低于6%."""
    outcome = judge(PROFILE, years(start, rd=rd), FACTS)
    assert outcome.eligible is ok and outcome.category == ("a" if start == 10000 else "b")
    message = row(outcome, "a-rd" if start == 10000 else "b-rd").message
    assert message.startswith(f"近两年（{R - 1}—{R}年）研发经费占营业收入比重")
    assert ("≥" in message) is ok and (("<" in message) is not ok)


def test_the_rd_ratio_is_never_shown_equal_to_a_threshold_it_misses():
    outcome = judge(PROFILE, years(rd=2.9999), FACTS)
    assert row(outcome, "a-rd").message.endswith("2.9999% < 3%")


@pytest.mark.parametrize("change, ok", [
    ({}, True),
    ({"equity_financing_2y_wan": 7999.99}, False),       # L934 新增股权融资8000万元（含）以上
])
def test_class_c_needs_equity_financing_of_8000(change, ok):
    facts = {**FACTS, "equity_financing_2y_wan": 8000, "key_tech_breakthrough": True, **change}
    data = years(4000, rd=40, growth=5)                     # 近2年研发投入 ≥3000万元 (L936)
    for y in data.values():
        y["rd_staff"] = 100                                 # 研发人员占比 50% (L936)
    outcome = judge(PROFILE, data, facts)
    assert outcome.category == "c" and outcome.eligible is ok


def test_class_c_rd_staff_share_boundary():
    facts = {**FACTS, "equity_financing_2y_wan": 8000, "key_tech_breakthrough": True}
    data = years(4000, rd=40, growth=5)
    data[R]["rd_staff"] = 99                                # 49.5% < 50%
    assert judge(PROFILE, data, facts).eligible is False


@pytest.mark.parametrize("accident_year, ok", [(R - 2, False), (R - 3, True)])
def test_a_major_accident_in_the_last_three_years_excludes(accident_year, ok):
    """79号 L886–888: 近三年发生过重大安全、质量、环境污染事故 不得被推荐."""
    outcome = judge(PROFILE, years(), {**FACTS, "major_accident_year": accident_year})
    assert outcome.eligible is ok
    assert row(outcome, "exclusion:major-accident").passed is ok


def test_a_single_champion_is_not_recommended():
    """79号 L991–992: 已获制造业单项冠军的企业不再推荐."""
    outcome = judge(PROFILE, years(), {**FACTS, "titles": ["制造业单项冠军"]})
    assert outcome.eligible is False and "单项冠军" in outcome.rows[0].message


@pytest.mark.parametrize("operating, ok", [(3, True), (2, False)])
def test_three_years_of_operation(operating, ok):
    """79号 L863: 连续经营3年以上."""
    assert judge(PROFILE, years(), {**FACTS, "years_operating": operating}).eligible is ok


def test_a_missing_figure_leaves_the_application_for_a_person_to_check():
    data = years()
    del data[R - 1]["rd_expense_wan"]
    outcome = judge(PROFILE, data, FACTS)
    assert outcome.eligible is None
    assert f"缺少{R - 1}年研发经费总额" in row(outcome, "a-rd").message
    assert outcome.rows[0].message.startswith("待核实")
