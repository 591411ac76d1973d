"""Issue 29 items 3 and 5 outside the checkout: the till's coupon use applies a template's `applies_to`
to the order's `items`, and what an open checkout holds (coupons, points) is not spent at a till, by
a redemption or by a points deduction until the checkout is cancelled or its hold expires."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from loyalty import clock
from tests.handlers.conftest import Api
from tests.handlers.test_api import assert_error
from tests.support import load_function, program

P = "/programs/demo"
M = f"{P}/members/m1"
T0 = datetime(2026, 12, 3, 4, tzinfo=UTC)  # noon in Shanghai, no member day


@pytest.fixture
def at(api: Api, monkeypatch: pytest.MonkeyPatch) -> Callable[[datetime], None]:
    """The demo program with a tea coupon (10% off tea lines, 10.00 of tea at least) given at
    enrolment beside the welcome one; m1 enrolled with points to spend. `at(t)` moves the clock."""
    now = [T0]
    monkeypatch.setattr(clock, "now", lambda: now[0])
    api.handlers["checkout"] = load_function("checkout").handler
    doc = program("demo")
    doc["coupons"]["tea-10"] = {
        "name": "10% off tea",
        "kind": "percent_off",
        "percent_off": 10,
        "min_spend_minor": 1000,
        "valid_days": 30,
        "applies_to": "i.category == 'tea'",
    }
    doc["lifecycle"]["welcome"]["coupons"] = ["welcome-10", "tea-10"]
    assert api.call("programs", "PUT", P, doc)[0] == 200
    assert api.call("enrol", "POST", f"{P}/members", {"member_id": "m1"})[0] == 201
    assert api.call("earn", "POST", f"{M}/purchases", {"order_id": "o1", "amount_minor": 60000})[0] == 201

    def move(when: datetime) -> None:
        now[0] = when

    return move


def coupon_of(api: Api, template: str) -> str:
    [found] = [c for c in api.call("members", "GET", f"{M}/coupons")[1]["coupons"] if c["template_id"] == template]
    return found["coupon_id"]


def use(api: Api, coupon_id: str, order_id: str, amount: int, **more: Any) -> tuple[int, Any]:
    body = {"order_id": order_id, "order_amount_minor": amount, **more}
    return api.call("redeem", "POST", f"{M}/coupons/{coupon_id}/use", body)


def put_checkout(api: Api, checkout_id: str, coupon_ids: list[str], points: int = 0) -> dict[str, Any]:
    cart = {
        "items": [{"line_id": "1", "sku": "tea", "category": "tea", "quantity": 1, "unit_price_minor": 200000}],
        "coupon_ids": coupon_ids,
        "points_to_use": points,
    }
    status, body = api.call("checkout", "PUT", f"{M}/checkouts/{checkout_id}", cart)
    assert status == 200, body
    return body


def balance(api: Api) -> dict[str, int]:
    return api.call("members", "GET", M)[1]["points"]


TEA = {"sku": "sencha", "category": "tea", "amount_minor": 2000}
CAKE = {"sku": "cake", "category": "food", "quantity": 2, "amount_minor": 5000}


# ---- 1. applies_to at the till ---------------------------------------------------------------------


def test_a_coupon_with_applies_to_needs_the_order_s_items(api: Api, at: Callable[[datetime], None]) -> None:
    tea = coupon_of(api, "tea-10")
    status, body = use(api, tea, "t1", 7000)
    assert_error(status, body, 422, "validation_error", "items")
    assert api.call("members", "GET", f"{M}/coupons")[1]["coupons"][0]["status"] == "available"


def test_applies_to_counts_only_the_matching_lines(api: Api, at: Callable[[datetime], None]) -> None:
    tea = coupon_of(api, "tea-10")
    # 10.00 of tea is its minimum: 8.00 of tea in a 58.00 order is below it, counted over tea alone.
    low = use(api, tea, "t1", 5800, items=[{**TEA, "amount_minor": 800}, CAKE])
    assert_error(*low, 409, "coupon_unavailable", "items")
    assert_error(*use(api, tea, "t2", 5000, items=[CAKE]), 409, "coupon_unavailable", "items")  # no tea line
    status, body = use(api, tea, "t3", 7000, items=[TEA, CAKE])
    assert (status, body["discount_minor"]) == (200, 200), body  # 10% of the tea line, not of the order
    assert use(api, tea, "t3", 7000, items=[TEA, CAKE]) == (200, body)  # the same order again: its answer


def test_a_coupon_without_applies_to_takes_the_whole_order(api: Api, at: Callable[[datetime], None]) -> None:
    welcome = coupon_of(api, "welcome-10")  # 10 off 50
    status, body = use(api, welcome, "t1", 5000, items=[{**TEA, "amount_minor": 100}])
    assert (status, body["discount_minor"]) == (200, 1000), body


def test_items_may_not_sum_past_the_order(api: Api, at: Callable[[datetime], None]) -> None:
    status, body = use(api, coupon_of(api, "tea-10"), "t1", 1000, items=[TEA])
    assert_error(status, body, 422, "validation_error", "items")


# ---- 2. a coupon held by an open checkout ------------------------------------------------------------


def test_a_held_coupon_is_not_usable_at_a_till_until_cancelled(api: Api, at: Callable[[datetime], None]) -> None:
    tea = coupon_of(api, "tea-10")
    priced = put_checkout(api, "c1", [tea])
    [applied] = priced["coupons"]
    assert (applied["coupon_id"], applied["applied"], applied["discount_minor"]) == (tea, True, 20000)
    status, body = use(api, tea, "t1", 7000, items=[TEA, CAKE])
    assert_error(status, body, 409, "coupon_unavailable", "coupon_id")
    assert "held by an open checkout" in body["error"]["message"]
    assert api.call("checkout", "POST", f"{M}/checkouts/c1/cancel")[0] == 200
    status, body = use(api, tea, "t1", 7000, items=[TEA, CAKE])
    assert (status, body["discount_minor"]) == (200, 200), body


def test_a_held_coupon_is_free_again_once_the_hold_expires(api: Api, at: Callable[[datetime], None]) -> None:
    welcome = coupon_of(api, "welcome-10")
    put_checkout(api, "c1", [welcome])
    assert_error(*use(api, welcome, "t1", 5000), 409, "coupon_unavailable")
    at(T0 + timedelta(minutes=15))  # the hold's expires_at: nothing written since
    status, body = use(api, welcome, "t1", 5000)
    assert (status, body["discount_minor"]) == (200, 1000), body
    # The checkout cannot have it any more: it is used.
    at(T0 + timedelta(minutes=16))
    priced = put_checkout(api, "c1", [welcome])
    [refused] = priced["coupons"]
    assert (refused["applied"], refused["reason"]) == (False, "used"), refused


# ---- 3. points an open checkout holds ---------------------------------------------------------------


def hold_all_but(api: Api, free: int) -> int:
    """A checkout holding every point of m1's but `free`; returns the balance."""
    points = balance(api)["balance"]
    put_checkout(api, "c1", [], points - free)
    shown = balance(api)
    assert (shown["balance"], shown["held"]) == (points, points - free), shown
    return points


