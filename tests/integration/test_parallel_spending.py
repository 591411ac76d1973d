"""Spending under contention, through the real handlers on DynamoDB Local."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from local.stack import Stack, put_program
from tests.integration.conftest import Client
from tests.integration.test_benefits_sweep import run as benefits_run
from tests.integration.test_parallel import assert_ledger_is_the_balance, parallel
from tests.support import program


def shop(api: Client, mug_stock: int | None = None) -> str:
    doc = program("points-only")
    doc["rewards"][1]["stock"] = mug_stock
    doc["rewards"][1]["per_member_limit"] = None
    doc["rewards"][1]["cost_points"] = 10
    pid = f"s-{uuid.uuid4().hex[:10]}"
    assert put_program(api.base, pid, doc)[0] == 200
    return pid


def member_with_points(api: Client, pid: str, member: str, amount_minor: int) -> int:
    assert api.call("POST", f"/programs/{pid}/members", {"member_id": member})[0] == 201
    status, body = api.call(
        "POST", f"/programs/{pid}/members/{member}/purchases", {"order_id": f"o-{member}", "amount_minor": amount_minor}
    )
    assert status == 201, body
    return body["balance"]


def test_twelve_parallel_redemptions_spend_exactly_what_exists(api: Client) -> None:
    pid = shop(api)
    held = member_with_points(api, pid, "m1", 100000)  # 50 welcome + 1000 + 100 first order = 1150
    assert held == 1150

    def coffee(i: int) -> Any:
        return lambda: api.call(
            "POST", f"/programs/{pid}/members/m1/redemptions", {"redemption_id": f"r{i}", "reward_id": "coffee"}
        )

    results = parallel([coffee(i) for i in range(12)])
    ok = [b for s, b in results if s == 201]
    refused = [b for s, b in results if s != 201]
    assert len(ok) == held // 300 == 3, results
    assert all(b["error"]["code"] == "insufficient_points" for b in refused), refused
    assert assert_ledger_is_the_balance(api, pid, "m1") == held - 3 * 300


def test_stock_is_never_oversold_across_members(api: Client) -> None:
    pid = shop(api, mug_stock=5)
    for i in range(12):
        member_with_points(api, pid, f"m{i}", 10000)

    def mug(i: int) -> Any:
        return lambda: api.call(
            "POST", f"/programs/{pid}/members/m{i}/redemptions", {"redemption_id": f"mug-{i}", "reward_id": "mug"}
        )

    results = parallel([mug(i) for i in range(12)])
    assert sorted(s for s, _ in results) == [201] * 5 + [409] * 7, results
    assert all(b["error"]["code"] == "out_of_stock" for s, b in results if s == 409)


def test_two_tills_use_one_coupon_once(api: Client) -> None:
    pid = shop(api)
    member_with_points(api, pid, "m1", 100000)
    status, body = api.call(
        "POST", f"/programs/{pid}/members/m1/redemptions", {"redemption_id": "r1", "reward_id": "coffee"}
    )
    assert status == 201
    coupon = body["coupons"][0]["coupon_id"]
    use = f"/programs/{pid}/members/m1/coupons/{coupon}/use"
    results = parallel(
        [lambda i=i: api.call("POST", use, {"order_id": f"till-{i}", "order_amount_minor": 3000}) for i in range(2)]
    )
    assert sorted(s for s, _ in results) == [200, 409], results
    assert [b["error"]["code"] for s, b in results if s == 409] == ["coupon_unavailable"]


def test_each_member_uses_its_own_copy_of_a_shared_grant_once(stack: Stack, api: Client) -> None:
    """A tier's monthly coupon (its source names no member) is each gold member's own: two members use
    their copies at once, both succeed; eight tills at once on one member's copy, one succeeds."""
    pid = f"g-{uuid.uuid4().hex[:10]}"
    assert put_program(api.base, pid, program("demo"))[0] == 200
    for member in ("m1", "m2"):
        assert api.call("POST", f"/programs/{pid}/members", {"member_id": member})[0] == 201
        order = {"order_id": f"o-{member}", "amount_minor": 150000}
        assert api.call("POST", f"/programs/{pid}/members/{member}/purchases", order)[1]["tier"] == "gold"
    benefits_run(stack, datetime.now(UTC))

    def monthly(member: str) -> str:
        wallet = api.call("GET", f"/programs/{pid}/members/{member}/coupons")[1]["coupons"]
        [coupon] = [c["coupon_id"] for c in wallet if c["source"].startswith("tier:gold:")]
        return f"/programs/{pid}/members/{member}/coupons/{coupon}/use"

    uses = [monthly("m1")] * 8 + [monthly("m2")]
    results = parallel(
        [
            lambda i=i, use=use: api.call("POST", use, {"order_id": f"till-{i}", "order_amount_minor": 6000})
            for i, use in enumerate(uses)
        ]
    )
    assert [s for s, _ in results[:8]].count(200) == 1, results
    assert all(b["error"]["code"] == "coupon_unavailable" for s, b in results[:8] if s != 200), results
    assert results[8][0] == 200 and results[8][1]["discount_minor"] == 1500, results[8]  # "15 off 60"
