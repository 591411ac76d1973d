"""Redemptions and coupons at the till through the real handlers (moto)."""

from __future__ import annotations

import pytest

from tests.handlers.conftest import Api
from tests.handlers.test_api import assert_error
from tests.support import program

M = "/programs/shop/members/m1"


@pytest.fixture
def shop(api: Api) -> str:
    doc = program("points-only")
    doc["rewards"][1]["stock"] = 2  # the mug
    doc["rewards"][1]["per_member_limit"] = 5
    doc["rewards"].append(
        {"id": "vip-mug", "name": "VIP mug", "cost_points": 10, "fulfilment": "goods", "per_member_limit": 1}
    )
    assert api.call("programs", "PUT", "/programs/shop", doc)[0] == 200
    assert api.call("enrol", "POST", "/programs/shop/members", {"member_id": "m1"})[0] == 201
    status, body = api.call("earn", "POST", f"{M}/purchases", {"order_id": "o1", "amount_minor": 1000000})
    assert status == 201 and body["balance"] == 50 + 10000 + 100
    return "shop"


def redeem(api: Api, rid: str, **body: object) -> tuple[int, dict]:
    return api.call("redeem", "POST", f"{M}/redemptions", {"redemption_id": rid, **body})


def balance(api: Api) -> int:
    return api.call("members", "GET", M)[1]["points"]["balance"]


def test_coupon_reward_spends_points_and_grants_the_coupon_once(api: Api, shop: str) -> None:
    status, first = redeem(api, "r1", reward_id="coffee", quantity=2)
    assert status == 201 and first["points_spent"] == 600 and first["balance"] == 10150 - 600
    assert [c["template_id"] for c in first["coupons"]] == ["free-coffee", "free-coffee"]
    assert redeem(api, "r1", reward_id="coffee", quantity=2) == (200, first)
    assert_error(*redeem(api, "r1", reward_id="coffee", quantity=3), 409, "idempotency_conflict", "redemption_id")
    assert balance(api) == 10150 - 600
    wallet = api.call("members", "GET", f"{M}/coupons")[1]["coupons"]
    assert sorted(c["template_id"] for c in wallet) == ["free-coffee", "free-coffee"]


def test_refusals_change_nothing(api: Api, shop: str) -> None:
    before = api.items()
    assert_error(*redeem(api, "r1", reward_id="donate", quantity=11), 409, "insufficient_points", "reward_id")
    deduct = {"order_id": "o9", "order_amount_minor": 10**8, "points": 10151}
    assert_error(*redeem(api, "r1", deduction=deduct), 409, "insufficient_points", "deduction.points")
    assert_error(*redeem(api, "r2", reward_id="nope"), 404, "not_found", "reward_id")
    assert redeem(api, "r3", reward_id="vip-mug")[0] == 201
    after_first = api.items()
    assert_error(*redeem(api, "r4", reward_id="vip-mug"), 409, "limit_reached")
    assert redeem(api, "r5", reward_id="mug")[0] == 201
    assert redeem(api, "r6", reward_id="mug")[0] == 201
    assert_error(*redeem(api, "r7", reward_id="mug"), 409, "out_of_stock")
    assert after_first > before and balance(api) == 10150 - 10 - 2 * 2500


def test_points_plus_cash_is_recorded_for_the_till(api: Api, shop: str) -> None:
    status, body = redeem(api, "r1", reward_id="tote-plus-cash")
    assert status == 201 and (body["cash_minor"], body["fulfilment"], body["points_spent"]) == (990, "goods", 1000)


def test_deduction_at_checkout_is_capped_by_the_share_of_the_order(api: Api, shop: str) -> None:
    status, body = redeem(api, "d1", deduction={"order_id": "o9", "order_amount_minor": 10000, "points": 8000})
    assert status == 201 and (body["deduction_minor"], body["points_spent"]) == (5000, 5000)  # 50% of 100.00
    assert body["fulfilment"] == "deduction" and body["balance"] == 10150 - 5000


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "redemption_id"),
        ({"reward_id": "coffee", "deduction": {"order_id": "o", "order_amount_minor": 1, "points": 1}}, "body"),
        ({"quantity": 2}, "body"),
        ({"reward_id": "coffee", "quantity": 0}, "quantity"),
        ({"reward_id": "coffee", "quantity": "2"}, "quantity"),
    ],
)
def test_bad_redemptions_are_422(api: Api, shop: str, body: dict, field: str) -> None:
    status, reply = api.call(
        "redeem", "POST", f"{M}/redemptions", {"redemption_id": "r1", **body} if field != "redemption_id" else body
    )
    assert status == 422 and reply["error"]["code"] == "validation_error", reply


def wallet(api: Api) -> list[dict]:
    return api.call("members", "GET", f"{M}/coupons")[1]["coupons"]


def test_coupon_use_at_the_till(api: Api, shop: str) -> None:
    redeem(api, "r1", reward_id="coffee")
    [coupon] = wallet(api)
    use = f"{M}/coupons/{coupon['coupon_id']}/use"
    status, body = api.call("redeem", "POST", use, {"order_id": "t1", "order_amount_minor": 2000})
    assert status == 200 and body["discount_minor"] == 0 and body["kind"] == "gift"
    assert api.call("redeem", "POST", use, {"order_id": "t1", "order_amount_minor": 2000}) == (200, body)
    assert_error(
        *api.call("redeem", "POST", use, {"order_id": "t2", "order_amount_minor": 2000}), 409, "coupon_unavailable"
    )
    assert wallet(api)[0]["status"] == "used"
    # The same order id with another payload is the client's id reused, not the coupon used elsewhere.
    changed = api.call("redeem", "POST", use, {"order_id": "t1", "order_amount_minor": 2001})
    assert_error(*changed, 409, "idempotency_conflict", "order_id")
    assert_error(
        *api.call("redeem", "POST", f"{M}/coupons/nope/use", {"order_id": "t3", "order_amount_minor": 1}),
        404,
        "not_found",
    )


def test_amount_off_needs_the_minimum_spend(api: Api) -> None:
    assert api.call("programs", "PUT", "/programs/demo", program("demo"))[0] == 200
    api.call("enrol", "POST", "/programs/demo/members", {"member_id": "m1"})
    [coupon] = api.call("members", "GET", "/programs/demo/members/m1/coupons")[1]["coupons"]  # welcome: 10 off 50
    use = f"/programs/demo/members/m1/coupons/{coupon['coupon_id']}/use"
    assert_error(
        *api.call("redeem", "POST", use, {"order_id": "t1", "order_amount_minor": 4999}), 409, "coupon_unavailable"
    )
    status, body = api.call("redeem", "POST", use, {"order_id": "t2", "order_amount_minor": 5000})
    assert (status, body["discount_minor"]) == (200, 1000)
