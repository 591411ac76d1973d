"""A redemption cancelled (API.md "Points held, and given back") through the real handlers (moto)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from loyalty import clock
from loyalty.store.keys import member_pk, ref_key, stock_key
from tests.handlers.conftest import Api
from tests.handlers.test_api import assert_error
from tests.handlers.test_checkout_figures import Stream
from tests.support import Context, http_event, load_function, program

M = "/programs/shop/members/m1"
T0 = datetime(2026, 3, 11, 4, tzinfo=UTC)  # a Wednesday: no double points


@pytest.fixture
def at(api: Api, monkeypatch: pytest.MonkeyPatch) -> Callable[[datetime], None]:
    """The shop: the mug (2 in stock, 5 a member), a VIP mug (1 a member); m1 enrolled with 10,150
    points at T0 (one bucket, expiring 2027-03-31). `at(t)` moves the handlers' clock."""
    now = [T0]
    monkeypatch.setattr(clock, "now", lambda: now[0])
    doc = program("points-only")
    doc["rewards"][1] |= {"stock": 2, "per_member_limit": 5}  # the mug
    doc["rewards"].append(
        {"id": "vip-mug", "name": "VIP mug", "cost_points": 10, "fulfilment": "goods", "per_member_limit": 1}
    )
    assert api.call("programs", "PUT", "/programs/shop", doc)[0] == 200
    for mid in ("m1", "m2"):
        assert api.call("enrol", "POST", "/programs/shop/members", {"member_id": mid})[0] == 201
    order = {"order_id": "o1", "amount_minor": 1000000, "paid_at": clock.iso(T0)}
    assert api.call("earn", "POST", f"{M}/purchases", order)[1]["balance"] == 10150

    def move(t: datetime) -> None:
        now[0] = t

    return move


def redeem(api: Api, rid: str, **body: object) -> dict:
    status, reply = api.call("redeem", "POST", f"{M}/redemptions", {"redemption_id": rid, **body})
    assert status == 201, reply
    return reply


def cancel(api: Api, rid: str, member: str = M, body: object = None) -> tuple[int, dict]:
    return api.call("redeem", "POST", f"{member}/redemptions/{rid}/cancel", body)


def view(api: Api) -> dict:
    return api.call("members", "GET", M)[1]


def ledger(api: Api) -> list[dict]:
    return api.call("members", "GET", f"{M}/ledger", query={"limit": "100"})[1]["entries"]


def wallet(api: Api) -> dict[str, dict]:
    return {c["coupon_id"]: c for c in api.call("members", "GET", f"{M}/coupons")[1]["coupons"]}


def test_a_coupon_reward_cancelled_gives_its_points_back_and_revokes_its_coupons_once(
    api: Api, at: Callable[[datetime], None]
) -> None:
    spent = redeem(api, "r1", reward_id="coffee", quantity=2)
    ids = [c["coupon_id"] for c in spent["coupons"]]
    status, reply = cancel(api, "r1", body={})
    assert status == 200
    assert reply == {
        "redemption_id": "r1",
        "status": "cancelled",
        "points_restored": 600,
        "points_lapsed": 0,
        "points_reversed": 0,
        "coupons_revoked": ids,
    }
    assert cancel(api, "r1") == (200, reply)  # a repeat: the same answer, nothing twice
    assert view(api)["points"]["balance"] == 10150
    entries = ledger(api)
    assert [e["type"] for e in entries].count("restore") == 1
    assert entries[0] == entries[0] | {"type": "restore", "points": 600, "balance_after": 10150}
    assert sum(e["points"] for e in entries) == 10150
    at(T0 + timedelta(seconds=1))
    assert {wallet(api)[i]["status"] for i in ids} == {"expired"}  # revoked: ended at the cancel
    use = {"order_id": "t1", "order_amount_minor": 2000}
    assert_error(*api.call("redeem", "POST", f"{M}/coupons/{ids[0]}/use", use), 409, "coupon_unavailable")


def test_a_used_coupon_refuses_the_cancel_naming_it_and_changes_nothing(
    api: Api, at: Callable[[datetime], None]
) -> None:
    spent = redeem(api, "r1", reward_id="coffee", quantity=2)
    used = spent["coupons"][1]["coupon_id"]
    use = {"order_id": "t1", "order_amount_minor": 2000}
    assert api.call("redeem", "POST", f"{M}/coupons/{used}/use", use)[0] == 200
    before = api.items()
    status, reply = cancel(api, "r1")
    assert_error(status, reply, 409, "coupon_unavailable", "coupon_id")
    assert reply["error"]["details"][0] | {"coupon_id": used, "status": "used"} == reply["error"]["details"][0]
    assert used in reply["error"]["message"]
    assert api.items() == before and view(api)["points"]["balance"] == 10150 - 600


