"""Checkout exactly once and under load (issue 29), through the real handlers on DynamoDB Local: holds
raced for, confirms repeated and raced with a cancel, and confirms after the world moved on (a hold
expired and its coupon used at a till, a discount budget spent). The crashes are in test_faults.py."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from local.dynamodb import client
from local.stack import Stack, put_program
from loyalty.errors import CheckoutExpired
from loyalty.schemas import CheckoutBody, CheckoutConfirm, CouponUseBody, Enrol, Purchase
from loyalty.store import Store
from loyalty.usecases import checkout, earning, members, spending
from tests.integration.conftest import Client
from tests.integration.test_faults import state
from tests.integration.test_parallel import assert_ledger_is_the_balance, full_ledger, parallel
from tests.support import program

T0 = datetime(2026, 12, 3, 4, tzinfo=UTC)
LINES = [
    {"line_id": "1", "sku": "latte", "category": "coffee", "quantity": 2, "unit_price_minor": 3200},
    {"line_id": "2", "sku": "cake", "quantity": 1, "unit_price_minor": 2500},
]  # 89.00; 10% off: 80.10; the welcome coupon (10 off 50): 70.10


def shop(api: Client, budget: int = 10**9) -> str:
    doc = program("demo")
    doc["campaigns"].append(
        {
            "id": "ten-off",
            "name": "10% off at checkout",
            "trigger": "checkout",
            "effects": [{"percent_off": 10}],
            "limits": {"budget": {"discount_minor": budget}},
        }
    )
    pid = f"ck-{uuid.uuid4().hex[:10]}"
    status, body = put_program(api.base, pid, doc)
    assert status == 200, body
    return pid


def customer(api: Client, pid: str, member: str) -> tuple[int, str]:
    """Enrolled (its welcome coupon) and a first order; its balance and the coupon's id."""
    assert api.call("POST", f"/programs/{pid}/members", {"member_id": member})[0] == 201
    order = {"order_id": f"first-{member}", "amount_minor": 120000}
    status, body = api.call("POST", f"/programs/{pid}/members/{member}/purchases", order)
    assert status == 201, body
    wallet = api.call("GET", f"/programs/{pid}/members/{member}/coupons")[1]["coupons"]
    [coupon] = [c["coupon_id"] for c in wallet if c["source"].startswith("welcome")]
    return body["balance"], coupon


def path(pid: str, member: str, checkout_id: str, then: str = "") -> str:
    return f"/programs/{pid}/members/{member}/checkouts/{checkout_id}{then}"


def put(api: Client, pid: str, member: str, checkout_id: str, **cart: Any) -> tuple[int, Any]:
    return api.call("PUT", path(pid, member, checkout_id), {"items": LINES, **cart})


def view(api: Client, pid: str, member: str) -> dict[str, Any]:
    status, body = api.call("GET", f"/programs/{pid}/members/{member}")
    assert status == 200, body
    return body


def coupon_status(api: Client, pid: str, member: str, coupon: str) -> str:
    wallet = api.call("GET", f"/programs/{pid}/members/{member}/coupons")[1]["coupons"]
    return next(c["status"] for c in wallet if c["coupon_id"] == coupon)


def test_two_checkouts_racing_for_one_coupon_one_holds_it(api: Client) -> None:
    pid = shop(api)
    for round_ in range(4):
        member = f"m{round_}"
        _, coupon = customer(api, pid, member)
        results = parallel([lambda c=c, m=member, x=coupon: put(api, pid, m, c, coupon_ids=[x]) for c in ("a", "b")])
        assert [s for s, _ in results] == [200, 200], results
        got = sorted((b["coupons"][0] for _, b in results), key=lambda c: not c["applied"])
        assert (got[0]["coupon_id"], got[0]["applied"], got[0]["discount_minor"]) == (coupon, True, 1000), results
        assert got[1]["applied"] is False and got[1]["reason"] == "held by another open checkout", results
        assert sorted(b["total_minor"] for _, b in results) == [7010, 8010]
        # the one without it holds nothing of it: cancelling the holder frees the coupon for it
        holder = next(cid for cid, (_, b) in zip("ab", results, strict=True) if b["coupons"][0]["applied"])
        other = "b" if holder == "a" else "a"
        assert api.call("POST", path(pid, member, holder, "/cancel"))[0] == 200
        status, again = put(api, pid, member, other, coupon_ids=[coupon])
        assert status == 200 and again["coupons"][0]["applied"] is True, again


