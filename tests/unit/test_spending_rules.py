"""Spending rules: stock shards, per-member limits, checkout deduction, coupon discounts, due days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyalty.errors import CouponUnavailable, LimitReached
from loyalty.member import Coupon, Profile
from loyalty.program import PointValue, Reward
from loyalty.rules import due, spending

NOW = datetime(2026, 5, 1, tzinfo=UTC)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.integers(0, 10**6))
def test_stock_shards_add_up_to_the_stock(stock: int) -> None:
    shards = spending.allotments(stock)
    assert sum(shards) == stock and len(shards) <= spending.STOCK_SHARDS
    assert max(shards) - min(shards) <= 1


def test_per_member_limit() -> None:
    reward = Reward(id="mug", name="Mug", cost_points=10, fulfilment="goods", per_member_limit=2)
    member = Profile(program_id="p", member_id="m", enrolled_at=NOW, redeemed={"mug": 1})
    spending.check_limit(reward, member, 1)
    with pytest.raises(LimitReached):
        spending.check_limit(reward, member, 2)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.integers(1, 10**9), st.integers(1, 10**7), st.integers(1, 1000), st.integers(1, 1000), st.integers(1, 100))
def test_deduction_never_exceeds_points_or_the_share(order: int, points: int, per: int, worth: int, share: int) -> None:
    value = PointValue(points=per, worth_minor=worth, max_order_share_percent=share)
    used, off = spending.deduction(value, order, points)
    assert 0 <= used <= points
    assert off <= order * share // 100
    # The points charged buy at least the money off, and one point fewer would not.
    assert off <= used * worth // per
    assert used == 0 or (used - 1) * worth // per < off


def test_deduction_at_a_stable_value() -> None:
    value = PointValue(points=100, worth_minor=100, max_order_share_percent=50)
    assert spending.deduction(value, 10000, 8000) == (5000, 5000)
    assert spending.deduction(value, 10000, 1234) == (1234, 1234)


def coupon(**kw: object) -> Coupon:
    base = {"coupon_id": "c", "template_id": "t", "name": "n", "kind": "amount_off", "value_minor": 1000}
    return Coupon(
        **{**base, "valid_from": NOW - timedelta(days=1), "valid_until": NOW + timedelta(days=1), "source": "s", **kw}
    )


def test_discounts_by_kind() -> None:
    assert spending.discount(coupon(), 600, NOW) == 600  # never more than the order
    assert spending.discount(coupon(kind="percent_off", percent_off=15, max_off_minor=3000), 100000, NOW) == 3000
    assert spending.discount(coupon(kind="percent_off", percent_off=15), 10001, NOW) == 1500
    assert spending.discount(coupon(kind="free_shipping", value_minor=0), 10, NOW) == 0


@pytest.mark.parametrize(
    "kw",
    [
        {"status": "used"},
        {"valid_from": NOW + timedelta(hours=1)},
        {"valid_until": NOW - timedelta(seconds=1)},
        {"min_spend_minor": 5001},
    ],
)
def test_coupon_refusals(kw: dict) -> None:
    with pytest.raises(CouponUnavailable):
        spending.discount(coupon(**kw), 5000, NOW)


def test_due_days() -> None:
    held = {"2026-06-30": 5, "2026-09-30": 7, "9999-12-31": 1}
    assert due.expire_day(held) == date(2026, 7, 1)
    assert due.remind_day(held, date(2026, 5, 1), None, None) == "2026-05-31/2026-06-30"
    assert due.remind_day(held, date(2026, 6, 20), None, None) == "2026-06-20/2026-06-30"  # closer than 30 days
    assert due.remind_day(held, date(2026, 6, 25), None, "2026-06-20/2026-06-30") == "2026-06-20/2026-06-30"
    assert due.remind_day(held, date(2026, 6, 25), "2026-06-30", None) is None  # announced already
    assert due.expire_day({"9999-12-31": 3}) is None
