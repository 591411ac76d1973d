"""The buy -> pay with points -> refund loop never leaves the member better off (issue 30), as a seeded
random walk through the real handlers (moto): purchases with random lines and checkouts paid partly
with points, now and then a redemption after them, refunded in random pieces by amount and by line
(with over-refunds thrown in) until nothing is left, then the redemption cancelled. After every step
the balance is the ledger's sum, no bucket is negative and no order has given back more points than
it was paid with; once an order is fully refunded (and its redemption cancelled), the member holds no
more points than before it."""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

from loyalty import runtime
from tests.handlers.conftest import Api
from tests.handlers.test_checkout import confirm, now, put, setup, shop_doc  # noqa: F401
from tests.handlers.test_refund_lines import ledger_sum

SEEDS = range(6)
GIFT = {"id": "gift", "name": "gift", "trigger": "purchase", "effects": [{"coupons": ["cake-5"]}]}
TEA_POINTS = {
    "id": "tea-x",
    "name": "tea-x",
    "trigger": "purchase",
    "effects": [{"points_per_unit": {"points": 3, "unit_minor": 100}, "on_items": "i.category == 'tea'"}],
}


def path(member: str) -> str:
    return f"/programs/shop/members/{member}"


def order_lines(rng: random.Random) -> list[dict[str, Any]]:
    return [
        {
            "line_id": f"L{k}",
            "sku": f"s{k}",
            "category": rng.choice(["tea", "coffee", "cake"]),
            "quantity": rng.randint(1, 3),
            "unit_price_minor": rng.randint(1, 40) * 100 + rng.randint(0, 99),
        }
        for k in range(rng.randint(1, 3))
    ]


def buy(api: Api, rng: random.Random, member: str, order_id: str) -> list[tuple[str, int]]:
    """A purchase or a confirmed checkout paid partly with points: its lines (id, units)."""
    cart = order_lines(rng)
    if rng.random() < 0.5:
        items = [
            {k: ln[k] for k in ("line_id", "sku", "category", "quantity")}
            | {"amount_minor": ln["unit_price_minor"] * ln["quantity"]}
            for ln in cart
        ]
        amount = sum(i["amount_minor"] for i in items) + rng.choice([0, 0, 250])  # a fee not itemised, now and then
        body = {"order_id": order_id, "amount_minor": amount, "items": items}
        status, done = api.call("earn", "POST", f"{path(member)}/purchases", body)
    else:
        status, priced = put(api, order_id, {"items": cart, "points_to_use": rng.randint(0, 400)}, member)
        assert status == 200, priced
        status, done = confirm(api, order_id, order_id, priced["total_minor"], member)
    assert status == 201, done
    return [(ln["line_id"], ln["quantity"]) for ln in cart]


def refund_step(api: Api, rng: random.Random, member: str, order_id: str, n: int, left: dict[str, int]) -> str:
    """One random refund of what is left: some units of some lines, an amount, or too many units
    (refused); returns which."""
    order = runtime.store().get_ref("shop", "order", order_id)
    assert order is not None
    money_left = order["order_minor"] - order["refunded_minor"]
    body: dict[str, Any] = {"refund_id": f"{order_id}-r{n}", "order_id": order_id}
    open_lines = [line for line, units in left.items() if units]
    roll = rng.random()
    if open_lines and roll < 0.1:  # more than is left of a line: 409, nothing written
        line = rng.choice(open_lines)
        body["items"] = [{"line_id": line, "quantity": left[line] + 1}]
        before = api.items()
        status, answer = api.call("earn", "POST", f"{path(member)}/refunds", body)
        assert (status, answer["error"]["code"]) == (409, "limit_reached") and api.items() == before
        return "too many"
    if open_lines and (roll < 0.7 or money_left <= 0):
        picked = rng.sample(open_lines, rng.randint(1, len(open_lines)))
        body["items"] = [{"line_id": line, "quantity": rng.randint(1, left[line])} for line in picked]
        for item in body["items"]:
            left[item["line_id"]] -= item["quantity"]
    else:
        body["amount_minor"] = rng.randint(1, money_left) if rng.random() < 0.7 else money_left
    status, answer = api.call("earn", "POST", f"{path(member)}/refunds", body)
    assert status == 201, (body, answer)
    return "items" if "items" in body else "amount"


def check(api: Api, member: str, order_id: str) -> dict[str, Any]:
    profile = runtime.store().get_member("shop", member)
    assert profile is not None and all(n >= 0 for n in profile.buckets.values()), profile.buckets
    assert profile.balance == ledger_sum(api, path(member))
    order = runtime.store().get_ref("shop", "order", order_id)
    assert order is not None
    paid, back = order.get("points_paid") or {}, order.get("paid_restored") or {}
    assert all(0 <= back.get(day, 0) <= n for day, n in paid.items()) and set(back) <= set(paid)
    assert order["points_reversed"] <= order["order_points"]
    return order


def test_refunds_in_random_pieces_never_leave_the_member_better_off(
    api: Api,
    now: list[datetime],  # noqa: F811
) -> None:
    members = tuple(f"m{seed}" for seed in SEEDS)
    setup(api, shop_doc(GIFT, TEA_POINTS), members)
    steps, with_points, by_lines, cancels = 0, 0, 0, 0
    for seed in SEEDS:
        rng, member = random.Random(seed), f"m{seed}"
        for k in range(2):
            order_id = f"o{seed}-{k}"
            before = runtime.store().get_member("shop", member).balance  # type: ignore[union-attr]
            left = dict(buy(api, rng, member, order_id))
            spent = rng.random() < 0.5
            if spent:  # spend some of what the order gave before returning it
                spend = {"redemption_id": f"rd-{order_id}", "reward_id": "cake-5"}
                assert api.call("redeem", "POST", f"{path(member)}/redemptions", spend)[0] == 201
            order, n = check(api, member, order_id), 0
            with_points += bool(order.get("points_paid"))
            while order["refunded_minor"] < order["order_minor"] or (not order["order_minor"] and any(left.values())):
                by_lines += refund_step(api, rng, member, order_id, n, left) == "items"
                order, n, steps = check(api, member, order_id), n + 1, steps + 1
            after = runtime.store().get_member("shop", member).balance  # type: ignore[union-attr]
            assert after <= before, (seed, order_id, before, after)
            assert order.get("paid_restored", {}) == (order.get("points_paid") or {})  # all given back, exactly
            assert order["points_reversed"] == order["order_points"]
            if spent:  # and the reward given back too: still never better off than before the order
                cancel = f"{path(member)}/redemptions/rd-{order_id}/cancel"
                assert api.call("redeem", "POST", cancel)[0] == 200
                check(api, member, order_id)
                cancelled = runtime.store().get_member("shop", member).balance  # type: ignore[union-attr]
                assert cancelled <= before, (seed, order_id, before, cancelled)
                cancels += 1
    assert steps >= 20 and with_points >= 3 and by_lines >= 10 and cancels >= 2, (steps, with_points, by_lines, cancels)
