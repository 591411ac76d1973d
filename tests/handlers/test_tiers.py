"""Tier evaluation through the real handler (moto): upgrades at once, downgrades one level per grace."""

from __future__ import annotations

from datetime import UTC, datetime

from loyalty.runtime import store
from loyalty.schemas import Enrol, Purchase
from loyalty.usecases import earning, members
from tests.handlers.conftest import Api
from tests.handlers.test_api import assert_error
from tests.support import program

M = "/programs/demo/members/m1"


def evaluate(api: Api, at: str) -> tuple[int, dict]:
    return api.call("evaluate_tier", "POST", f"{M}/tier-evaluations", {"at": at})


def test_review_drops_one_level_after_the_grace_and_keeps_history(api: Api) -> None:
    api.call("programs", "PUT", "/programs/demo", program("demo"))  # gold at 1,000.00 over 6 months
    t0 = datetime(2026, 1, 5, 4, tzinfo=UTC)
    members.enrol(store(), "demo", Enrol(member_id="m1"), t0)
    bought = earning.purchase(store(), "demo", "m1", Purchase(order_id="o1", amount_minor=600000), t0).result
    assert bought.tier == "diamond"  # 6,000.00 passes gold and diamond at once

    assert evaluate(api, "2026-02-05T04:00:00Z") == (
        200,
        {"tier": "diamond", "tier_changed": False, "from": "diamond", "to": "diamond"},
    )
    # July: January's spend has left the 6-month window. Monthly reviews, grace 1: two reviews under.
    assert evaluate(api, "2026-07-05T04:00:00Z")[1]["tier"] == "diamond"  # first review under: grace
    assert evaluate(api, "2026-07-05T04:00:00Z")[1]["tier"] == "diamond"  # same period: counts once
    status, body = evaluate(api, "2026-08-05T04:00:00Z")
    assert (status, body) == (200, {"tier": "gold", "tier_changed": True, "from": "diamond", "to": "gold"})  # one level
    history = api.client.query(
        TableName="LoyaltyTable",
        KeyConditionExpression="pk = :pk AND begins_with(sk, :t)",
        ExpressionAttributeValues={":pk": {"S": "MEMBER#demo#m1"}, ":t": {"S": "TIER#"}},
    )["Items"]
    assert [(h["from_tier"].get("S"), h["to_tier"]["S"], h["reason"]["S"]) for h in history] == [
        ("star", "gold", "upgrade"),
        ("gold", "diamond", "upgrade"),
        ("diamond", "gold", "review"),
    ]


def test_unknown_member_is_404(api: Api) -> None:
    api.call("programs", "PUT", "/programs/demo", program("demo"))
    status, body = evaluate(api, "2026-02-05T04:00:00Z")
    assert_error(status, body, 404, "not_found", "member_id")
