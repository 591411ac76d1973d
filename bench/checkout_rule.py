"""The checkout rule's own Python (issue 29: under 2 ms): `rules.checkout.price` on a 20-line cart with
10 checkout campaigns and 2 coupons, no I/O, the program's expressions compiled once (as a warm
container keeps them). `.venv/bin/python -m bench.checkout_rule`: p50 and p95 in µs, first call apart.
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers" / "core"))
sys.path.insert(0, str(ROOT))

from loyalty.member import Coupon, Profile  # noqa: E402
from loyalty.program import Program  # noqa: E402
from loyalty.rules import checkout  # noqa: E402
from loyalty.schemas import CheckoutBody  # noqa: E402
from loyalty.usecases.checkout import cart_of  # noqa: E402
from tests.support import program  # noqa: E402

AT = datetime(2026, 12, 3, 4, tzinfo=UTC)
CATEGORIES = ("coffee", "tea", "cake", "beans")


def document() -> dict[str, Any]:
    """The demo program with the two coupon templates and the 10 checkout campaigns."""
    d = program("demo")
    d["coupons"]["c10"] = {"name": "10 off", "kind": "amount_off", "value_minor": 1000, "valid_days": 7}
    d["coupons"]["tea15"] = {
        "name": "15% tea",
        "kind": "percent_off",
        "percent_off": 15,
        "max_off_minor": 3000,
        "valid_days": 7,
        "applies_to": "i.category == 'tea'",
    }
    effects = [
        {"member_price": True},
        {"percent_off": 5},
        {"amount_off_minor": 500, "on_items": "i.category == 'cake'"},
        {"free_units": {"buy": 2, "get": 1}, "on_items": "i.category == 'beans'"},
        {"percent_off": 10, "max_off_minor": 2000, "on_items": "i.unit_price_minor >= 3000"},
        {"gift_items": [{"sku": "cookie", "quantity": 1}]},
        {"free_units": {"buy": 1, "get": 1, "percent_off": 50}, "on_items": "i.sku == 'sku-4'"},
        {"amount_off_minor": 300},
        {"percent_off": 3, "on_items": "i.category in ['coffee', 'tea']"},
        {"amount_off_minor": 100, "on_items": "i.quantity >= 2"},
    ]
    whens = [
        "true",
        "member.tier == 'gold'",
        "order.amount_minor >= 10000",
        "order.items.exists(i, i.category == 'beans')",
        "at.hour >= 8 && at.hour < 22",
        "order.items.filter(i, i.category == 'coffee').size() >= 2",
        "member.orders_total >= 1",
        "order.channel == 'pos'",
        "member.tier in ['gold', 'jade']",
        "campaign.uses_by_member < 5",
    ]
    d["campaigns"] = [
        {"id": f"c{k}", "name": f"c{k}", "trigger": "checkout", "when": w, "effects": [e], "priority": 10 - k}
        for k, (w, e) in enumerate(zip(whens, effects, strict=True))
    ]
    return d


# The 20-line cart as a till sends it (every other line with a member price); coupons and points apart.
ITEMS = [
    {
        "line_id": str(k),
        "sku": f"sku-{k}",
        "quantity": 1 + k % 3,
        "unit_price_minor": 1200 + 250 * k,
        "category": CATEGORIES[k % 4],
        **({"member_price_minor": 1100 + 250 * k} if k % 2 else {}),
    }
    for k in range(20)
]
CART = {"items": ITEMS, "store_id": "sh-01", "channel": "pos", "scene": "dine_in"}


def _coupon(cid: str, template: str, **kw: object) -> Coupon:
    return Coupon.model_validate(
        {
            "coupon_id": cid,
            "template_id": template,
            "name": template,
            "valid_from": AT - timedelta(days=1),
            "valid_until": AT + timedelta(days=6),
            "source": "bench",
        }
        | kw
    )


def main(rounds: int = 2000) -> None:
    p = Program.model_validate(document())
    profile = Profile(
        program_id="p",
        member_id="m",
        enrolled_at=AT - timedelta(days=90),
        tier_id="gold",
        orders_total=3,
        buckets={"2027-12-31": 100_000},
    )
    cart = cart_of(CheckoutBody.model_validate(CART | {"coupon_ids": ["a", "b"]}))
    coupons = {
        "a": _coupon("a", "tea15", kind="percent_off", percent_off=15, max_off_minor=3000),
        "b": _coupon("b", "c10", kind="amount_off", value_minor=1000),
    }
    start = time.perf_counter()
    priced = checkout.price(p, profile, cart, coupons, 1000, AT)
    first = time.perf_counter() - start
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        checkout.price(p, profile, cart, coupons, 1000, AT)
        times.append(time.perf_counter() - start)
    times.sort()
    applied = len(priced.campaigns), sum(c["applied"] for c in priced.coupons)
    print(f"campaigns applied {applied[0]}/10, coupons applied {applied[1]}/2, total {priced.total_minor}")
    print(
        f"first call {first * 1e6:.0f} µs (compiles the expressions); then p50 {statistics.median(times) * 1e6:.0f} µs,"
        f" p95 {times[int(len(times) * 0.95)] * 1e6:.0f} µs over {rounds} calls"
    )


if __name__ == "__main__":
    main()
