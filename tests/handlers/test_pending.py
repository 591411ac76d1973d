"""Pending points (issue 30, API.md "Points held, and given back"), through the handlers (moto): a
purchase's points wait out `points.pending_days`, then the points run or the member's next write
credits them; a refund inside the window cancels them first."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from loyalty import clock
from loyalty.runtime import store
from loyalty.usecases import programs, scheduler
from tests.handlers.conftest import Api
from tests.handlers.test_api import assert_error
from tests.support import program

P = "/programs/demo"
T0 = datetime(2026, 12, 3, 4, tzinfo=UTC)  # noon in Shanghai: pending until 2026-12-10 (local)
DAY_BEFORE = datetime(2026, 12, 9, 15, 59, tzinfo=UTC)  # 23:59 on 12-09 local
THE_DAY = datetime(2026, 12, 9, 16, 0, tzinfo=UTC)  # 00:00 on 12-10 local
ORDER = {"order_id": "o1", "amount_minor": 120000}  # 1200 earned + 200 first-order bonus; reaches gold


@pytest.fixture
def at(api: Api, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[datetime], None]]:
    """The demo program with a 7-day return window; `at(t)` moves the clock."""
    now = [T0]
    monkeypatch.setattr(clock, "now", lambda: now[0])
    doc = program("demo")
    doc["points"]["pending_days"] = 7
    assert api.call("programs", "PUT", P, doc)[0] == 200
    programs._cache.clear()

    def move(when: datetime) -> None:
        now[0] = when

    yield move
    programs._cache.clear()


def bought(api: Api, mid: str) -> dict[str, Any]:
    assert api.call("enrol", "POST", f"{P}/members", {"member_id": mid})[0] == 201  # 100 welcome points
    status, body = api.call("earn", "POST", f"{P}/members/{mid}/purchases", ORDER | {"order_id": f"o-{mid}"})
    assert status == 201, body
    return body


def view(api: Api, mid: str) -> dict[str, Any]:
    return api.call("members", "GET", f"{P}/members/{mid}")[1]


def ledger(api: Api, mid: str) -> list[tuple[str, int, str | None]]:
    entries = api.call("members", "GET", f"{P}/members/{mid}/ledger")[1]["entries"]
    return [(e["type"], e["points"], e["ref"]) for e in entries]


def points_run(when: datetime) -> None:
    for item in scheduler.plan(when, ["expire", "remind"]):
        scheduler.work(store(), item, lambda: 900)


def test_pending_points_are_shown_apart_not_spendable_and_released_by_the_points_run(api: Api, at: Any) -> None:
    answer = bought(api, "m1")
    assert (answer["points_earned"], answer["balance"], answer["tier"]) == (1400, 100, "gold")  # spend counts now
    seen = view(api, "m1")
    assert seen["points"]["balance"] == 100 and seen["tier"]["id"] == "gold"
    assert seen["points"]["pending"] == [{"points": 1400, "available_on": "2026-12-10", "ref": "order:o-m1"}]
    assert [t for t, _, _ in ledger(api, "m1")] == ["welcome"]
    redeem = {"redemption_id": "r1", "reward_id": "coupon-5"}  # 500 points
    assert_error(*api.call("redeem", "POST", f"{P}/members/m1/redemptions", redeem), 409, "insufficient_points")

    points_run(DAY_BEFORE)
    assert [t for t, _, _ in ledger(api, "m1")] == ["welcome"]
    points_run(THE_DAY)
    assert ledger(api, "m1")[:2] == [("bonus", 200, "order:o-m1"), ("earn", 1200, "order:o-m1")]
    at(THE_DAY)
    released = view(api, "m1")["points"]
    assert (released["balance"], released["pending"], released["lifetime_earned"]) == (1500, [], 1500)
    points_run(THE_DAY)  # the same run again releases nothing twice
    points_run(THE_DAY + timedelta(days=1))
    assert len(ledger(api, "m1")) == 3


def test_the_members_first_write_after_the_day_releases_them_and_they_are_spendable(api: Api, at: Any) -> None:
    bought(api, "m2")
    at(DAY_BEFORE)
    assert view(api, "m2")["points"]["balance"] == 100
    at(THE_DAY)
    shown = view(api, "m2")["points"]  # due, not credited yet: still pending, the balance is the ledger's
    assert (shown["balance"], [p["points"] for p in shown["pending"]]) == (100, [1400])
    status, spent = api.call(
        "redeem", "POST", f"{P}/members/m2/redemptions", {"redemption_id": "r1", "reward_id": "coupon-5"}
    )
    assert status == 201, spent
    assert spent["balance"] == 1000
    assert [t for t, _, _ in ledger(api, "m2")] == ["redeem", "bonus", "earn", "welcome"]
    points_run(THE_DAY)  # nothing left for the run
    assert len(ledger(api, "m2")) == 4


def test_a_refund_inside_the_window_cancels_pending_points_first(api: Api, at: Any) -> None:
    bought(api, "m3")
    at(T0 + timedelta(days=1))
    half = {"refund_id": "r1", "order_id": "o-m3", "amount_minor": 60000}
    status, body = api.call("earn", "POST", f"{P}/members/m3/refunds", half)
    assert status == 201, body
    assert (body["pending_cancelled"], body["points_reversed"], body["balance"]) == (700, 0, 100)
    assert view(api, "m3")["points"]["pending"] == [{"points": 700, "available_on": "2026-12-10", "ref": "order:o-m3"}]
    assert [t for t, _, _ in ledger(api, "m3")] == ["welcome"]  # nothing of it ever reached the ledger

    at(THE_DAY)  # the rest is released, and a refund after the window takes from the balance
    rest = {"refund_id": "r2", "order_id": "o-m3", "amount_minor": 60000}
    status, body = api.call("earn", "POST", f"{P}/members/m3/refunds", rest)
    assert status == 201, body
    assert (body["pending_cancelled"], body["points_reversed"], body["balance"]) == (0, 700, 100)
    # half of each part was cancelled: the earn's 600 and the first order bonus's 100 are released
    after = [("reverse", -700), ("bonus", 100), ("earn", 600), ("welcome", 100)]
    assert [(t, n) for t, n, _ in ledger(api, "m3")] == after


def test_without_a_window_nothing_is_pending(api: Api, demo: str) -> None:
    assert api.call("enrol", "POST", f"{P}/members", {"member_id": "m4"})[0] == 201
    answer = api.call("earn", "POST", f"{P}/members/m4/purchases", ORDER)[1]
    assert answer["balance"] == 1500 and view(api, "m4")["points"]["pending"] == []


TEA_POINTS = {  # 90 points on the tea line's 60.00
    "id": "tea",
    "name": "tea",
    "trigger": "purchase",
    "effects": [{"points_per_unit": {"points": 15, "unit_minor": 1000}, "on_items": "i.category == 'tea'"}],
}
MIXED = {
    "order_id": "q2o1",
    "amount_minor": 10000,
    "items": [
        {"sku": "green", "category": "tea", "amount_minor": 6000},
        {"sku": "cake", "category": "bakery", "amount_minor": 4000},
    ],
}


def with_tea_campaign(api: Api, mid: str) -> None:
    """Issue 30: a new member's order puts 390 pending (earn 100, first order 200, the tea campaign 90)."""
    doc = program("demo")
    doc["points"]["pending_days"] = 7
    doc["campaigns"] = [TEA_POINTS]
    assert api.call("programs", "PUT", P, doc)[0] == 200
    programs._cache.clear()
    assert api.call("enrol", "POST", f"{P}/members", {"member_id": mid})[0] == 201
    status, body = api.call("earn", "POST", f"{P}/members/{mid}/purchases", MIXED)
    assert (status, body["points_earned"]) == (201, 390), body


