"""A refund that undoes its order's upgrade (issue 14 §2), through the HTTP API on DynamoDB Local: the
buy-upgrade-refund loop leaves no tier and no gift, under parallel refunds and a racing coupon use."""

from __future__ import annotations

from typing import Any

from local.dynamodb import client
from local.stack import Stack
from tests.integration.conftest import Client
from tests.integration.test_campaigns import fresh
from tests.integration.test_parallel import assert_ledger_is_the_balance, enrol, parallel


def buy(api: Client, pid: str, order_id: str, amount: int) -> dict[str, Any]:
    status, body = api.call(
        "POST", f"/programs/{pid}/members/m1/purchases", {"order_id": order_id, "amount_minor": amount}
    )
    assert status == 201, body
    return body


def refund(api: Client, pid: str, refund_id: str, order_id: str, amount: int) -> Any:
    body = {"refund_id": refund_id, "order_id": order_id, "amount_minor": amount}
    return lambda: api.call("POST", f"/programs/{pid}/members/m1/refunds", body)


def gift(api: Client, pid: str, order_id: str) -> dict[str, Any]:
    status, body = api.call("GET", f"/programs/{pid}/members/m1/coupons")
    assert status == 200, body
    [coupon] = [c for c in body["coupons"] if c["source"] == f"upgrade:gold:{order_id}"]
    return coupon


def history(stack: Stack, pid: str) -> list[tuple[str, str, str]]:
    items = client(stack.ddb.endpoint).query(
        TableName="LoyaltyTable",
        KeyConditionExpression="pk = :pk AND begins_with(sk, :t)",
        ExpressionAttributeValues={":pk": {"S": f"MEMBER#{pid}#m1"}, ":t": {"S": "TIER#"}},
    )["Items"]
    return [(h["from_tier"]["S"], h["to_tier"]["S"], h["reason"]["S"]) for h in items]


def test_the_buy_upgrade_refund_loop_keeps_neither_the_tier_nor_the_gift(api: Client, stack: Stack, pid: str) -> None:
    enrol(api, pid, "m1")
    for n in range(2):  # the loop, twice: each round gives a gift and takes it back
        order = f"o{n}"
        assert buy(api, pid, order, 120000)["tier"] == "gold"  # gold at 1,000.00
        coupon = gift(api, pid, order)
        status, result = refund(api, pid, f"r{n}", order, 120000)()
        assert status == 201, result
        assert result["tier"] == "star" and result["tier_changed"] is True
        assert result["coupons_revoked"] == [coupon["coupon_id"]] and result["coupons_unrecovered"] == []
        assert gift(api, pid, order)["status"] == "expired"
        view = api.call("GET", f"/programs/{pid}/members/m1")[1]
        assert view["tier"]["id"] == "star" and view["tier"]["progress"]["value"] == 0
        use = {"order_id": f"till-{n}", "order_amount_minor": 6000}
        status, body = api.call("POST", f"/programs/{pid}/members/m1/coupons/{coupon['coupon_id']}/use", use)
        assert status == 409 and body["error"]["code"] == "coupon_unavailable"
    assert history(stack, pid) == [("star", "gold", "upgrade"), ("gold", "star", "refund")] * 2
    assert assert_ledger_is_the_balance(api, pid, "m1") == 100  # only the welcome points are left


def test_parallel_partial_refunds_undo_the_upgrade_once(api: Client, stack: Stack, pid: str) -> None:
    enrol(api, pid, "m1")
    buy(api, pid, "o1", 120000)
    results = parallel([refund(api, pid, f"r{i}", "o1", 20000) for i in range(6)])
    assert sorted(s for s, _ in results) == [201] * 6, results
    # The second refund (1,000.00 -> 800.00 left) is the one that crossed gold's threshold.
    assert sum(body["tier_changed"] for _, body in results) == 1
    assert sum(len(body["coupons_revoked"]) for _, body in results) == 1
    assert history(stack, pid) == [("star", "gold", "upgrade"), ("gold", "star", "refund")]
    assert gift(api, pid, "o1")["status"] == "expired"
    assert assert_ledger_is_the_balance(api, pid, "m1") == 100


def test_a_coupon_use_racing_the_refund_is_either_used_or_revoked(api: Client, pid: str) -> None:
    enrol(api, pid, "m1")
    buy(api, pid, "o1", 120000)
    coupon = gift(api, pid, "o1")["coupon_id"]
    use = {"order_id": "till-1", "order_amount_minor": 6000}
    results = parallel(
        [
            refund(api, pid, "r1", "o1", 120000),
            lambda: api.call("POST", f"/programs/{pid}/members/m1/coupons/{coupon}/use", use),
        ]
    )
    (refund_status, refunded), (use_status, _) = results
    assert refund_status == 201 and refunded["tier"] == "star", results
    if use_status == 200:  # the till was first: the coupon stays used and the refund says so
        assert refunded["coupons_unrecovered"] == [coupon] and refunded["coupons_revoked"] == []
        assert gift(api, pid, "o1")["status"] == "used"
    else:
        assert use_status == 409 and refunded["coupons_revoked"] == [coupon]
        assert gift(api, pid, "o1")["status"] == "expired"


def test_parallel_refunds_take_back_the_points_of_the_campaigns_the_upgrade_set_off(api: Client) -> None:
    """A `tier_changed` campaign's points are the order's: parallel partial refunds summing to the
    order take them all back with the rest, so buying up a tier and refunding it nets nothing."""
    up = {"id": "tierup", "name": "up", "trigger": "tier_changed", "when": "change.direction == 'up'"}
    pid = fresh(api, up | {"effects": [{"points": 44}]})
    enrol(api, pid, "m1")
    bought = buy(api, pid, "o1", 120000)
    assert bought["points_earned"] == 1200 + 200 + 44, bought
    results = parallel([refund(api, pid, f"r{i}", "o1", 20000) for i in range(6)])
    assert sorted(s for s, _ in results) == [201] * 6, results
    assert sum(body["points_reversed"] for _, body in results) == bought["points_earned"]
    assert assert_ledger_is_the_balance(api, pid, "m1") == 100  # only the welcome points are left
