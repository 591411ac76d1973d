"""The purchase body checked against the order and the member (moto): items, paid_at, the breakdown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any

import pytest

from tests.handlers.conftest import Api
from tests.handlers.test_api import M, assert_error, buy, enrol, ledger
from tests.support import program


def iso(at: datetime) -> str:
    return at.isoformat()


def member_day() -> datetime:
    """The latest 8th of a month (the demo's x2 member day) that is already past: noon in Shanghai."""
    now = datetime.now(UTC)
    at = now.replace(day=8, hour=4, minute=0, second=0, microsecond=0)
    if at > now - timedelta(hours=1):
        at = (at.replace(day=1) - timedelta(days=1)).replace(day=8)
    return at


def state(api: Api) -> tuple[Any, list[dict]]:
    return api.call("members", "GET", f"{M}")[1], ledger(api)


# ---- items: at most the order ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "items",
    [
        [{"sku": f"s{i}", "amount_minor": 10**12} for i in range(100)],  # the lines of 10^12 on 100
        [{"sku": "a", "amount_minor": 60}, {"sku": "b", "amount_minor": 41}],  # one minor unit over
        [{"sku": "a", "amount_minor": 101}],
    ],
)
def test_items_that_sum_to_more_than_the_order_are_422_naming_items(api: Api, demo: str, items: list) -> None:
    enrol(api)
    before, items_before = state(api), api.items()
    status, reply = buy(api, "o1", 100, items=items)
    assert_error(status, reply, 422, "validation_error", "items")
    assert state(api) == before and api.items() == items_before


@pytest.mark.parametrize(
    "items",
    [
        [{"sku": "a", "amount_minor": 60}, {"sku": "b", "category": "tea", "amount_minor": 40}],  # the whole order
        [{"sku": "a", "amount_minor": 70}],  # part of it (delivery fee, a line not itemised)
        [{"sku": "a", "amount_minor": 0}],  # a free line
        [],
    ],
)
def test_items_up_to_the_order_are_accepted(api: Api, demo: str, items: list) -> None:
    enrol(api)
    status, reply = buy(api, "o1", 100, items=items)
    assert status == 201, reply


@pytest.mark.parametrize("path", ["purchases", "quotes"])
def test_more_than_100_items_are_422_naming_items_and_change_nothing(api: Api, demo: str, path: str) -> None:
    # Issue 27: every campaign's comprehensions run over the items, so their count is bounded (API.md).
    enrol(api)
    before, items_before = state(api), api.items()
    order = {"order_id": "o1", "amount_minor": 101, "items": [{"sku": f"s{i}", "amount_minor": 1} for i in range(101)]}
    status, reply = api.call("earn", "POST", f"{M}/{path}", order)
    assert_error(status, reply, 422, "validation_error", "items")
    assert state(api) == before and api.items() == items_before
    order["items"] = order["items"][:100]
    assert api.call("earn", "POST", f"{M}/{path}", order)[0] == (201 if path == "purchases" else 200)


# ---- paid_at: not before the member's enrolment --------------------------------------------------------


def test_a_purchase_paid_before_the_enrolment_is_422_naming_paid_at_and_changes_nothing(api: Api, demo: str) -> None:
    enrolled = datetime.now(UTC).replace(microsecond=0) - timedelta(days=10)
    enrol(api, enrolled_at=iso(enrolled))
    before, items_before = state(api), api.items()
    # 6000.00 would upgrade to gold: refused, so no points, no tier, no ledger entry dated before the enrolment.
    status, reply = buy(api, "o1", 600000, paid_at=iso(enrolled - timedelta(days=1)))
    assert_error(status, reply, 422, "validation_error", "paid_at")
    assert reply["error"]["details"][0]["enrolled_at"] == iso(enrolled)
    assert state(api) == before and api.items() == items_before
    # Nothing was recorded under the order id either: the corrected order is credited.
    status, reply = buy(api, "o1", 600000, paid_at=iso(enrolled))
    assert status == 201 and reply["tier_changed"], reply


