"""Spending rules: stock shards, per-member limits, checkout deduction, coupon discounts, due days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyalty.errors import CouponUnavailable, LimitReached
from loyalty.member import Coupon, Hold, Profile
from loyalty.program import PointValue, Program, Reward
from loyalty.rules import checkout, due, spending
from loyalty.rules.posting import Change
from tests.support import program

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


def test_a_coupon_not_valid_yet_shows_available_but_not_usable_now() -> None:
    """The contract's three statuses only: one not valid yet is `available`, `usable_now` false, and the
    till still refuses it as not valid yet."""
    later = coupon(valid_from=NOW + timedelta(hours=1))
    assert (spending.shown_status(later, NOW), spending.usable_now(later, NOW)) == ("available", False)
    assert (spending.shown_status(coupon(), NOW), spending.usable_now(coupon(), NOW)) == ("available", True)
    past = coupon(valid_until=NOW - timedelta(seconds=1))
    assert (spending.shown_status(past, NOW), spending.usable_now(past, NOW)) == ("expired", False)
    assert not spending.usable_now(coupon(status="used"), NOW)
    with pytest.raises(CouponUnavailable, match="not valid yet"):
        spending.discount(later, 5000, NOW)


def test_a_coupon_on_some_lines_counts_them_alone() -> None:
    """`lines`: the amounts of the lines the coupon applies to (the till's `applies_to`)."""
    five = coupon(min_spend_minor=1000)  # 10.00 off
    assert spending.discount(five, 9000, NOW, lines=[600, 500]) == 1000
    assert spending.discount(coupon(), 9000, NOW, lines=[300]) == 300  # never more than its lines
    tenth = coupon(kind="percent_off", percent_off=10)
    assert spending.discount(tenth, 9000, NOW, lines=[2000]) == 200
    for lines, field in (([900], "items"), ([], "items")):
        with pytest.raises(CouponUnavailable) as refused:
            spending.discount(five, 9000, NOW, lines=lines)
        assert refused.value.details[0]["field"] == field


def test_a_held_coupon_is_refused_after_used() -> None:
    with pytest.raises(CouponUnavailable, match="held by an open checkout"):
        spending.discount(coupon(), 5000, NOW, held=True)
    with pytest.raises(CouponUnavailable, match="coupon is used"):
        spending.discount(coupon(status="used"), 5000, NOW, held=True)


def test_applies_reads_the_template_s_applies_to() -> None:
    doc = program("demo")
    doc["coupons"]["tea-10"] = {
        "name": "10% tea",
        "kind": "percent_off",
        "percent_off": 10,
        "valid_days": 7,
        "applies_to": "i.category == 'tea' && i.unit_price_minor >= 500 && member.tier == 'star'",
    }
    doc["campaigns"] = []
    p = Program.model_validate(doc)
    member = Profile(program_id="p", member_id="m", enrolled_at=NOW, tier_id="star")
    items = [
        {"sku": "sencha", "category": "tea", "quantity": 2, "amount_minor": 1001},  # 5.00 a unit
        {"sku": "dust", "category": "tea", "quantity": 3, "amount_minor": 1000},  # 3.33 a unit
        {"sku": "cake", "category": None, "amount_minor": 5000},
    ]
    assert checkout.applies(p, member, "tea-10", items, NOW) == [True, False, False]
    assert checkout.applies(p, member.model_copy(update={"tier_id": "gold"}), "tea-10", items, NOW) == [False] * 3
    assert checkout.applies(p, member, "welcome-10", items, NOW) is None  # no applies_to: the whole order


def test_due_days() -> None:
    held = {"2026-06-30": 5, "2026-09-30": 7, "9999-12-31": 1}
    assert due.expire_day(held) == date(2026, 7, 1)
    assert due.remind_day(held, date(2026, 5, 1), None, None) == "2026-05-31/2026-06-30"
    assert due.remind_day(held, date(2026, 6, 20), None, None) == "2026-06-20/2026-06-30"  # closer than 30 days
    assert due.remind_day(held, date(2026, 6, 25), None, "2026-06-20/2026-06-30") == "2026-06-20/2026-06-30"
    assert due.remind_day(held, date(2026, 6, 25), "2026-06-30", None) is None  # announced already
    assert due.expire_day({"9999-12-31": 3}) is None


# ---- a redemption cancelled --------------------------------------------------------------------------


def _coupon(cid: str, status: str = "available") -> Coupon:
    until = NOW + timedelta(days=14)
    return Coupon(
        coupon_id=cid,
        template_id="free-coffee",
        name="Coffee",
        kind="gift",
        valid_from=NOW,
        valid_until=until,
        source="x",
    ).model_copy(update={"status": status})


def test_a_cancel_refuses_a_used_or_held_coupon_naming_it() -> None:
    held = Hold(coupon_ids=["c2"], expires_at=NOW + timedelta(minutes=15))
    member = Profile(program_id="p", member_id="m", enrolled_at=NOW, holds={"k1": held})
    with pytest.raises(CouponUnavailable) as used:
        spending.check_unused(["c1", "c2"], [_coupon("c1", "used"), _coupon("c2")], member, NOW)
    assert used.value.details == [{"field": "coupon_id", "coupon_id": "c1", "status": "used"}]
    with pytest.raises(CouponUnavailable) as refused:
        spending.check_unused(["c1", "c2"], None, member, NOW)  # not read: the holds are on the profile
    assert refused.value.details[0]["status"] == "held" and "c2" in refused.value.message
    later = NOW + timedelta(minutes=15)  # the checkout's hold has ended
    assert spending.check_unused(["c1", "c2"], None, member, later) == ["c1", "c2"]
    assert spending.check_unused(["c1", "c2"], [_coupon("c2")], member, later) == ["c2"]  # c1 is gone


def test_a_cancel_restores_into_the_buckets_and_gives_the_count_back() -> None:
    doc = Program.model_validate(program("points-only"))
    member = Profile(
        program_id="p", member_id="m", enrolled_at=NOW, buckets={"2027-05-31": 100}, redeemed={"mug": 2, "cup": 1}
    )
    change = Change.start(doc, member, NOW + timedelta(days=1))  # May 2nd wherever the program is
    taken = {"2026-04-30": 300, "2027-05-31": 200}  # April's has lapsed
    assert spending.cancel(change, taken, 0, "mug", 1, "redemption_cancel:r1") == (200, 300, 0)
    assert change.profile.buckets == {"2027-05-31": 300} and change.profile.redeemed == {"mug": 1, "cup": 1}
    assert [(e.type, e.points, e.balance_after) for e in change.entries] == [("restore", 200, 300)]
    spending.cancel(change, {}, 0, "cup", 1, "redemption_cancel:r2")
    assert change.profile.redeemed == {"mug": 1} and len(change.entries) == 1  # nothing to restore: no entry
    # What its campaigns gave is taken back, never below 0
    assert spending.cancel(change, {"2027-05-31": 50}, 1000, None, 1, "redemption_cancel:r3") == (50, 0, 350)
    assert change.balance == 0 and [e.type for e in change.entries[1:]] == ["restore", "reverse"]
    # A redemption from before the buckets were recorded: a fresh bucket, the program's expiry (12 months)
    assert spending.spent_from(change, None, 500) == {"2027-05-31": 500}
    assert spending.spent_from(change, {"2026-12-31": 5}, 500) == {"2026-12-31": 5}


def test_a_cancel_takes_back_each_campaigns_points_or_its_share_of_what_the_balance_paid() -> None:
    assert spending.reversed_by_campaign({"a": 20, "b": 10}, 30) == {"a": 20, "b": 10}
    assert spending.reversed_by_campaign({"a": 20, "b": 10}, 10) == {"a": 7, "b": 3}  # the rest to the larger
    assert spending.reversed_by_campaign({"a": 20}, 0) == {} == spending.reversed_by_campaign({}, 5)
