"""A purchase's breakdown multiplies out, in one number format (rules/earning.py)."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyalty.rules import earning
from tests.unit.test_earning import DEMO, earn_rule

FAST = settings(max_examples=300, deadline=None, derandomize=True)


@pytest.mark.parametrize(
    ("value", "text"),
    [("2", "2"), ("3.0", "3"), ("3.60", "3.6"), ("1.2", "1.2"), ("1.125", "1.125"), ("2E+1", "20"), ("0.500", "0.5")],
)
def test_a_decimal_prints_without_exponent_or_trailing_zeros(value: str, text: str) -> None:
    assert earning.decimal_text(Decimal(value)) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [(Fraction(77, 2), "38.5"), (Fraction(0), "0"), (Fraction(10, 3), "10/3"), (Fraction(7, 6), "7/6")],
)
def test_an_exact_number_is_a_decimal_when_one_is_exact_else_a_fraction(value: Fraction, text: str) -> None:
    assert earning.exact_text(value) == text


def test_a_long_exact_decimal_is_not_rounded() -> None:
    # 10^18 / 2^29 has 30 significant digits: past Decimal's default 28-digit context.
    value = Fraction(10**18, 2**29)
    assert Fraction(earning.exact_text(value)) == value


def test_the_issues_example_multiplies_out() -> None:
    b = earning.breakdown(DEMO, 3850, {"member-day": Decimal(2)}, Decimal(2))
    assert b == {
        "base": 38,
        "base_exact": "38.5",
        "multiplier": "2",
        "multipliers": {"member-day": "2"},
        "stacking": "max",
        "earned_exact": "77",
        "rounding": "down",
        "earned": 77,
        "calculation": "3850 x 1 / 100 = 38.5; 38.5 x 2 = 77; rounded down: 77",
    }


def test_an_order_below_the_minimum_says_so() -> None:
    b = earning.breakdown(earn_rule(min_order_minor=5000), 4999, {}, Decimal(1))
    assert (b["base"], b["base_exact"], b["earned_exact"], b["earned"]) == (0, "0", "0", 0)
    assert b["calculation"] == "4999 is below min_order_minor 5000: 0"


factors = st.decimals(min_value=1, max_value=100, places=3)


@FAST
@given(st.integers(1, 10**12), st.integers(0, 10**6), st.integers(1, 10**9), factors)
def test_the_breakdown_multiplies_out_and_agrees_with_the_points(
    amount: int, per: int, unit: int, factor: Decimal
) -> None:
    rule = earn_rule(points_per_unit=per, unit_minor=unit)
    b = earning.breakdown(rule, amount, {"x": factor}, factor)
    assert Fraction(b["base_exact"]) * Fraction(b["multiplier"]) == Fraction(b["earned_exact"])
    assert math.floor(Fraction(b["earned_exact"])) == b["earned"]
    assert math.floor(Fraction(b["base_exact"])) == b["base"]
    assert (b["base"], b["earned"]) == earning.purchase_points(rule, amount, factor)
    assert Fraction(b["multiplier"]) == factor and b["multipliers"] == {"x": b["multiplier"]}
    for text in (b["base_exact"], b["earned_exact"], b["multiplier"]):
        assert "e" not in text.lower() and not (("." in text) and text.endswith("0")), text
