"""Block and unblock (issue 32, item 3): a blocked member earns and spends nothing (409 `member_blocked`,
nothing written), keeps what it had, is due for no sweep until unblocked; refunds and cancellations
still work."""

from __future__ import annotations

from typing import Any

from loyalty.runtime import store
from tests.handlers.conftest import Api
from tests.support import program

P = "/programs/demo"
M = f"{P}/members/m1"


def enrol(api: Api, member_id: str = "m1") -> None:
    assert api.call("enrol", "POST", f"{P}/members", {"member_id": member_id})[0] == 201


def view(api: Api) -> dict[str, Any]:
    status, body = api.call("members", "GET", M)
    assert status == 200, body
    return body


def block(api: Api, reason: str = "chargebacks") -> dict[str, Any]:
    status, body = api.call("enrol", "PUT", f"{M}/block", {"reason": reason})
    assert status == 200, body
    return body


def unblock(api: Api) -> dict[str, Any]:
    status, body = api.call("enrol", "DELETE", f"{M}/block")
    assert status == 200, body
    return body


def assert_blocked(api: Api, fn: str, method: str, path: str, body: Any = None, **kw: Any) -> None:
    """409 member_blocked naming member_id, and not one item written."""
    before = api.items()
    status, answer = api.call(fn, method, path, body, **kw)
    assert status == 409 and answer["error"]["code"] == "member_blocked", (path, status, answer)
    assert [d["field"] for d in answer["error"]["details"]] == ["member_id"]
    assert api.items() == before, path


def due_kinds(api: Api, member_id: str = "m1") -> set[str]:
    items = api.client.query(
        TableName="LoyaltyTable",
        KeyConditionExpression="pk = :pk AND begins_with(sk, :due)",
        ExpressionAttributeValues={":pk": {"S": f"MEMBER#demo#{member_id}"}, ":due": {"S": "DUE#"}},
    )["Items"]
    return {i["sk"]["S"].removeprefix("DUE#") for i in items}


def test_block_shows_on_the_view_is_audited_and_a_repeat_keeps_the_first(api: Api, demo: str) -> None:
    enrol(api)
    assert view(api)["blocked"] is None and view(api)["flags"] == []
    blocked = block(api, "chargebacks")["blocked"]
    assert blocked["reason"] == "chargebacks" and blocked["at"]
    assert block(api, "another reason")["blocked"] == blocked  # the first block stays
    assert view(api)["blocked"] == blocked
    assert unblock(api)["blocked"] is None
    assert unblock(api)["blocked"] is None  # not blocked: no change
    trail = [e["what"] for e in api.call("members", "GET", f"{M}/audit")[1]["entries"]]
    assert trail == ["unblock", "block", "enrolment"]


def test_block_refuses_a_bad_reason_and_an_unknown_member(api: Api, demo: str) -> None:
    enrol(api)
    for body, field in (({}, "reason"), ({"reason": " "}, "reason"), ({"reason": "a\u0007b"}, "reason")):
        status, answer = api.call("enrol", "PUT", f"{M}/block", body)
        assert status == 422 and [d["field"] for d in answer["error"]["details"]] == [field], answer
    status, answer = api.call("enrol", "PUT", f"{P}/members/nobody/block", {"reason": "x"})
    assert status == 404 and answer["error"]["code"] == "not_found"
    assert api.call("enrol", "DELETE", f"{P}/members/nobody/block")[0] == 404


def test_a_blocked_member_earns_and_spends_nothing_on_any_route(api: Api, demo: str) -> None:
    enrol(api)
    assert api.call("earn", "POST", f"{M}/purchases", {"order_id": "o1", "amount_minor": 120000})[0] == 201
    wallet = api.call("members", "GET", f"{M}/coupons")[1]["coupons"]
    coupon = next(c["coupon_id"] for c in wallet if c["status"] == "available")
    open_body = {"items": [{"line_id": "1", "sku": "latte", "quantity": 1, "unit_price_minor": 3000}]}
    status, opened = api.call("checkout", "PUT", f"{M}/checkouts/c1", open_body)
    assert status == 200, opened
    had = view(api)
    block(api)
    assert_blocked(api, "earn", "POST", f"{M}/purchases", {"order_id": "o2", "amount_minor": 5000})
    assert_blocked(api, "earn", "POST", f"{M}/activities", {"activity_id": "a1", "type": "share"})
    assert_blocked(api, "earn", "POST", f"{P}/me/activities", {"activity_id": "a2", "type": "check_in"}, sub="m1")
    redemption = {"redemption_id": "r1", "reward_id": "coupon-5"}
    assert_blocked(api, "redeem", "POST", f"{M}/redemptions", redemption)
    assert_blocked(api, "redeem", "POST", f"{P}/me/redemptions", redemption, sub="m1")
    use = {"order_id": "o3", "order_amount_minor": 6000}
    assert_blocked(api, "redeem", "POST", f"{M}/coupons/{coupon}/use", use)
    assert_blocked(api, "checkout", "PUT", f"{M}/checkouts/c2", open_body)
    confirm = {"order_id": "o4", "amount_paid_minor": opened["total_minor"]}
    assert_blocked(api, "checkout", "POST", f"{M}/checkouts/c1/confirm", confirm)
    card = {"payment_id": "pay-1", "plan_id": "plus-quarter", "amount_paid_minor": 4500}
    assert_blocked(api, "purchase_paid_card", "POST", f"{M}/paid-cards", card)
    # It keeps what it had.
    kept = view(api)
    assert (kept["points"], kept["tier"]) == (had["points"], had["tier"])
    # A repeat of a write made before the block answers its first result.
    assert api.call("earn", "POST", f"{M}/purchases", {"order_id": "o1", "amount_minor": 120000})[0] == 200


