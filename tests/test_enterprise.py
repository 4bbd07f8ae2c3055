"""统一社会信用代码 (GB 32100-2015) and the computed ratios."""

from decimal import Decimal

import pytest

from models.enterprise import (
    EnterpriseFinancialYear,
    InvalidUSCC,
    asset_liability_ratio_pct,
    growth_pct,
    main_business_share_pct,
    normalise_uscc,
    rd_ratio_pct,
)

VALID = "91110000600037341L"  # published example with a correct check character


def test_valid_uscc_is_accepted_and_normalised():
    assert normalise_uscc(" 91110000600037341l ") == VALID


def test_wrong_check_character_is_rejected_with_the_reason():
    with pytest.raises(InvalidUSCC, match="校验位错误"):
        normalise_uscc(VALID[:-1] + "M")


def test_wrong_length_is_rejected_with_the_reason():
    with pytest.raises(InvalidUSCC, match="应为18位"):
        normalise_uscc(VALID[:-2])


def test_ratios_are_computed_from_raw_figures():
    year = EnterpriseFinancialYear(
        enterprise_id=1, fiscal_year=2025, revenue_wan=Decimal("12000"), main_business_revenue_wan=Decimal("9000"),
        rd_expense_wan=Decimal("480"), total_assets_wan=Decimal("20000"), total_liabilities_wan=Decimal("13000"),
    )
    assert main_business_share_pct(year) == Decimal("75.00")
    assert rd_ratio_pct(year) == Decimal("4.00")
    assert asset_liability_ratio_pct(year) == Decimal("65.00")


def test_growth_is_undefined_on_a_non_positive_base():
    assert growth_pct(Decimal("110"), Decimal("100")) == Decimal("10.00")
    assert growth_pct(Decimal("110"), Decimal("0")) is None
    assert growth_pct(Decimal("110"), Decimal("-5")) is None
