"""Guest orders (a non-member's order, exactly once) and the health figures they feed: guest GMV, the
members' share of GMV, the conversion rate and new members by channel, counted from moto's stream by
the real health counter."""

from __future__ import annotations

from typing import Any

import boto3

from tests.handlers.conftest import Api
from tests.handlers.test_checkout_figures import Stream
from tests.support import Context, load_function

GUESTS = "/programs/demo/guest-orders"


def guest(api: Api, order_id: str, amount: int, customer_ref: str | None = None, **more: Any) -> tuple[int, Any]:
    body = {"order_id": order_id, "amount_minor": amount, **more}
    return api.call("earn", "POST", GUESTS, body | ({"customer_ref": customer_ref} if customer_ref else {}))


def enrol(api: Api, member_id: str, **more: Any) -> None:
    status, body = api.call("enrol", "POST", "/programs/demo/members", {"member_id": member_id, **more})
    assert status == 201, body


def test_a_guest_order_is_recorded_once_and_creates_no_member(api: Api, demo: str) -> None:
    status, first = guest(api, "g-1", 4200, "crm-1", paid_at="2026-11-20T10:00:00+08:00")
    assert status == 201, first
    assert (first["order_id"], first["amount_minor"], first["customer_ref"]) == ("g-1", 4200, "crm-1")
    assert first["paid_at"] == "2026-11-20T02:00:00Z"
    assert guest(api, "g-1", 4200, "crm-1", paid_at="2026-11-20T10:00:00+08:00") == (200, first)
    status, other = guest(api, "g-1", 4300, "crm-1")
    assert status == 409 and other["error"]["code"] == "idempotency_conflict", other
    assert other["error"]["details"][0]["field"] == "order_id"
    members = boto3.client("dynamodb").scan(  # test-only inspection: no member partition was touched
        TableName="LoyaltyTable",
        FilterExpression="begins_with(pk, :m)",
        ExpressionAttributeValues={":m": {"S": "MEMBER#"}},
    )
    assert members["Count"] == 0


def test_guest_and_member_orders_share_one_id_space(api: Api, demo: str) -> None:
    enrol(api, "m1")
    status, _ = api.call(
        "earn", "POST", "/programs/demo/members/m1/purchases", {"order_id": "o-1", "amount_minor": 5000}
    )
    assert status == 201
    status, taken = guest(api, "o-1", 5000)
    assert status == 409 and taken["error"]["code"] == "idempotency_conflict", taken
    assert guest(api, "g-2", 3000)[0] == 201
    status, used = api.call(
        "earn", "POST", "/programs/demo/members/m1/purchases", {"order_id": "g-2", "amount_minor": 3000}
    )
    assert status == 409 and used["error"]["code"] == "idempotency_conflict", used
    refund = {"refund_id": "r-1", "order_id": "g-2", "amount_minor": 100}
    status, refused = api.call("earn", "POST", "/programs/demo/members/m1/refunds", refund)
    assert status == 404 and refused["error"]["code"] == "not_found", refused


def test_bad_guest_orders_are_4xx_naming_the_field(api: Api, demo: str) -> None:
    for body, field in [
        ({"order_id": "g-1", "amount_minor": -1}, "amount_minor"),
        ({"order_id": "g 1", "amount_minor": 1}, "order_id"),
        ({"order_id": "g-1", "amount_minor": 1, "customer_ref": "a#b"}, "customer_ref"),
        ({"order_id": "g-1", "amount_minor": 1, "paid_at": "2999-01-01T00:00:00Z"}, "paid_at"),
    ]:
        status, error = api.call("earn", "POST", GUESTS, body)
        assert status == 422 and field in [d["field"] for d in error["error"]["details"]], (body, error)
    assert api.call("earn", "POST", "/programs/nope/guest-orders", {"order_id": "g-1", "amount_minor": 1})[0] == 404


def test_conversion_rate_worked_example(api: Api, demo: str) -> None:
    """README's example: crm-1 (two guest orders) and crm-2 enrol, crm-3 does not; one guest order
    has no customer_ref; m3 names a customer_ref that never ordered as a guest, m4 no channel."""
    count = load_function("count_health").handler
    stream = Stream()
    assert guest(api, "g-1", 3000, "crm-1")[0] == 201
    assert guest(api, "g-2", 2000, "crm-1")[0] == 201
    assert guest(api, "g-3", 1000, "crm-2")[0] == 201
    assert guest(api, "g-4", 500, "crm-3")[0] == 201
    assert guest(api, "g-5", 1500)[0] == 201
    enrol(api, "m1", customer_ref="crm-1", channel="app")
    enrol(api, "m2", customer_ref="crm-2", channel="web")
    enrol(api, "m3", customer_ref="crm-9", channel="app")
    enrol(api, "m4")
    enrol(api, "m5", customer_ref="crm-1", channel="app")  # a second member naming crm-1 converts nothing more
    status, _ = api.call(
        "earn", "POST", "/programs/demo/members/m1/purchases", {"order_id": "o-1", "amount_minor": 8000}
    )
    assert status == 201
    records = stream.new()
    # The repeat after reading the stream: moto's stream stops at a cancelled transaction (DynamoDB's
    # records none); tests/integration/test_guests.py repeats against DynamoDB Local, in parallel too.
    assert guest(api, "g-1", 3000, "crm-1")[0] == 200
    assert count({"Records": records}, Context())["counted"] > 0
    assert count({"Records": records}, Context()) == {"counted": 0}  # delivered again: counted once
    status, health = api.call("programs", "GET", "/programs/demo/health")
    assert status == 200, health
    assert health["guest_gmv_minor"] == 3000 + 2000 + 1000 + 500 + 1500
    assert health["member_gmv_minor"] == 8000
    assert health["member_gmv_share"] == round(8000 / (8000 + 8000), 4)
    assert (health["guest_customers"], health["converted_guests"]) == (3, 2)
    assert health["conversion_rate"] == round(2 / 3, 4)
    assert health["new_members"] == 5
    assert health["new_members_by_channel"] == {"app": 3, "web": 1}


def test_no_guests_no_rates(api: Api, demo: str) -> None:
    status, health = api.call("programs", "GET", "/programs/demo/health")
    assert status == 200
    assert (health["guest_gmv_minor"], health["member_gmv_share"], health["conversion_rate"]) == (0, None, None)
    assert health["new_members_by_channel"] == {}