def test_two_checkouts_racing_for_the_same_points_one_holds_them(api: Client) -> None:
    pid = shop(api)
    big = [{"line_id": "1", "sku": "tv", "quantity": 1, "unit_price_minor": 500000}]  # 50% of it: 2250 points
    for round_ in range(4):
        member = f"m{round_}"
        balance, _ = customer(api, pid, member)
        points = balance // 2 + 1  # each alone is free; both are more than the balance
        calls = [
            lambda c=c, m=member, p=points: api.call("PUT", path(pid, m, c), {"items": big, "points_to_use": p})
            for c in ("a", "b")
        ]
        results = parallel(calls)
        assert sorted(s for s, _ in results) == [200, 409], results
        [(_, refused)] = [(s, b) for s, b in results if s == 409]
        assert refused["error"]["code"] == "insufficient_points", refused
        [(_, held)] = [(s, b) for s, b in results if s == 200]
        assert held["points_used"] == points
        member_view = view(api, pid, member)
        assert (member_view["points"]["balance"], member_view["points"]["held"]) == (balance, points)


def test_ten_parallel_confirms_settle_one_order(api: Client) -> None:
    pid = shop(api)
    balance, coupon = customer(api, pid, "m1")
    status, priced = put(api, pid, "m1", "c1", coupon_ids=[coupon], points_to_use=500)
    assert status == 200 and priced["total_minor"] == 6510, priced
    confirm = {"order_id": "o-1", "amount_paid_minor": 6510}
    results = parallel([lambda: api.call("POST", path(pid, "m1", "c1", "/confirm"), confirm)] * 10)
    assert sorted(s for s, _ in results) == [200] * 9 + [201], results
    assert all(body == results[0][1] for _, body in results), results
    first = results[0][1]
    assert first["checkout"]["status"] == "confirmed" and first["checkout"]["order_id"] == "o-1"

    ledger = full_ledger(api, pid, "m1")
    assert [(e["type"], e["points"]) for e in ledger if e["ref"] == "checkout:c1"] == [("redeem", -500)], ledger
    assert [e["type"] for e in ledger if e["ref"] == "order:o-1"].count("earn") == 1, ledger
    assert assert_ledger_is_the_balance(api, pid, "m1") == balance - 500 + first["points_earned"]
    assert coupon_status(api, pid, "m1", coupon) == "used"
    assert view(api, pid, "m1")["points"]["held"] == 0
    # the order is an ordinary order: its refund finds it once
    refund = {"refund_id": "r-1", "order_id": "o-1", "amount_minor": 6510}
    assert api.call("POST", f"/programs/{pid}/members/m1/refunds", refund)[0] == 201


