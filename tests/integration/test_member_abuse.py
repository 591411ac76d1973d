"""Issue 27 items 4-6 on DynamoDB Local through the local runtime: erase a member and let it enrol
itself again: a returning member, with no second welcome pack; its own ids stay its own."""

from __future__ import annotations

import json

from local.dynamodb import client
from local.stack import Stack
from tests.integration.conftest import Client


def test_erasure_then_self_enrolment_gives_no_second_welcome(stack: Stack, api: Client, pid: str) -> None:
    alice = api.as_member("alice")
    status, first = alice("POST", f"/programs/{pid}/me", {})
    assert status == 201 and first["points"]["balance"] == 100, first
    check_in = {"activity_id": "share-bob-2026-12-06", "type": "check_in"}
    assert alice("POST", f"/programs/{pid}/me/activities", check_in)[0] == 201
    status, body = alice("POST", f"/programs/{pid}/me/activities", {"activity_id": "s1", "type": "share"})
    assert status == 403 and body["error"]["details"][0]["field"] == "type"
    # The member's id did not take the server's: the server's write for bob with it is bob's.
    assert api.call("POST", f"/programs/{pid}/members", {"member_id": "bob"})[0] == 201
    share = {"activity_id": "share-bob-2026-12-06", "type": "share"}
    assert api.call("POST", f"/programs/{pid}/members/bob/activities", share)[0] == 201

    status, erased = api.call("DELETE", f"/programs/{pid}/members/alice")
    assert status == 200 and erased["points_removed"] == 105, erased
    status, again = alice("POST", f"/programs/{pid}/me", {})
    assert status == 201 and again["points"]["balance"] == 0, again
    assert alice("GET", f"/programs/{pid}/me/coupons")[1]["coupons"] == []
    assert alice("GET", f"/programs/{pid}/me/ledger")[1]["entries"] == []
    assert alice("POST", f"/programs/{pid}/me", {})[0] == 200  # a repeat: the member as it is
    # Her old id is the new member's to use again; the first-order bonus is not given either.
    status, body = alice("POST", f"/programs/{pid}/me/activities", check_in)
    assert (status, body["points_earned"]) == (201, 5), body
    order = {"order_id": "o-1", "amount_minor": 1000}
    status, body = api.call("POST", f"/programs/{pid}/members/alice/purchases", order)
    assert status == 201 and body["breakdown"]["first_order_bonus"] == 0, body

    # Erased again: nothing in the table names alice but the erasure's marker.
    assert api.call("DELETE", f"/programs/{pid}/members/alice")[0] == 200
    table = client(stack.ddb.endpoint)
    items = [
        item
        for page in table.get_paginator("scan").paginate(TableName="LoyaltyTable")
        for item in page["Items"]
        if pid in json.dumps(item)
    ]
    naming = [item["pk"]["S"] for item in items if "alice" in json.dumps(item)]
    assert naming == [f"ERASED#{pid}#alice"], naming
    assert len([i for i in items if i["pk"]["S"].startswith(f"FORMER#{pid}#")]) == 1
