"""Purchases the engine refuses, through the local runtime on DynamoDB Local: nothing is written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from local.dynamodb import client
from local.stack import Stack
from loyalty.store import Store
from tests.integration.conftest import Client


def test_a_purchase_paid_before_the_enrolment_is_refused_and_writes_nothing(
    stack: Stack, api: Client, pid: str
) -> None:
    member = f"/programs/{pid}/members/m1"
    enrolled = datetime.now(UTC).replace(microsecond=0) - timedelta(days=30)
    assert (
        api.call("POST", f"/programs/{pid}/members", {"member_id": "m1", "enrolled_at": enrolled.isoformat()})[0] == 201
    )
    assert api.call("POST", f"{member}/purchases", {"order_id": "o0", "amount_minor": 1000})[0] == 201
    view, entries = api.call("GET", member)[1], api.call("GET", f"{member}/ledger")[1]

    # 6000.00 paid a day before the enrolment: it would have upgraded the member two levels.
    order = {"order_id": "o1", "amount_minor": 600000, "paid_at": (enrolled - timedelta(days=1)).isoformat()}
    status, reply = api.call("POST", f"{member}/purchases", order)
    assert status == 422 and reply["error"]["code"] == "validation_error", reply
    assert [d["field"] for d in reply["error"]["details"]] == ["paid_at"]

    assert api.call("GET", member)[1] == view  # balance, tier, qualifying spend: unchanged
    assert api.call("GET", f"{member}/ledger")[1] == entries
    assert Store("LoyaltyTable", client(stack.ddb.endpoint)).get_ref(pid, "order", "o1") is None


def test_items_over_the_order_are_refused_and_write_nothing(stack: Stack, api: Client, pid: str) -> None:
    member = f"/programs/{pid}/members/m1"
    assert api.call("POST", f"/programs/{pid}/members", {"member_id": "m1"})[0] == 201
    view = api.call("GET", member)[1]
    items = [{"sku": f"s{i}", "amount_minor": 10**12} for i in range(100)]
    status, reply = api.call("POST", f"{member}/purchases", {"order_id": "o1", "amount_minor": 100, "items": items})
    assert status == 422 and [d["field"] for d in reply["error"]["details"]] == ["items"], reply
    assert api.call("GET", member)[1] == view
    assert Store("LoyaltyTable", client(stack.ddb.endpoint)).get_ref(pid, "order", "o1") is None