def test_a_confirm_racing_a_cancel_ends_in_one_clean_outcome(api: Client) -> None:
    pid = shop(api)
    seen = set()
    for round_ in range(10):
        member = f"m{round_}"
        balance, coupon = customer(api, pid, member)
        status, priced = put(api, pid, member, "c", coupon_ids=[coupon], points_to_use=500)
        assert status == 200, priced
        confirm = {"order_id": f"o-{member}", "amount_paid_minor": priced["total_minor"]}
        calls = [
            lambda m=member, body=confirm: api.call("POST", path(pid, m, "c", "/confirm"), body),
            lambda m=member: api.call("POST", path(pid, m, "c", "/cancel")),
        ]
        (confirmed, answer), (cancelled, _) = parallel(calls)
        assert (confirmed, cancelled) in ((201, 409), (409, 200)), (confirmed, cancelled)
        ledger = full_ledger(api, pid, member)
        mine = [e for e in ledger if e["ref"] in ("checkout:c", f"order:o-{member}")]
        got = api.call("GET", path(pid, member, "c"))[1]
        if confirmed == 201:
            seen.add("confirmed")
            assert got["status"] == "confirmed" and got["order_id"] == f"o-{member}"
            assert coupon_status(api, pid, member, coupon) == "used"
            assert [e["type"] for e in mine].count("redeem") == 1
            assert assert_ledger_is_the_balance(api, pid, member) == balance - 500 + answer["points_earned"]
        else:
            seen.add("cancelled")
            assert answer["error"]["code"] == "checkout_closed", answer
            assert got["status"] == "cancelled" and got["order_id"] is None
            assert coupon_status(api, pid, member, coupon) == "available"
            assert mine == [] and assert_ledger_is_the_balance(api, pid, member) == balance
        assert view(api, pid, member)["points"]["held"] == 0
    assert seen, "no round ran"


def test_parallel_cancels_answer_the_same_and_free_the_hold(api: Client) -> None:
    pid = shop(api)
    balance, coupon = customer(api, pid, "m1")
    assert put(api, pid, "m1", "c", coupon_ids=[coupon], points_to_use=500)[0] == 200
    results = parallel([lambda: api.call("POST", path(pid, "m1", "c", "/cancel"))] * 6)
    assert results == [(200, {"checkout_id": "c", "status": "cancelled"})] * 6, results
    assert view(api, pid, "m1")["points"]["held"] == 0
    assert coupon_status(api, pid, "m1", coupon) == "available"
    assert assert_ledger_is_the_balance(api, pid, "m1") == balance
    status, body = api.call("POST", path(pid, "m1", "c", "/confirm"), {"order_id": "o-1", "amount_paid_minor": 6510})
    assert status == 409 and body["error"]["code"] == "checkout_closed", body


def test_a_confirm_after_the_discount_budget_ran_out_is_checkout_changed(api: Client) -> None:
    pid = shop(api, budget=1000)  # 10% of 89.00 is 8.90: the first confirm leaves 1.10
    for member in ("m1", "m2"):
        customer(api, pid, member)
        status, priced = put(api, pid, member, "c")
        assert status == 200 and priced["total_minor"] == 8010, priced
    assert api.call("POST", path(pid, "m1", "c", "/confirm"), {"order_id": "o-1", "amount_paid_minor": 8010})[0] == 201

    before = (full_ledger(api, pid, "m2"), view(api, pid, "m2"), api.call("GET", path(pid, "m2", "c"))[1])
    confirm = {"order_id": "o-2", "amount_paid_minor": 8010}
    status, body = api.call("POST", path(pid, "m2", "c", "/confirm"), confirm)
    assert status == 409 and body["error"]["code"] == "checkout_changed", body
    [detail] = body["error"]["details"]
    assert detail["field"] == "amount_paid_minor" and detail["total_minor"] == 8900 - 110
    assert detail["checkout"]["campaigns"] == [{"campaign_id": "ten-off", "discount_minor": 110}]
    assert sum(ln["payable_minor"] for ln in detail["checkout"]["lines"]) == 8790
    after = (full_ledger(api, pid, "m2"), view(api, pid, "m2"), api.call("GET", path(pid, "m2", "c"))[1])
    assert after == before  # nothing written: no order, the hold as it was
    # paying the new total settles it, with what was left of the budget
    status, done = api.call("POST", path(pid, "m2", "c", "/confirm"), confirm | {"amount_paid_minor": 8790})
    assert status == 201 and done["checkout"]["total_minor"] == 8790, done


