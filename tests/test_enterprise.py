"""统一社会信用代码 (GB 32100-2015) and the computed ratios."""

from decimal import Decimal

import pytest

from models.enterprise import InvalidUSCC, normalise_uscc
from models.metrics import get_metric
from tasks.eligibility.metrics import YearValues

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
    year = YearValues({2025: {"revenue_wan": Decimal("12000"), "main_business_revenue_wan": Decimal("9000"),
                              "rd_expense_wan": Decimal("480"), "total_assets_wan": Decimal("20000"),
                              "total_liabilities_wan": Decimal("13000")}})
    assert year.value(get_metric("main_business_share_pct"), 2025) == Decimal("75.00")
    assert year.value(get_metric("rd_ratio_pct"), 2025) == Decimal("4.00")
    assert year.value(get_metric("asset_liability_ratio_pct"), 2025) == Decimal("65.00")


def test_growth_is_undefined_on_a_non_positive_base():
    growth = get_metric("revenue_growth_pct")

    def of(previous: str):
        return YearValues({2024: {"revenue_wan": Decimal(previous)}, 2025: {"revenue_wan": Decimal("110")}}).value(growth, 2025)

    assert of("100") == Decimal("10.00")
    assert of("0") is None
    assert of("-5") is None