def released(api: Api, mid: str) -> list[tuple[str, int, str | None]]:
    """What the points run credits once the window is over (the welcome points left out)."""
    points_run(THE_DAY)
    entries = api.call("members", "GET", f"{P}/members/{mid}/ledger")[1]["entries"]
    return sorted((e["type"], e["points"], e.get("reason")) for e in entries if e["type"] != "welcome")


def test_a_partial_refund_cancels_each_pending_part_so_the_release_is_as_if_credited_at_once(api: Api, at: Any) -> None:
    with_tea_campaign(api, "m5")
    at(T0 + timedelta(days=1))
    half = {"refund_id": "r1", "order_id": "q2o1", "amount_minor": 5000}
    status, body = api.call("earn", "POST", f"{P}/members/m5/refunds", half)
    assert (status, body["pending_cancelled"], body["points_reversed"]) == (201, 195, 0), body
    assert released(api, "m5") == [("bonus", 45, "campaign:tea"), ("bonus", 100, "first_order"), ("earn", 50, None)]


def test_a_refund_by_lines_cancels_the_campaign_points_of_its_lines_and_the_base_by_its_money(
    api: Api, at: Any
) -> None:
    with_tea_campaign(api, "m6")
    at(T0 + timedelta(days=1))
    tea = {"refund_id": "r1", "order_id": "q2o1", "items": [{"line_id": "1", "quantity": 1}]}
    status, body = api.call("earn", "POST", f"{P}/members/m6/refunds", tea)
    assert (status, body["amount_minor"], body["pending_cancelled"]) == (201, 6000, 180 + 90), body
    assert released(api, "m6") == [("bonus", 80, "first_order"), ("earn", 40, None)]
