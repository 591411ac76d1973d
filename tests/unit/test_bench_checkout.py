"""bench/checkout.py: its program passes the checks at PUT and prices its cart as its table says, and
its item sizes follow AWS's "Item sizes and formats"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bench import checkout as bench
from loyalty.member import Coupon, Profile
from loyalty.rules import checkout
from loyalty.schemas import CheckoutBody
from loyalty.usecases.checkout import cart_of
from loyalty.usecases.programs import validate

NOW = datetime(2026, 12, 3, 4, tzinfo=UTC)


def test_the_bench_program_is_valid_and_prices_the_cart_with_both_coupons() -> None:
    p = validate(bench.bench_document())
    member = Profile(program_id="p", member_id="m", enrolled_at=NOW - timedelta(days=9), tier_id="gold", orders_total=2)
    member.buckets = {"2027-12-31": 100_000}
    coupons = {
        f"k-{t}": Coupon.model_validate(
            {
                "coupon_id": f"k-{t}",
                "template_id": t,
                "valid_from": NOW - timedelta(days=1),
                "valid_until": NOW + timedelta(days=6),
                "source": "bench",
            }
            | p.coupons[t].model_dump(exclude={"valid_days", "applies_to"})
        )
        for t in bench.REWARD["grant"]["coupons"]
    }
    cart = cart_of(CheckoutBody.model_validate(bench.CART | {"coupon_ids": list(coupons)}))
    priced = checkout.price(p, member, cart, coupons, bench.POINTS, NOW)
    assert priced.subtotal_minor == bench.SUBTOTAL == bench.PURCHASE["amount_minor"]
    assert (len(priced.campaigns), [c["applied"] for c in priced.coupons]) == (9, [True, True])
    assert priced.points_used == bench.POINTS


def test_item_sizes_follow_the_aws_formula() -> None:
    # Names count; a string its UTF-8 bytes; a number 1 byte per two significant digits + 1; a list or
    # map 3 bytes + 1 per element; a boolean or null 1.
    assert bench.item_size({"pk": {"S": "ab"}, "name": {"S": "é"}}) == 2 + 2 + 4 + 2
    assert [bench.number_size(n) for n in ("0", "7", "140300", "-12.50", "0.001", "12345")] == [2, 2, 3, 3, 2, 4]
    assert bench.value_size({"L": [{"N": "1"}, {"BOOL": True}]}) == 3 + (1 + 2) + (1 + 1)
    assert bench.value_size({"M": {"ab": {"S": "xyz"}, "n": {"NULL": True}}}) == 3 + (1 + 2 + 3) + (1 + 1 + 1)
    assert (bench.read_units(None), bench.read_units(4096), bench.read_units(4097)) == (1, 1, 2)
    assert (bench.write_units(100), bench.write_units(1024), bench.write_units(1025)) == (2, 2, 4)
