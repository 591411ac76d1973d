"""The program's daily abuse limits (issue 32, item 4): past either, an order still counts for spend
but earns nothing more, and the member is flagged."""

from __future__ import annotations

from typing import Any

from tests.handlers.conftest import Api
from tests.support import program

P = "/programs/demo"
M = f"{P}/members/m1"


def setup(api: Api, **limits: int) -> None:
    doc = program("demo")
    doc["campaigns"] = []
    doc["abuse"] = limits
    status, body = api.call("programs", "PUT", P, doc)
    assert status == 200, body
    assert api.call("enrol", "POST", f"{P}/members", {"member_id": "m1"})[0] == 201


def buy(api: Api, order_id: str, amount_minor: int = 10000) -> dict[str, Any]:
    status, body = api.call("earn", "POST", f"{M}/purchases", {"order_id": order_id, "amount_minor": amount_minor})
    assert status == 201, body
    return body


def test_orders_past_the_daily_count_count_for_spend_but_earn_nothing(api: Api) -> None:
    setup(api, max_orders_per_day=2)
    earned = [buy(api, f"o{i}")["points_earned"] for i in range(2)]
    assert all(earned)
    third = buy(api, "o3")
    assert third["points_earned"] == 0 and third["breakdown"]["withheld"] == "max_orders_per_day"
    assert third["breakdown"]["earned"] == 0
    buy(api, "o4")
    status, view = api.call("members", "GET", M)
    assert status == 200
    assert [f["kind"] for f in view["flags"]] == ["max_orders_per_day"]  # once a day, not once an order
    assert view["points"]["lifetime_earned"] == 100 + sum(earned)  # the welcome and the first two orders
    assert view["tier"]["progress"]["value"] == 4 * 10000  # all four count for spend


def test_the_order_crossing_the_points_cap_earns_in_full(api: Api) -> None:
    setup(api, max_points_per_day=250)
    first = buy(api, "o1")["points_earned"]  # 100 + the first-order bonus of 200: past 250, in full
    assert first == 300
    second = buy(api, "o2")
    assert second["points_earned"] == 0 and second["breakdown"]["withheld"] == "max_points_per_day"
    flags = api.call("members", "GET", M)[1]["flags"]
    assert [f["kind"] for f in flags] == ["max_points_per_day"]
