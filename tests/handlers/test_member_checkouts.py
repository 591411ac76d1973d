"""The member view lists the member's open checkouts and what each holds (an addition: the console's Member page)."""

from __future__ import annotations

import pytest

from tests.handlers.conftest import Api
from tests.support import load_function

M = "/programs/demo/members/m1"
CART = {"items": [{"line_id": "1", "sku": "latte", "quantity": 2, "unit_price_minor": 3200}]}


@pytest.fixture
def member(api: Api, demo: str) -> str:
    api.handlers["checkout"] = load_function("checkout").handler
    assert api.call("enrol", "POST", "/programs/demo/members", {"member_id": "m1"})[0] == 201
    assert api.call("earn", "POST", f"{M}/purchases", {"order_id": "o1", "amount_minor": 50000})[0] == 201
    return "m1"


def test_the_view_lists_open_checkouts_with_their_holds_and_drops_a_cancelled_one(api: Api, member: str) -> None:
    assert api.call("members", "GET", M)[1]["checkouts"] == []
    status, a = api.call("checkout", "PUT", f"{M}/checkouts/c-a", {**CART, "points_to_use": 300})
    assert status == 200, a
    status, b = api.call("checkout", "PUT", f"{M}/checkouts/c-b", CART)
    assert status == 200, b
    view = api.call("members", "GET", M)[1]
    assert view["points"]["held"] == 300
    assert [(c["checkout_id"], c["points"], c["coupon_ids"]) for c in view["checkouts"]] == [
        ("c-a", 300, []),
        ("c-b", 0, []),
    ]
    assert view["checkouts"][0]["expires_at"] == a["expires_at"]
    assert api.call("checkout", "POST", f"{M}/checkouts/c-a/cancel")[0] == 200
    view = api.call("members", "GET", M)[1]
    assert view["points"]["held"] == 0
    assert [c["checkout_id"] for c in view["checkouts"]] == ["c-b"]


def test_a_preview_holds_nothing_and_is_not_listed(api: Api, member: str) -> None:
    status, body = api.call("checkout", "PUT", f"{M}/checkouts/c-p/preview", {**CART, "points_to_use": 100})
    assert status == 200 and body["status"] == "preview", body
    view = api.call("members", "GET", M)[1]
    assert view["checkouts"] == [] and view["points"]["held"] == 0