def test_refunds_cancellations_and_adjustments_still_work(api: Api, demo: str) -> None:
    enrol(api)
    assert api.call("earn", "POST", f"{M}/purchases", {"order_id": "o1", "amount_minor": 100000})[0] == 201
    redemption = {"redemption_id": "r1", "reward_id": "coupon-5"}
    assert api.call("redeem", "POST", f"{M}/redemptions", redemption)[0] == 201
    block(api)
    status, refunded = api.call(
        "earn", "POST", f"{M}/refunds", {"refund_id": "f1", "order_id": "o1", "amount_minor": 50000}
    )
    assert status == 201 and refunded["points_reversed"] > 0, refunded
    status, cancelled = api.call("redeem", "POST", f"{M}/redemptions/r1/cancel", {})
    assert status in (200, 201), cancelled
    adjust = {"adjustment_id": "adj-1", "points": -10, "reason": "abuse clawback"}
    assert api.call("enrol", "POST", f"{M}/adjustments", adjust)[0] == 201
    assert view(api)["blocked"] is not None


def test_a_blocked_member_is_due_for_nothing_until_unblocked(api: Api, demo: str) -> None:
    enrol(api)
    assert api.call("earn", "POST", f"{M}/purchases", {"order_id": "o1", "amount_minor": 120000})[0] == 201
    due = due_kinds(api)
    assert {"expire", "remind", "tier_review"} <= due
    planned = store().get_member("demo", "m1").due_days  # type: ignore[union-attr]
    block(api)
    assert due_kinds(api) == set()  # no sweep reads it while blocked
    assert store().get_member("demo", "m1").due_days == {}  # type: ignore[union-attr]
    unblock(api)
    assert due_kinds(api) == due
    assert store().get_member("demo", "m1").due_days == planned  # type: ignore[union-attr]


def test_a_program_without_abuse_limits_is_unchanged_and_bad_limits_are_named(api: Api) -> None:
    doc = program("demo")
    doc["abuse"] = {"max_orders_per_day": 0}
    status, body = api.call("programs", "PUT", P, doc)
    assert status == 422 and body["error"]["details"][0]["field"] == "abuse.max_orders_per_day", body
    doc["abuse"] = {"max_orders": 3}
    status, body = api.call("programs", "PUT", P, doc)
    assert status == 422 and body["error"]["details"][0]["field"] == "abuse.max_orders", body


def test_a_blocked_members_tags_set_off_no_campaign(api: Api) -> None:
    doc = program("demo")
    doc["campaigns"] = [
        {"id": "vip", "name": "vip", "trigger": "tag_added", "when": "true", "effects": [{"points": 50}]}
    ]
    assert api.call("programs", "PUT", P, doc)[0] == 200
    enrol(api)
    before = view(api)["points"]["balance"]
    block(api)
    status, body = api.call("enrol", "PUT", f"{M}/tags", {"add": ["vip"]})
    assert (status, body["tags"]) == (200, ["vip"]), body  # the operator may still tag it
    assert view(api)["points"]["balance"] == before  # but the tag's campaign gives it nothing
    unblock(api)
    assert api.call("enrol", "PUT", f"{M}/tags", {"add": ["vip2"]})[0] == 200
    assert view(api)["points"]["balance"] == before + 50  # unblocked, a new tag's campaign gives again


def test_a_blocked_members_quote_and_preview_promise_nothing(api: Api, demo: str) -> None:
    """ "A quote never promises what the purchase would not give": the purchase is refused, so the quote
    and a checkout's preview answer 0 points, the breakdown naming why, and no campaign."""
    enrol(api)
    order = {"order_id": "q1", "amount_minor": 5000}
    status, before = api.call("earn", "POST", f"{M}/quotes", order)
    assert status == 200 and before["points_earned"] > 0, before
    block(api)
    status, quoted = api.call("earn", "POST", f"{M}/quotes", order)
    assert status == 200, quoted
    assert quoted["points_earned"] == 0 and quoted["breakdown"]["withheld"] == "member_blocked"
    assert quoted["breakdown"].get("campaigns", []) == []
    cart = {"items": [{"line_id": "1", "sku": "latte", "quantity": 1, "unit_price_minor": 6000}]}
    status, preview = api.call("checkout", "PUT", f"{M}/checkouts/c9/preview", cart)
    assert status == 200 and preview["points_to_earn"] == 0, preview
    assert view(api)["flags"] == []


def test_a_blocked_members_deduction_is_refused_too(api: Api, demo: str) -> None:
    """The one check a deduction has (a reward's is spending.check_redeem's)."""
    enrol(api)
    assert api.call("earn", "POST", f"{M}/purchases", {"order_id": "o1", "amount_minor": 120000})[0] == 201
    block(api)
    deduction = {"redemption_id": "d1", "deduction": {"order_id": "t1", "order_amount_minor": 10000, "points": 100}}
    assert_blocked(api, "redeem", "POST", f"{M}/redemptions", deduction)