def test_stock_and_the_members_count_are_given_back(api: Api, at: Callable[[datetime], None]) -> None:
    redeem(api, "m-a", reward_id="mug")
    redeem(api, "m-b", reward_id="mug")
    assert_error(
        *api.call("redeem", "POST", f"{M}/redemptions", {"redemption_id": "m-c", "reward_id": "mug"}),
        409,
        "out_of_stock",
    )
    assert cancel(api, "m-a")[1]["points_restored"] == 2500
    redeem(api, "m-c", reward_id="mug")  # the unit given back is in stock again
    redeem(api, "v-a", reward_id="vip-mug")
    assert_error(
        *api.call("redeem", "POST", f"{M}/redemptions", {"redemption_id": "v-b", "reward_id": "vip-mug"}),
        409,
        "limit_reached",
    )
    assert cancel(api, "v-a")[0] == 200
    redeem(api, "v-b", reward_id="vip-mug")  # the member's count given back
    assert view(api)["points"]["balance"] == 10150 - 2 * 2500 - 10


def test_a_deduction_is_cancelled_too(api: Api, at: Callable[[datetime], None]) -> None:
    redeem(api, "d1", deduction={"order_id": "o9", "order_amount_minor": 10000, "points": 3000})
    status, reply = cancel(api, "d1")
    assert status == 200 and (reply["points_restored"], reply["coupons_revoked"]) == (3000, [])
    assert view(api)["points"]["balance"] == 10150


def test_unknown_or_another_members_redemption_is_404(api: Api, at: Callable[[datetime], None]) -> None:
    redeem(api, "r1", reward_id="coffee")
    assert_error(*cancel(api, "nope"), 404, "not_found", "redemption_id")
    assert_error(*cancel(api, "r1", "/programs/shop/members/m2"), 404, "not_found", "redemption_id")
    assert_error(*cancel(api, "r1", "/programs/shop/members/ghost"), 404, "not_found", "member_id")
    assert cancel(api, "r1")[0] == 200  # none of them took the cancel's id


def test_points_go_back_into_their_buckets_and_a_lapsed_one_gives_nothing(
    api: Api, at: Callable[[datetime], None]
) -> None:
    later = T0 + timedelta(days=60)  # May: its points expire 2027-05-31, March's 2027-03-31
    at(later)
    order = {"order_id": "o2", "amount_minor": 500000, "paid_at": clock.iso(later)}
    assert api.call("earn", "POST", f"{M}/purchases", order)[0] == 201
    redeem(api, "r1", reward_id="donate", quantity=12)  # 12,000: all of March's 10,150, 1,850 of May's
    at(datetime(2027, 4, 2, 4, tzinfo=UTC))  # March's bucket has expired, May's not
    status, reply = cancel(api, "r1")
    assert status == 200 and (reply["points_restored"], reply["points_lapsed"]) == (1850, 10150)
    assert view(api)["points"]["balance"] == 5000
    assert sum(e["points"] for e in ledger(api)) == 5000


def test_a_redemption_from_before_the_record_restores_a_fresh_bucket(api: Api, at: Callable[[datetime], None]) -> None:
    redeem(api, "r1", reward_id="coffee")
    ref = {k: {"S": v} for k, v in ref_key("shop", "redemption", "r1").items()}
    api.client.update_item(TableName="LoyaltyTable", Key=ref, UpdateExpression="REMOVE points_paid")
    at(T0 + timedelta(days=40))  # April: a fresh bucket expires 2027-04-30
    assert cancel(api, "r1")[1]["points_restored"] == 300
    key = {"pk": {"S": member_pk("shop", "m1")}, "sk": {"S": "PROFILE"}}
    buckets = api.client.get_item(TableName="LoyaltyTable", Key=key)["Item"]["buckets"]["M"]
    assert {day: int(n["N"]) for day, n in buckets.items()} == {"2027-03-31": 9850, "2027-04-30": 300}


def test_what_the_redemptions_campaigns_gave_is_taken_back(api: Api, at: Callable[[datetime], None]) -> None:
    stream = Stream()
    doc = api.call("programs", "GET", "/programs/shop")[1]
    bonus = {
        "id": "thanks",
        "name": "Thanks",
        "trigger": "redemption",
        "effects": [{"points": 20}, {"coupons": ["free-coffee"]}],
    }
    doc["campaigns"] = [*doc.get("campaigns", []), bonus]
    doc = {k: v for k, v in doc.items() if k not in ("program_id", "version")}
    assert api.call("programs", "PUT", "/programs/shop", doc)[0] == 200, doc
    spent = redeem(api, "r1", reward_id="coffee")
    assert spent["balance"] == 10150 - 300 + 20 and len(spent["coupons"]) == 2
    status, reply = cancel(api, "r1")
    assert status == 200 and (reply["points_restored"], reply["points_reversed"]) == (300, 20)
    assert reply["coupons_revoked"] == [c["coupon_id"] for c in spent["coupons"]]
    assert view(api)["points"]["balance"] == 10150 == sum(e["points"] for e in ledger(api))
    # The campaign's figures net of the cancel (issue 30 acceptance): its 20 points and its coupon back.
    load_function("count_health").handler({"Records": stream.new()}, Context())
    thanks = api.call("programs", "GET", "/programs/shop/campaigns/thanks")[1]
    assert (thanks["points_given"], thanks["points_reversed"]) == (20, 20)
    assert (thanks["coupons_given"], thanks["coupons_revoked"]) == (1, 1)