def test_parallel_confirms_race_for_the_last_of_a_budget(api: Client) -> None:
    """Both priced with the budget whole; one takes it, the other's transaction fails on the budget,
    prices again and answers checkout_changed, nothing written."""
    pid = shop(api, budget=1000)
    for member in ("m1", "m2"):
        customer(api, pid, member)
        assert put(api, pid, member, "c")[1]["total_minor"] == 8010
    calls = [
        lambda m=m: api.call("POST", path(pid, m, "c", "/confirm"), {"order_id": f"o-{m}", "amount_paid_minor": 8010})
        for m in ("m1", "m2")
    ]
    results = parallel(calls)
    assert sorted(s for s, _ in results) == [201, 409], results
    [loser] = [b for s, b in results if s == 409]
    assert loser["error"]["code"] == "checkout_changed" and loser["error"]["details"][0]["total_minor"] == 8790
    figures = [b["checkout"]["campaigns"] for s, b in results if s == 201]
    assert figures == [[{"campaign_id": "ten-off", "discount_minor": 890}]]


@pytest.fixture
def store(stack: Stack) -> Store:
    return Store("LoyaltyTable", client(stack.ddb.endpoint))


def test_a_confirm_after_the_hold_expired_and_its_coupon_was_used_is_checkout_expired(
    api: Client, store: Store
) -> None:
    """Time moves as in the sweeps' tests: the use cases run on the stack's table at chosen instants."""
    pid = shop(api)
    members.enrol(store, pid, Enrol(member_id="m1"), T0)
    earning.purchase(store, pid, "m1", Purchase(order_id="first", amount_minor=120000), T0)
    [coupon] = [c.coupon_id for c in store.coupons(pid, "m1") if c.source.startswith("welcome")]
    body = CheckoutBody.model_validate({"items": LINES, "coupon_ids": [coupon], "points_to_use": 500})
    priced = checkout.put(store, pid, "m1", "c1", body, T0)
    assert priced.coupons[0].applied and priced.expires_at == T0 + timedelta(minutes=15)

    at_till = T0 + timedelta(minutes=16)  # the hold is over: the coupon is the till's to use
    till = CouponUseBody(order_id="till-1", order_amount_minor=6000)
    assert spending.use_coupon(store, pid, "m1", coupon, till, at_till).created
    before = state(store, pid, "m1")
    confirm = CheckoutConfirm(order_id="o-1", amount_paid_minor=priced.total_minor)
    with pytest.raises(CheckoutExpired) as raised:
        checkout.confirm(store, pid, "m1", "c1", confirm, T0 + timedelta(minutes=17))
    assert raised.value.code == "checkout_expired" and raised.value.status == 409
    assert state(store, pid, "m1") == before and store.get_ref(pid, "order", "o-1") is None
    assert checkout.get(store, pid, "m1", "c1", T0 + timedelta(minutes=17)).status == "expired"


def test_a_coupon_another_checkout_held_then_used_does_not_change_the_confirm(api: Client) -> None:
    """A coupon sent but not applied (another checkout held it) is not held: when that checkout uses
    it, this checkout's confirm prices without it, as its PUT did, and settles."""
    pid = shop(api)
    _, coupon = customer(api, pid, "m1")
    assert put(api, pid, "m1", "b", coupon_ids=[coupon])[1]["total_minor"] == 7010
    status, a = put(api, pid, "m1", "a", coupon_ids=[coupon])
    assert status == 200 and a["coupons"][0]["applied"] is False and a["total_minor"] == 8010, a
    confirm_b = {"order_id": "o-b", "amount_paid_minor": 7010}
    assert api.call("POST", path(pid, "m1", "b", "/confirm"), confirm_b)[0] == 201
    confirm_a = {"order_id": "o-a", "amount_paid_minor": 8010}
    status, body = api.call("POST", path(pid, "m1", "a", "/confirm"), confirm_a)
    assert status == 201, body
    assert body["checkout"]["coupons"][0]["applied"] is False and body["checkout"]["total_minor"] == 8010