REWARD = {"redemption_id": "r1", "reward_id": "coupon-5"}  # 500 points
DEDUCTION = {"redemption_id": "r2", "deduction": {"order_id": "d1", "order_amount_minor": 5000, "points": 200}}


@pytest.mark.parametrize("spend", [REWARD, DEDUCTION], ids=["reward", "deduction"])
def test_held_points_are_not_spent_until_cancelled(
    api: Api, at: Callable[[datetime], None], spend: dict[str, Any]
) -> None:
    points = hold_all_but(api, 100)
    before = api.items()
    assert_error(*api.call("redeem", "POST", f"{M}/redemptions", spend), 409, "insufficient_points")
    assert api.items() == before
    assert api.call("checkout", "POST", f"{M}/checkouts/c1/cancel")[0] == 200
    status, body = api.call("redeem", "POST", f"{M}/redemptions", spend)
    assert status == 201 and body["balance"] == points - body["points_spent"], body


@pytest.mark.parametrize("spend", [REWARD, DEDUCTION], ids=["reward", "deduction"])
def test_held_points_are_free_again_once_the_hold_expires(
    api: Api, at: Callable[[datetime], None], spend: dict[str, Any]
) -> None:
    points = hold_all_but(api, 100)
    at(T0 + timedelta(minutes=15) - timedelta(microseconds=1))
    assert_error(*api.call("redeem", "POST", f"{M}/redemptions", spend), 409, "insufficient_points")
    at(T0 + timedelta(minutes=15))  # expires_at, and no write since the checkout's
    status, body = api.call("redeem", "POST", f"{M}/redemptions", spend)
    assert status == 201 and body["balance"] == points - body["points_spent"], body
    assert balance(api)["held"] == 0
