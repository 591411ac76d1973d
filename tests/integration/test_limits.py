"""DynamoDB's own limits, on DynamoDB Local (issue 14, section 4): the largest redemption and program
the engine accepts are stored, and one more is a 422 in the contract's shape, never a 500."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from local.dynamodb import client
from local.stack import Stack, put_program
from loyalty import caller
from loyalty.schemas import Redeem
from loyalty.store import Store
from loyalty.usecases import spending
from tests.handlers.test_limits import PROGRAM_LIMIT, padded_to, shop, stored_bytes, with_templates
from tests.integration.conftest import Client

KINDS = ("rfm", "cards", "benefits", "tier_review", "expire", "remind", "churn")


def shop_with_member(api: Client) -> str:
    pid = f"l-{uuid.uuid4().hex[:10]}"
    assert put_program(api.base, pid, shop())[0] == 200
    assert api.call("POST", f"/programs/{pid}/members", {"member_id": "m1"})[0] == 201
    order = {"order_id": "o1", "amount_minor": 100000}
    assert api.call("POST", f"/programs/{pid}/members/m1/purchases", order)[0] == 201
    return pid


def redeem(api: Client, pid: str, rid: str, reward: str, quantity: int) -> tuple[int, Any]:
    body = {"redemption_id": rid, "reward_id": reward, "quantity": quantity}
    return api.call("POST", f"/programs/{pid}/members/m1/redemptions", body)


def test_one_redemption_more_than_a_transaction_holds_is_a_422_naming_quantity(api: Client) -> None:
    pid = shop_with_member(api)
    for reward, over in (("one", 88), ("one", 100), ("pair", 44)):
        status, body = redeem(api, pid, f"over-{reward}-{over}", reward, over)
        assert status == 422, body
        assert body["error"]["code"] == "validation_error"
        assert [d["field"] for d in body["error"]["details"]] == ["quantity"]
    for reward, most in (("one", 87), ("pair", 43), ("mug", 100)):
        status, body = redeem(api, pid, f"max-{reward}", reward, most)
        assert status == 201, body
        assert len(body["coupons"]) == most * {"one": 1, "pair": 2, "mug": 0}[reward]


@pytest.mark.parametrize(("reward", "most"), [("one", 87), ("capped", 86)])
def test_the_largest_redemption_is_exactly_100_items_and_commits(
    stack: Stack, api: Client, reward: str, most: int
) -> None:
    """The worst case the bound counts: a lapsed bucket (the expiry entry), every DUE item moved, a stock
    shard, the reference, its audit item, the profile, the redemption's entry and 87 coupons (86 and the budget item
    for a reward with a budget)."""
    pid = shop_with_member(api)
    ddb = client(stack.ddb.endpoint)
    ddb.update_item(
        TableName="LoyaltyTable",
        Key={"pk": {"S": f"MEMBER#{pid}#m1"}, "sk": {"S": "PROFILE"}},
        UpdateExpression="SET due_days = :due, buckets.#lapsed = :five",
        ExpressionAttributeNames={"#lapsed": "2000-01-31"},
        ExpressionAttributeValues={
            ":due": {"M": {kind: {"S": "2000-01-01"} for kind in KINDS}},
            ":five": {"N": "5"},
        },
    )
    sent: list[int] = []
    real = ddb.transact_write_items

    def counted(**kwargs: Any) -> Any:
        sent.append(len(kwargs["TransactItems"]))
        return real(**kwargs)

    ddb.transact_write_items = counted
    store = Store("LoyaltyTable", ddb)
    token = caller.serving("support@example.com")  # a request's actor: its audit item is one of the 100
    try:
        _, body = spending.redeem(
            store, pid, "m1", Redeem(redemption_id="max", reward_id=reward, quantity=most), datetime.now(UTC)
        )
    finally:
        caller.done(token)
    assert sent == [100] and len(body.coupons) == most
    entries = [e.type for e in store.ledger(pid, "m1", 2, None)[0]]
    assert entries == ["redeem", "expire"]


def test_a_program_over_the_item_limit_is_refused_and_one_at_the_limit_is_stored(api: Client) -> None:
    pid = f"big-{uuid.uuid4().hex[:10]}"
    doc = with_templates(5000)
    status, body = put_program(api.base, pid, doc)
    assert status == 422, body
    assert body["error"]["code"] == "program_invalid"  # type: ignore[index]
    [detail] = body["error"]["details"]  # type: ignore[index]
    assert (detail["field"], detail["bytes"], detail["limit_bytes"]) == ("coupons", stored_bytes(doc), PROGRAM_LIMIT)
    assert api.call("GET", f"/programs/{pid}")[0] == 404  # nothing written
    # At the limit, the item (document, keys, version) fits DynamoDB's 400 KB; one byte more is refused.
    status, saved = put_program(api.base, pid, padded_to(PROGRAM_LIMIT))
    assert (status, saved["version"]) == (200, 1), saved
    status, got = api.call("GET", f"/programs/{pid}")
    assert status == 200 and got["coupons"]["pad"] == padded_to(PROGRAM_LIMIT)["coupons"]["pad"]
    assert put_program(api.base, pid, padded_to(PROGRAM_LIMIT + 1))[0] == 422
    assert put_program(api.base, pid, padded_to(PROGRAM_LIMIT))[0] == 200  # version 2: both items fit