def test_stock_goes_back_to_a_shard_that_took_it_or_nowhere(api: Api, at: Callable[[datetime], None]) -> None:
    redeem(api, "m-a", reward_id="mug")  # the mug's 2 units: one in each of its 2 shards
    redeem(api, "m-b", reward_id="mug")
    # m-a from before the record: no points_paid, no shard; any shard that took a unit takes it back
    ref = {k: {"S": v} for k, v in ref_key("shop", "redemption", "m-a").items()}
    api.client.update_item(TableName="LoyaltyTable", Key=ref, UpdateExpression="REMOVE points_paid, stock_shard")
    assert cancel(api, "m-a")[0] == 200
    redeem(api, "m-c", reward_id="mug")
    # m-b's shard no longer counts it (its item gone): the cancel goes through without it
    for shard in (0, 1):
        gone = {k: {"S": v} for k, v in stock_key("shop", "mug", shard).items()}
        api.client.delete_item(TableName="LoyaltyTable", Key=gone)
    status, reply = cancel(api, "m-b")
    assert status == 200 and reply["points_restored"] == 2500
    assert view(api)["points"]["balance"] == 10150 - 2500


def test_buy_spend_refund_and_cancel_never_leave_the_member_better_off(
    api: Api, at: Callable[[datetime], None]
) -> None:
    """The order's points spent on a reward, the order refunded in full (what was spent cannot be taken
    back: points_unrecovered), then the reward cancelled: the points it gives back settle what the
    member still owes first (found by the acceptance run: it ended 400 points up)."""
    m2 = "/programs/shop/members/m2"
    start = api.call("members", "GET", m2)[1]["points"]["balance"]
    assert api.call("earn", "POST", f"{m2}/purchases", {"order_id": "o2", "amount_minor": 100000})[0] == 201
    earned = api.call("members", "GET", m2)[1]["points"]["balance"] - start
    status, spent = api.call("redeem", "POST", f"{m2}/redemptions", {"redemption_id": "r2", "reward_id": "coffee"})
    assert status == 201, spent
    status, refunded = api.call(
        "earn", "POST", f"{m2}/refunds", {"refund_id": "f2", "order_id": "o2", "amount_minor": 100000}
    )
    assert status == 201 and refunded["points_unrecovered"] == earned - (start + earned - spent["points_spent"])
    assert cancel(api, "r2", m2)[0] == 200
    after = api.call("members", "GET", m2)[1]["points"]["balance"]
    assert after == start  # not start + what the refund could not take back
    entries = api.call("members", "GET", f"{m2}/ledger", query={"limit": "100"})[1]["entries"]
    assert sum(e["points"] for e in entries) == after


def test_another_members_redemption_is_not_found_even_once_cancelled(api: Api, at: Callable[[datetime], None]) -> None:
    """Found by the acceptance run: m2 cancelling m1's cancelled redemption met m1's cancel (409)."""
    redeem(api, "r-own", reward_id="coffee")
    assert cancel(api, "r-own")[0] == 200
    assert_error(*cancel(api, "r-own", "/programs/shop/members/m2"), 404, "not_found")


def test_a_body_other_than_none_or_empty_is_refused_naming_the_field_and_cancels_nothing(
    api: Api, at: Callable[[datetime], None]
) -> None:
    redeem(api, "r1", reward_id="coffee")
    assert_error(*cancel(api, "r1", body={"x": 1}), 422, "validation_error", "x")
    assert_error(*cancel(api, "r1", body=[]), 422, "validation_error", "body")
    assert_error(*cancel(api, "r1", body="{}"), 422, "validation_error", "body")  # a JSON string is not `{}`
    assert view(api)["points"]["balance"] == 10150 - 300
    status, first = cancel(api, "r1", body={})
    assert (status, first["points_restored"]) == (200, 300), first
    assert cancel(api, "r1") == (200, first)  # no body at all: as before, and a repeat answers the same
    raw = api.handlers["redeem"](http_event("POST", f"{M}/redemptions/r1/cancel", raw_body="null"), Context())
    assert (raw["statusCode"], json.loads(raw["body"])) == (200, first)  # JSON null: no body, as Powertools reads it
