"""Refund campaigns see the refunded order (issue 28.5): its items, store, channel and scene as the
purchase recorded them, with `order.amount_minor` the refunded amount."""

from __future__ import annotations

from typing import Any

from tests.handlers.conftest import Api
from tests.handlers.test_campaigns import put, rule

M = "/programs/demo/members/m1"
TEA = [{"sku": "t1", "category": "tea", "amount_minor": 2000}, {"sku": "c1", "category": "cake", "amount_minor": 1000}]


def refund_campaigns(api: Api) -> None:
    status, body = put(
        api,
        rule("tea-back", trigger="refund", when="order.items.exists(i, i.category == 'tea')", effects=[{"tag": "tea"}]),
        rule("store-back", trigger="refund", when="order.store_id == 's1'", effects=[{"tag": "s1"}]),
        rule(
            "small-back",
            trigger="refund",
            when="order.amount_minor < 1000 && order.channel == 'app'",
            effects=[{"tag": "small"}],
        ),
    )
    assert status == 200, body
    api.call("enrol", "POST", "/programs/demo/members", {"member_id": "m1"})


def refund(api: Api, order: dict[str, Any], amount: int) -> list[str]:
    assert api.call("earn", "POST", f"{M}/purchases", order)[0] == 201
    body = {"refund_id": f"r-{order['order_id']}", "order_id": order["order_id"], "amount_minor": amount}
    status, refunded = api.call("earn", "POST", f"{M}/refunds", body)
    assert status == 201, refunded
    return [c["campaign_id"] for c in refunded["campaigns"]]


def test_a_refund_campaign_sees_the_refunded_orders_items_store_and_channel(api: Api) -> None:
    refund_campaigns(api)
    order = {"order_id": "o1", "amount_minor": 5000, "items": TEA, "store_id": "s1", "channel": "app"}
    assert refund(api, order, 500) == ["tea-back", "store-back", "small-back"]
    assert api.call("members", "GET", M)[1]["tags"] == ["s1", "small", "tea"]


def test_a_refund_campaign_does_not_apply_to_another_order(api: Api) -> None:
    refund_campaigns(api)
    cake = [{"sku": "c1", "category": "cake", "amount_minor": 1000}]
    order = {"order_id": "o2", "amount_minor": 5000, "items": cake, "store_id": "s2", "channel": "app"}
    assert refund(api, order, 2000) == []  # no tea, another store, refunded 2000 (not the order's 5000 either)
    assert api.call("members", "GET", M)[1]["tags"] == []


def test_a_refund_by_lines_shows_its_campaigns_only_the_refunded_lines(api: Api) -> None:
    """Issue 30 acceptance: `order.items` and `order.amount_minor` of a refund by lines are the lines
    refunded, with the units refunded and their money, not the whole order's."""
    status, body = put(
        api,
        rule("tea-back", trigger="refund", when="order.items.exists(i, i.category == 'tea')", effects=[{"tag": "tea"}]),
        rule(
            "two-cakes",
            trigger="refund",
            when="order.items.all(i, i.category == 'cake' && i.quantity == 2 && i.amount_minor == 2000)"
            " && size(order.items) == 1 && order.amount_minor == 2000",
            effects=[{"tag": "cakes"}],
        ),
    )
    assert status == 200, body
    api.call("enrol", "POST", "/programs/demo/members", {"member_id": "m1"})
    items = [
        {"sku": "t1", "category": "tea", "amount_minor": 2000},
        {"sku": "c1", "category": "cake", "amount_minor": 3000, "quantity": 3},
    ]
    assert (
        api.call("earn", "POST", f"{M}/purchases", {"order_id": "o1", "amount_minor": 5000, "items": items})[0] == 201
    )
    body = {"refund_id": "r1", "order_id": "o1", "items": [{"line_id": "2", "quantity": 2}]}
    status, refunded = api.call("earn", "POST", f"{M}/refunds", body)
    assert status == 201, refunded
    assert [c["campaign_id"] for c in refunded["campaigns"]] == ["two-cakes"]  # no tea line among them
    body = {"refund_id": "r2", "order_id": "o1", "items": [{"line_id": "1", "quantity": 1}]}
    status, refunded = api.call("earn", "POST", f"{M}/refunds", body)
    assert [c["campaign_id"] for c in refunded["campaigns"]] == ["tea-back"]