def test_a_purchase_paid_in_the_minutes_before_the_enrolment_counts_as_paid_at_it(api: Api, demo: str) -> None:
    # Pay at the till, join, then the order system posts the order with the payment's time (or its
    # clock is a little behind ours): credited, dated at the enrolment, never before it.
    enrolled = datetime.now(UTC).replace(microsecond=0) - timedelta(days=10)
    enrol(api, enrolled_at=iso(enrolled))
    status, reply = buy(api, "o1", 1000, paid_at=iso(enrolled - timedelta(minutes=4)))
    assert status == 201, reply
    earn = next(e for e in ledger(api) if e["type"] == "earn")
    assert datetime.fromisoformat(earn["at"]) == enrolled
    status, reply = buy(api, "o2", 1000, paid_at=iso(enrolled - timedelta(minutes=6)))
    assert_error(status, reply, 422, "validation_error", "paid_at")


def test_a_purchase_without_paid_at_right_after_enrolment_is_credited(api: Api, demo: str) -> None:
    enrol(api)
    status, reply = buy(api, "o1", 1000)
    assert status == 201 and reply["points_earned"] == 10 + 200, reply  # with the first-order bonus


# ---- the breakdown multiplies out, one decimal format ---------------------------------------------------


def test_the_breakdown_multiplies_out_and_shows_the_rounding(api: Api, demo: str) -> None:
    day = member_day()
    enrol(api, enrolled_at=iso(day - timedelta(days=40)))
    status, reply = buy(api, "o1", 3850, paid_at=iso(day))  # 38.5 points at 1x, x2 on member day
    assert status == 201, reply
    b = reply["breakdown"]
    assert (b["base"], b["base_exact"], b["multiplier"], b["earned_exact"], b["earned"]) == (38, "38.5", "2", "77", 77)
    assert b["rounding"] == "down" and b["stacking"] == "max"
    assert b["calculation"] == "3850 x 1 / 100 = 38.5; 38.5 x 2 = 77; rounded down: 77"
    assert Fraction(b["base_exact"]) * Fraction(b["multiplier"]) == Fraction(b["earned_exact"])
    assert int(Fraction(b["earned_exact"])) == b["earned"]


def test_every_decimal_in_the_breakdown_has_one_canonical_form(api: Api) -> None:
    doc = program("demo")
    doc["points"]["stacking"] = "multiply"
    doc["points"]["multipliers"][0]["factor"] = 3.0  # was printed "3.0"; 1.2 x 3 was printed "3.60"
    assert api.call("programs", "PUT", "/programs/demo", doc)[0] == 200
    day = member_day()
    enrol(api, enrolled_at=iso(day - timedelta(days=40)))
    assert buy(api, "o1", 100000, paid_at=iso(day - timedelta(days=1)))[1]["tier"] == "gold"
    status, reply = buy(api, "o2", 1999, paid_at=iso(day))
    assert status == 201, reply
    b = reply["breakdown"]
    assert b["multipliers"] == {"tier:gold": "1.2", "member-day": "3"}
    assert (b["multiplier"], b["stacking"]) == ("3.6", "multiply")
    assert (b["base"], b["base_exact"], b["earned_exact"], b["earned"]) == (19, "19.99", "71.964", 71)
    assert reply["points_earned"] == 71


def test_a_base_with_no_finite_decimal_is_an_exact_fraction(api: Api) -> None:
    doc = program("demo")
    doc["points"]["earn"]["unit_minor"] = 300  # 1 point per 3.00
    assert api.call("programs", "PUT", "/programs/demo", doc)[0] == 200
    day = member_day()
    enrol(api, enrolled_at=iso(day - timedelta(days=40)))
    status, reply = buy(api, "o1", 1000, paid_at=iso(day))
    assert status == 201, reply
    b = reply["breakdown"]
    assert (b["base"], b["base_exact"], b["multiplier"], b["earned_exact"], b["earned"]) == (3, "10/3", "2", "20/3", 6)
