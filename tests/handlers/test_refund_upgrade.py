"""A refund that undoes the upgrade its order gave (issue 14 §2), through the real handlers (moto).

The demo program: gold at 1,000.00 over 6 months (upgrade gift: one coupon), diamond at 5,000.00."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from loyalty import runtime
from tests.handlers.conftest import Api
from tests.support import program

M = "/programs/demo/members/m1"


def setup(api: Api, gift_points: int = 0) -> None:
    doc = program("demo")
    gold = doc["tiers"]["levels"][1]
    gold["on_upgrade"]["points"] = gift_points
    doc["tiers"]["levels"][2]["on_upgrade"] = {"points": 0, "coupons": ["welcome-10"]}
    assert api.call("programs", "PUT", "/programs/demo", doc)[0] == 200
    assert api.call("enrol", "POST", "/programs/demo/members", {"member_id": "m1"})[0] == 201


def buy(api: Api, order_id: str, amount: int) -> dict[str, Any]:
    status, body = api.call("earn", "POST", f"{M}/purchases", {"order_id": order_id, "amount_minor": amount})
    assert status == 201, body
    return body


def refund(api: Api, refund_id: str, order_id: str, amount: int) -> dict[str, Any]:
    body = {"refund_id": refund_id, "order_id": order_id, "amount_minor": amount}
    status, result = api.call("earn", "POST", f"{M}/refunds", body)
    assert status == 201, result
    return result


def gifts(api: Api, level: str) -> list[dict[str, Any]]:
    coupons = api.call("members", "GET", f"{M}/coupons")[1]["coupons"]
    return [c for c in coupons if c["source"].startswith(f"upgrade:{level}:")]


def tier(api: Api) -> str:
    return api.call("members", "GET", M)[1]["tier"]["id"]


def history(api: Api) -> list[tuple[str | None, str, str]]:
    items = api.client.query(
        TableName="LoyaltyTable",
        KeyConditionExpression="pk = :pk AND begins_with(sk, :t)",
        ExpressionAttributeValues={":pk": {"S": "MEMBER#demo#m1"}, ":t": {"S": "TIER#"}},
    )["Items"]
    return [(h["from_tier"].get("S"), h["to_tier"]["S"], h["reason"]["S"]) for h in items]


def test_a_full_refund_undoes_the_upgrade_and_revokes_its_unused_coupon(api: Api) -> None:
    setup(api)
    assert buy(api, "o1", 120000)["tier"] == "gold"
    [gift] = gifts(api, "gold")
    result = refund(api, "r1", "o1", 120000)
    assert result["tier"] == "star" and result["tier_changed"] is True
    assert result["coupons_revoked"] == [gift["coupon_id"]] and result["coupons_unrecovered"] == []
    assert tier(api) == "star"
    [revoked] = gifts(api, "gold")
    assert revoked["status"] == "expired"  # taken back, as a card refund takes back its coupons
    assert history(api) == [("star", "gold", "upgrade"), ("gold", "star", "refund")]
    # A repeat replays the first result and changes nothing.
    body = {"refund_id": "r1", "order_id": "o1", "amount_minor": 120000}
    assert api.call("earn", "POST", f"{M}/refunds", body) == (200, result)
    assert len(history(api)) == 2


def test_a_used_gift_coupon_stays_used_and_is_reported(api: Api) -> None:
    setup(api)
    buy(api, "o1", 120000)
    [gift] = gifts(api, "gold")
    use = {"order_id": "till-1", "order_amount_minor": 6000}
    assert api.call("redeem", "POST", f"{M}/coupons/{gift['coupon_id']}/use", use)[0] == 200
    result = refund(api, "r1", "o1", 120000)
    assert result["tier"] == "star"
    assert result["coupons_revoked"] == [] and result["coupons_unrecovered"] == [gift["coupon_id"]]
    assert gifts(api, "gold")[0]["status"] == "used"


def test_the_gift_points_come_back_as_far_as_the_balance_allows(api: Api) -> None:
    setup(api, gift_points=300)
    bought = buy(api, "o1", 120000)  # earned at star (1x): 1200, + 200 first order + 300 gift
    balance = api.call("members", "GET", M)[1]["points"]["balance"]
    assert bought["points_earned"] == 1200 + 200 + 300 and balance == 100 + 1700
    result = refund(api, "r1", "o1", 120000)
    assert result["tier"] == "star"
    assert result["points_reversed"] == 1400 + 300 and result["points_unrecovered"] == 0
    assert result["balance"] == 100
    ledger = api.call("members", "GET", f"{M}/ledger")[1]["entries"]
    assert (ledger[0]["type"], ledger[0]["points"], ledger[0]["ref"]) == ("reverse", -300, "refund:r1:upgrade:gold")


def test_a_partial_refund_that_keeps_the_metric_above_the_threshold_changes_nothing(api: Api) -> None:
    setup(api)
    buy(api, "o1", 120000)
    result = refund(api, "r1", "o1", 20000)  # 1,000.00 left: still gold
    assert result["tier"] == "gold" and result["tier_changed"] is False and result["coupons_revoked"] == []
    assert tier(api) == "gold" and gifts(api, "gold")[0]["status"] == "available"
    result = refund(api, "r2", "o1", 1)  # 999.99 left: under gold's threshold
    assert result["tier"] == "star" and len(result["coupons_revoked"]) == 1


def test_a_refund_of_an_order_that_did_not_upgrade_leaves_the_tier_to_the_review(api: Api) -> None:
    setup(api)
    buy(api, "o1", 120000)  # gold
    assert buy(api, "o2", 50000)["tier_changed"] is False  # already gold
    buy(api, "o3", 1000)
    result = refund(api, "r1", "o2", 50000)
    assert result["tier"] == "gold" and result["tier_changed"] is False
    # o1 gave gold: refunding it leaves 10.00 in the window, under gold, so back to star at once.
    result = refund(api, "r2", "o1", 120000)
    assert result["tier"] == "star"


def test_an_upgrade_a_later_order_gave_is_not_undone_by_refunding_an_earlier_one(api: Api) -> None:
    setup(api)
    buy(api, "o1", 120000)  # star -> gold
    assert buy(api, "o2", 400000)["tier"] == "diamond"  # gold -> diamond by o2
    result = refund(api, "r1", "o1", 120000)  # 4,000.00 left: under diamond, but o2 gave diamond
    assert result["tier"] == "diamond" and result["tier_changed"] is False
    assert gifts(api, "gold")[0]["status"] == "available"


def test_one_order_across_several_levels_is_undone_level_by_level(api: Api) -> None:
    setup(api)
    assert buy(api, "o1", 600000)["tier"] == "diamond"  # star -> gold -> diamond at once
    result = refund(api, "r1", "o1", 200000)  # 4,000.00 left: gold, which the order also gave, stays
    assert result["tier"] == "gold"
    assert result["coupons_revoked"] == [c["coupon_id"] for c in gifts(api, "diamond")]
    assert gifts(api, "gold")[0]["status"] == "available"
    result = refund(api, "r2", "o1", 400000)  # nothing left: back to the tier before the order
    assert result["tier"] == "star"
    assert result["coupons_revoked"] == [c["coupon_id"] for c in gifts(api, "gold")]
    assert history(api) == [
        ("star", "gold", "upgrade"),
        ("gold", "diamond", "upgrade"),
        ("diamond", "gold", "refund"),
        ("gold", "star", "refund"),
    ]


def test_a_full_refund_of_a_multi_level_upgrade_goes_straight_back(api: Api) -> None:
    setup(api)
    buy(api, "o1", 600000)
    result = refund(api, "r1", "o1", 600000)
    assert result["tier"] == "star" and len(result["coupons_revoked"]) == 2
    assert history(api)[-1] == ("diamond", "star", "refund")  # no grace, no one-level-at-a-time


def test_the_refund_that_undoes_an_upgrade_is_still_one_read_and_one_transaction(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROGRAM_CACHE_TTL_SECONDS", "300")  # a warm container, as in test_cost
    setup(api)
    buy(api, "o1", 120000)
    seen: Counter[str] = Counter()

    def count(model: Any, **_: Any) -> None:
        seen[model.name] += 1

    events = runtime.store().client.meta.events
    events.register("before-call.dynamodb", count)
    try:
        assert refund(api, "r1", "o1", 120000)["tier"] == "star"
    finally:
        events.unregister("before-call.dynamodb", count)
    assert dict(seen) == {"BatchGetItem": 1, "TransactWriteItems": 1}


def test_gift_points_already_spent_are_reported_unrecovered(api: Api) -> None:
    setup(api, gift_points=300)
    buy(api, "o1", 120000)  # balance 100 + 1700
    spend = {"redemption_id": "x1", "reward_id": "coupon-5", "quantity": 3}
    assert api.call("redeem", "POST", f"{M}/redemptions", spend)[0] == 201  # 1500 spent: 300 left
    result = refund(api, "r1", "o1", 120000)
    assert result["tier"] == "star" and result["balance"] == 0
    assert result["points_reversed"] == 300 and result["points_unrecovered"] == 1400 - 300 + 300


def test_a_till_that_read_the_coupon_before_the_refund_revoked_it_cannot_use_it(api: Api) -> None:
    """The use's own condition refuses a revoked coupon: the till's read raced the refund's commit."""
    from loyalty.store import CouponUse, MemberWrite, Stale

    setup(api)
    buy(api, "o1", 120000)
    coupon = gifts(api, "gold")[0]["coupon_id"]
    assert refund(api, "r1", "o1", 120000)["coupons_revoked"] == [coupon]
    use = CouponUse(member_id="m1", coupon_id=coupon, order_id="till-1", at="2026-12-03T04:00:00Z")
    with pytest.raises(Stale) as stale:  # what the till's write, built on its earlier read, commits
        runtime.store().commit(MemberWrite(change=None, expected_version=None, coupon_uses=[use]), "demo")
    assert stale.value.failed == {"coupon"}
