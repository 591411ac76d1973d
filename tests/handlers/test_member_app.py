"""The member's app (API.md "What the member's app shows"): GET .../me/program and the notices, through
the real handlers (moto). Each reward's `available` and `reason` are what a redemption then answers."""

from __future__ import annotations

from collections import Counter
from typing import Any

import boto3
import pytest

from tests.handlers.conftest import Api
from tests.handlers.test_api import assert_error
from tests.handlers.test_cost import calls, measure  # noqa: F401 (calls: a fixture)
from tests.support import program

P = "/programs/shop"
M = f"{P}/members/m1"
ME = f"{P}/me"


def shop_doc() -> dict[str, Any]:
    doc = program("points-only")
    doc["rewards"] = [
        {"id": "coffee", "name": "A free coffee", "cost_points": 300, "grant": {"coupons": ["free-coffee"]}},
        {"id": "mug", "name": "Branded mug", "cost_points": 100, "fulfilment": "goods", "stock": 1},
        {"id": "vip", "name": "VIP pin", "cost_points": 10, "fulfilment": "goods", "per_member_limit": 1},
        {"id": "gold-bar", "name": "Gold bar", "cost_points": 10**8, "fulfilment": "goods"},
        {"id": "daily", "name": "Monthly gift", "cost_points": 10, "grant": {"coupons": ["free-coffee"], "budget": 1}},
    ]
    return doc


@pytest.fixture
def shop(api: Api) -> str:
    assert api.call("programs", "PUT", P, shop_doc())[0] == 200
    for mid in ("m1", "m2"):
        assert api.call("enrol", "POST", f"{P}/members", {"member_id": mid})[0] == 201
        assert (
            api.call("earn", "POST", f"{P}/members/{mid}/purchases", {"order_id": f"o-{mid}", "amount_minor": 100000})[
                0
            ]
            == 201
        )
    return "shop"


def offer(api: Api, reward_id: str, mid: str = "m1") -> dict[str, Any]:
    status, view = api.call("members", "GET", f"{P}/me/program", sub=mid)
    assert status == 200, view
    return next(r for r in view["rewards"] if r["id"] == reward_id)


N = iter(range(10**6))


def agrees(api: Api, reward_id: str, mid: str = "m1") -> dict[str, Any]:
    """The view's answer for one unit, then the redemption's: the same."""
    shown = offer(api, reward_id, mid)
    status, body = api.call(
        "redeem", "POST", f"{ME}/redemptions", {"redemption_id": f"r{next(N)}", "reward_id": reward_id}, sub=mid
    )
    if shown["available"]:
        assert status == 201 and "reason" not in shown, (shown, body)
    else:
        assert_error(status, body, 409, shown["reason"])
    return shown


def test_each_reward_says_what_a_redemption_answers(api: Api, shop: str) -> None:
    assert agrees(api, "coffee") == {"id": "coffee", "name": "A free coffee", "cost_points": 300, "available": True}
    assert agrees(api, "gold-bar")["reason"] == "insufficient_points"
    assert agrees(api, "vip")["available"] is True
    assert agrees(api, "vip")["reason"] == "limit_reached"  # per_member_limit 1
    assert agrees(api, "mug") == {
        "id": "mug",
        "name": "Branded mug",
        "cost_points": 100,
        "available": True,
        "stock_left": 1,
    }
    assert agrees(api, "mug") == {
        "id": "mug",
        "name": "Branded mug",
        "cost_points": 100,
        "available": False,
        "reason": "out_of_stock",
        "stock_left": 0,
    }
    assert agrees(api, "mug", "m2")["reason"] == "out_of_stock"  # the stock is the program's
    assert agrees(api, "daily")["available"] is True
    assert agrees(api, "daily", "m2")["reason"] == "limit_reached"  # the month's grant budget is spent


def test_a_blocked_member_is_told_so_for_every_reward(api: Api, shop: str) -> None:
    boto3.client("dynamodb").update_item(
        TableName="LoyaltyTable",
        Key={"pk": {"S": "MEMBER#shop#m1"}, "sk": {"S": "PROFILE"}},
        UpdateExpression="SET blocked = :b",
        ExpressionAttributeValues={":b": {"M": {"at": {"S": "2026-01-01T00:00:00Z"}, "reason": {"S": "fraud"}}}},
    )
    for reward in shop_doc()["rewards"]:
        assert agrees(api, reward["id"])["reason"] == "member_blocked"
    assert offer(api, "coffee", "m2")["available"] is True


def test_points_held_by_an_open_checkout_are_not_available(api: Api, shop: str) -> None:
    balance = api.call("members", "GET", M)[1]["points"]["balance"]
    cart = {
        "items": [{"line_id": "1", "sku": "x", "quantity": 1, "unit_price_minor": 10**6}],
        "points_to_use": balance - 200,
    }
    status, body = api.call("checkout", "PUT", f"{M}/checkouts/k1", cart)
    assert status == 200, body
    assert agrees(api, "coffee")["reason"] == "insufficient_points"  # 300 > the 200 not held


