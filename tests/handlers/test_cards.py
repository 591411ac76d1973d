"""Paid cards through the real handlers (moto): the contract's routes, errors and side effects."""

from __future__ import annotations

from typing import Any

import pytest

from tests.handlers.conftest import Api
from tests.support import program

M = "/programs/paid/members/m1"


@pytest.fixture
def paid(api: Api) -> str:
    status, saved = api.call("programs", "PUT", "/programs/paid", program("paid-card"))
    assert status == 200 and saved["warnings"] == []
    assert api.call("enrol", "POST", "/programs/paid/members", {"member_id": "m1"})[0] == 201
    return "paid"


def buy(api: Api, payment_id: str = "pay-1", plan_id: str = "plus-quarter", amount: int = 4500) -> tuple[int, Any]:
    body = {"payment_id": payment_id, "plan_id": plan_id, "amount_paid_minor": amount}
    return api.call("purchase_paid_card", "POST", f"{M}/paid-cards", body)


def test_a_purchase_shows_on_the_member_and_repeats_return_the_first_result(api: Api, paid: str) -> None:
    status, first = buy(api)
    assert status == 201 and first["extended"] is False and len(first["coupons"]) == 4
    assert first["card"]["plan_id"] == "plus-quarter" and first["card"]["cycles_issued"] == 1
    items = api.items()
    assert buy(api) == (200, first)  # the same payment again: no second card, no second pack
    assert api.items() == items
    status, view = api.call("members", "GET", M)
    assert [c["plan_id"] for c in view["paid_cards"]] == ["plus-quarter"]
    assert view["paid_cards"][0]["active_until"] == first["card"]["active_until"]


def test_a_second_payment_extends_and_multiplies_earning(api: Api, paid: str) -> None:
    first = buy(api)[1]
    status, second = buy(api, "pay-2")
    assert status == 201 and second["extended"] is True
    assert second["card"]["active_from"] == first["card"]["active_from"]
    assert second["card"]["active_until"] > first["card"]["active_until"]
    assert len(second["coupons"]) == 1  # the pack; the next cycle comes when it starts
    status, order = api.call("earn", "POST", f"{M}/purchases", {"order_id": "o1", "amount_minor": 10000})
    assert order["breakdown"]["multipliers"] == {"card:plus-quarter": "1.5"} and order["points_earned"] == 150


def test_bad_payments_are_refused_with_the_field_named(api: Api, paid: str) -> None:
    status, body = buy(api, amount=4400)
    assert status == 422 and body["error"]["details"][0]["field"] == "amount_paid_minor"
    status, body = buy(api, plan_id="gold-forever")
    assert status == 404 and body["error"]["details"][0]["field"] == "plan_id"
    status, body = api.call("purchase_paid_card", "POST", f"{M}/paid-cards", {"payment_id": "p", "plan_id": "x"})
    assert status == 422 and body["error"]["details"][0]["field"] == "amount_paid_minor"
    assert buy(api, "pay-1")[0] == 201
    status, body = buy(api, "pay-1", plan_id="starter-pack", amount=990)
    assert status == 409 and body["error"]["code"] == "idempotency_conflict"
    unknown = {"payment_id": "p9", "plan_id": "plus-quarter", "amount_paid_minor": 4500}
    status, body = api.call("purchase_paid_card", "POST", "/programs/paid/members/nobody/paid-cards", unknown)
    assert status == 404 and body["error"]["details"][0]["field"] == "member_id"


def test_a_refund_nets_used_coupons_revokes_the_rest_and_ends_the_card(api: Api, paid: str) -> None:
    coupons = buy(api)[1]["coupons"]
    coffee = next(c for c in coupons if c["template_id"] == "free-coffee")
    use = {"order_id": "o1", "order_amount_minor": 3000}
    assert api.call("redeem", "POST", f"{M}/coupons/{coffee['coupon_id']}/use", use)[0] == 200
    refund = {"refund_id": "r1", "payment_id": "pay-1"}
    status, result = api.call("purchase_paid_card", "POST", f"{M}/paid-cards/plus-quarter/refund", refund)
    assert status == 201, result
    assert result["used_minor"] == 2800 and result["refund_minor"] == 4500 - 2800
    assert len(result["coupons_revoked"]) == 3 and result["card"] is None
    assert api.call("purchase_paid_card", "POST", f"{M}/paid-cards/plus-quarter/refund", refund) == (200, result)
    wallet = api.call("members", "GET", f"{M}/coupons", query={"status": "available"})[1]["coupons"]
    assert [c["source"] for c in wallet] == ["welcome:m1"] * len(wallet)  # only the welcome pack is left
    assert api.call("members", "GET", M)[1]["paid_cards"] == []
    again = {"refund_id": "r2", "payment_id": "pay-1"}
    status, body = api.call("purchase_paid_card", "POST", f"{M}/paid-cards/plus-quarter/refund", again)
    assert status == 404 and body["error"]["details"][0]["field"] == "plan_id"


def test_a_refund_of_an_earlier_payment_is_refused(api: Api, paid: str) -> None:
    buy(api)
    buy(api, "pay-2")
    status, body = api.call(
        "purchase_paid_card", "POST", f"{M}/paid-cards/plus-quarter/refund", {"refund_id": "r1", "payment_id": "pay-1"}
    )
    assert status == 409 and body["error"]["code"] == "refund_not_allowed"


def test_scene_coupons_need_their_scene(api: Api, paid: str) -> None:
    coupons = buy(api, "pay-d", "delivery-month", 1500)[1]["coupons"]
    path = f"{M}/coupons/{coupons[0]['coupon_id']}/use"
    status, body = api.call("redeem", "POST", path, {"order_id": "o1", "order_amount_minor": 3000})
    assert status == 409 and body["error"]["code"] == "coupon_unavailable"
    body = {"order_id": "o1", "order_amount_minor": 3000, "scene": "delivery"}
    assert api.call("redeem", "POST", path, body)[0] == 200


def test_pricing_warnings_come_back_with_the_put_and_the_roi_table(api: Api, paid: str) -> None:
    doc = program("paid-card")
    doc["paid_cards"][0]["price_minor"] = 9000
    status, saved = api.call("programs", "PUT", "/programs/paid", doc)
    assert status == 200 and saved["version"] == 2
    assert {w["field"] for w in saved["warnings"]} == {"paid_cards[0].price_minor"}
    status, table = api.call("programs", "GET", "/programs/paid/paid-cards/roi")
    assert status == 200 and table["version"] == 2 and table["warnings"] == saved["warnings"]
    plus = table["plans"][0]
    assert [r["redemption_rate_percent"] for r in plus["rows"]] == [30, 50, 80]
    status, table = api.call("programs", "GET", "/programs/paid/paid-cards/roi", query={"rates": "10,90"})
    assert status == 200, table
    assert [r["redemption_rate_percent"] for r in table["plans"][0]["rows"]] == [10, 90]
    status, body = api.call("programs", "GET", "/programs/paid/paid-cards/roi", query={"rates": "120"})
    assert status == 422 and body["error"]["details"][0]["field"].startswith("rates")