def test_the_view_of_the_program(api: Api, demo: str) -> None:
    assert api.call("enrol", "POST", "/programs/demo/members", {"member_id": "m1"})[0] == 201
    status, view = api.call("members", "GET", "/programs/demo/me/program", sub="m1")
    assert status == 200 and (view["name"], view["currency"]) == ("Demo Coffee", "CNY")
    gold = next(t for t in view["tiers"] if t["id"] == "gold")
    assert (gold["threshold"], gold["earn_multiplier"]) == (100000, 1.2)
    assert [b["kind"] for b in gold["benefits"]] == ["earn_multiplier", "upgrade_gift", "monthly_gift"]
    assert gold["benefits"][0] == {"kind": "earn_multiplier", "name": "1.2x points", "earn_multiplier": 1.2}
    assert gold["benefits"][2]["coupons"][0]["template_id"] == "gold-monthly"
    assert view["tiers"][0]["benefits"] == []
    assert {"type": "check_in", "points": 5, "daily_cap": 1, "self_report": True} in view["activities"]
    assert view["campaigns"] == []  # the demo's campaign is not public
    assert view["rewards"][0]["available"] is False  # a welcome pack of 100 points: 500 needed
    assert api.call("members", "GET", "/programs/demo/members/m1/program") == (200, view)  # the server twin
    assert_error(*api.call("members", "GET", "/programs/demo/me/program", sub="nobody"), 404, "not_found", "member_id")


def test_only_public_campaigns_are_listed_and_never_their_rules(api: Api, demo: str) -> None:
    doc = program("demo")
    public = {**doc["campaigns"][0], "id": "shown", "public": {"title": "Check in 5 days", "description": "50 points"}}
    ended = {**public, "id": "ended", "active": {"until": "2020-01-01T00:00:00Z"}}
    doc["campaigns"] += [public, ended]
    assert api.call("programs", "PUT", "/programs/demo", doc)[0] == 200
    assert api.call("enrol", "POST", "/programs/demo/members", {"member_id": "m1"})[0] == 201
    campaigns = api.call("members", "GET", "/programs/demo/me/program", sub="m1")[1]["campaigns"]
    assert campaigns == [
        {"id": "shown", "title": "Check in 5 days", "description": "50 points", "active": True},
        {"id": "ended", "title": "Check in 5 days", "description": "50 points", "active": False},
    ]


@pytest.mark.parametrize(
    ("public", "field"),
    [
        ({"title": ""}, "campaigns[0].public.title"),
        ({"title": "x" * 101}, "campaigns[0].public.title"),
        ({"title": "   "}, "campaigns[0].public.title"),
        ({"title": "ok", "description": "x" * 1001}, "campaigns[0].public.description"),
        ({"title": "a\u0007b"}, "campaigns[0].public.title"),
        ({"title": "ok", "when": "true"}, "campaigns[0].public.when"),
    ],
)
def test_public_text_is_checked_at_put(api: Api, public: dict, field: str) -> None:
    doc = program("demo")
    doc["campaigns"][0]["public"] = public
    status, body = api.call("programs", "PUT", "/programs/demo", doc)
    assert_error(status, body, 422, "program_invalid", field)


# ---- notices -------------------------------------------------------------------------------------------


def notices_doc() -> dict[str, Any]:
    doc = program("demo")
    doc["campaigns"].append(
        {
            "id": "thanks",
            "name": "internal: every order over 0",
            "trigger": "purchase",
            "effects": [{"points": 7}],
            "public": {"title": "Thank-you points"},
        }
    )
    return doc


def buy(api: Api, mid: str, order: str, paid_at: str) -> None:
    body = {"order_id": order, "amount_minor": 1000, "paid_at": paid_at}
    assert api.call("earn", "POST", f"/programs/demo/members/{mid}/purchases", body)[0] == 201


@pytest.fixture
def noticed(api: Api) -> None:
    assert api.call("programs", "PUT", "/programs/demo", notices_doc())[0] == 200
    for mid in ("alice", "bob"):
        body = {"member_id": mid, "enrolled_at": "2026-01-01T00:00:00Z"}
        assert api.call("enrol", "POST", "/programs/demo/members", body)[0] == 201
    buy(api, "alice", "a2", "2026-03-01T00:00:00Z")
    buy(api, "alice", "a3", "2026-05-01T00:00:00Z")
    buy(api, "alice", "a1", "2026-02-01T00:00:00Z")  # synced late: still listed by its time
    buy(api, "bob", "b1", "2026-04-01T00:00:00Z")


def test_notices_are_newest_first_in_words_and_paged(api: Api, noticed: None) -> None:
    status, page = api.call("members", "GET", "/programs/demo/me/notices", query={"limit": "2"}, sub="alice")
    assert status == 200 and [n["ref"] for n in page["notices"]] == ["order:a3", "order:a2"]
    first = page["notices"][0]
    assert first["text"] == "Thank-you points: you got 7 points"
    assert (first["kind"], first["at"], first["points"], first["campaign_id"]) == (
        "campaign_applied",
        "2026-05-01T00:00:00Z",
        7,
        "thanks",
    )
    assert "internal" not in str(page)  # the campaign's name is the operator's
    query = {"limit": "2", "cursor": page["next_cursor"]}
    status, rest = api.call("members", "GET", "/programs/demo/me/notices", query=query, sub="alice")
    assert status == 200 and [n["ref"] for n in rest["notices"]] == ["order:a1"] and rest["next_cursor"] is None
    server = api.call("members", "GET", "/programs/demo/members/alice/notices")
    assert server == (200, {"notices": page["notices"] + rest["notices"], "next_cursor": None})


def test_a_tier_change_is_a_notice(api: Api, demo: str) -> None:
    """Up by a purchase, back down by its refund: each a notice with the tiers it moved between."""
    assert api.call("enrol", "POST", "/programs/demo/members", {"member_id": "tim"})[0] == 201
    m = "/programs/demo/members/tim"
    status, bought = api.call("earn", "POST", f"{m}/purchases", {"order_id": "t1", "amount_minor": 1_500_000})
    assert status == 201 and bought["tier_changed"], bought
    refund = {"refund_id": "r1", "order_id": "t1", "amount_minor": 1_500_000}
    assert api.call("earn", "POST", f"{m}/refunds", refund)[0] == 201
    status, page = api.call("members", "GET", f"{m}/notices")
    assert status == 200, page
    moves = [(n["from_tier"], n["to_tier"], n["reason"]) for n in page["notices"] if n["kind"] == "tier_changed"]
    # Newest first: the refund back from the highest tier reached to the one before the first upgrade.
    assert [t[2] for t in moves] == ["refund"] + ["upgrade"] * (len(moves) - 1), moves
    assert moves[0][:2] == (moves[1][1], moves[-1][0]), moves
    texts = [n["text"] for n in page["notices"] if n["kind"] == "tier_changed"]
    assert texts[-1].startswith("Welcome to ") and texts[0].startswith("Your tier is now "), texts


def test_a_member_token_reads_only_its_own_notices(api: Api, noticed: None) -> None:
    bob = api.call("members", "GET", "/programs/demo/me/notices", sub="bob")[1]
    assert [n["ref"] for n in bob["notices"]] == ["order:b1"]
    page = api.call("members", "GET", "/programs/demo/me/notices", query={"limit": "1"}, sub="alice")[1]
    # alice's cursor is no page of bob's list: 422, not alice's notices
    status, body = api.call(
        "members", "GET", "/programs/demo/me/notices", query={"cursor": page["next_cursor"]}, sub="bob"
    )
    assert_error(status, body, 422, "validation_error", "cursor")
    assert api.call("members", "GET", "/programs/demo/me/notices")[0] == 401


def test_notices_written_before_the_timed_keys_follow_the_timed_ones(api: Api, noticed: None) -> None:
    old = {
        "pk": {"S": "MEMBER#demo#alice"},
        "sk": {"S": "NOTICE#points_expiring.2026-12-31"},
        "type": {"S": "notice"},
        "notice_id": {"S": "points_expiring.2026-12-31"},
        "kind": {"S": "points_expiring"},
        "at": {"S": "2026-06-01T00:00:00Z"},
        "points": {"N": "120"},
        "expires_on": {"S": "2026-12-31"},
    }
    boto3.client("dynamodb").put_item(TableName="LoyaltyTable", Item=old)
    listed = api.call("members", "GET", "/programs/demo/me/notices", sub="alice")[1]["notices"]
    assert [n["ref"] for n in listed[:3]] == ["order:a3", "order:a2", "order:a1"]
    assert listed[3]["text"] == "120 points expire on 2026-12-31"


def test_an_unknown_member_has_no_notices(api: Api, noticed: None) -> None:
    assert_error(*api.call("members", "GET", "/programs/demo/members/nobody/notices"), 404, "not_found", "member_id")


def test_round_trips(api: Api, shop: str, calls: Counter[str], monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """The program from the cache; the profile with the stocked rewards' shards and the rewards' budgets in
    one BatchGetItem (a GetItem without either); a page of notices one Query (test_notices_cost)."""
    monkeypatch.setenv("PROGRAM_CACHE_TTL_SECONDS", "300")
    api.call("members", "GET", f"{ME}/program", sub="m1")  # warms the program cache
    assert measure(calls, api, "members", "GET", f"{ME}/program", sub="m1") == {"BatchGetItem": 1}
    # No notice yet: an empty first page also asks whether the member exists, as the ledger's does.
    assert measure(calls, api, "members", "GET", f"{ME}/notices", sub="m1") == {"Query": 1, "GetItem": 1}
    plain = shop_doc()
    plain["rewards"] = plain["rewards"][:1]
    assert api.call("programs", "PUT", P, plain)[0] == 200
    api.call("members", "GET", f"{ME}/program", sub="m1")
    assert measure(calls, api, "members", "GET", f"{ME}/program", sub="m1") == {"GetItem": 1}


def test_notices_cost(api: Api, noticed: None, calls: Counter[str], monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    monkeypatch.setenv("PROGRAM_CACHE_TTL_SECONDS", "300")
    api.call("members", "GET", "/programs/demo/me/notices", sub="alice")
    assert measure(calls, api, "members", "GET", "/programs/demo/me/notices", sub="alice") == {"Query": 1}
