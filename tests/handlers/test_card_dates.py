"""Back-dated paid-card payments (moto), found by an acceptance run: a payment confirmed after its
refund window, or out of the order the card's payments were made in, is a 422 naming `paid_at` (it
could never be refunded, or would make the card's other payments unrefundable); payments in order,
back-dated within the window, stay refundable one after the other."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.handlers.conftest import Api
from tests.handlers.test_api import assert_error
from tests.support import program

M = "/programs/paid/members/m1"
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def paid(api: Api) -> str:
    assert api.call("programs", "PUT", "/programs/paid", program("paid-card"))[0] == 200
    body = {"member_id": "m1", "enrolled_at": "2020-01-02T03:04:05+08:00"}
    assert api.call("enrol", "POST", "/programs/paid/members", body)[0] == 201
    return "paid"


def pay(api: Api, payment_id: str, paid_at: datetime, plan_id: str = "plus-quarter") -> tuple[int, Any]:
    price = {"plus-quarter": 4500, "delivery-month": 1500}[plan_id]
    body = {"payment_id": payment_id, "plan_id": plan_id, "amount_paid_minor": price, "paid_at": paid_at.isoformat()}
    return api.call("purchase_paid_card", "POST", f"{M}/paid-cards", body)


def refund(api: Api, refund_id: str, payment_id: str | None = None) -> tuple[int, Any]:
    body = {"refund_id": refund_id, **({"payment_id": payment_id} if payment_id else {})}
    return api.call("purchase_paid_card", "POST", f"{M}/paid-cards/plus-quarter/refund", body)


def test_a_payment_confirmed_after_its_refund_window_is_422_naming_paid_at(api: Api, paid: str) -> None:
    before = api.call("members", "GET", M)[1], api.items()
    status, body = pay(api, "pay-old", NOW - timedelta(days=127))  # the card would have ended already
    assert_error(status, body, 422, "validation_error", "paid_at")
    status, body = pay(api, "pay-late", NOW - timedelta(days=7, hours=1))  # 7 days: the plan's refund_days
    assert_error(status, body, 422, "validation_error", "paid_at")
    assert (api.call("members", "GET", M)[1], api.items()) == before  # no card, no coupon, no reference
    assert pay(api, "pay-late", NOW - timedelta(days=6))[0] == 201  # the same id, corrected: accepted


def test_a_payment_before_the_cards_latest_payment_is_422_naming_paid_at(api: Api, paid: str) -> None:
    assert pay(api, "pay-1", NOW - timedelta(days=2))[0] == 201
    status, body = pay(api, "pay-0", NOW - timedelta(days=3))  # before the card's start
    assert_error(status, body, 422, "validation_error", "paid_at")
    assert pay(api, "pay-2", NOW - timedelta(hours=1))[0] == 201
    status, body = pay(api, "pay-1b", NOW - timedelta(days=1))  # after the start, before the latest payment
    assert_error(status, body, 422, "validation_error", "paid_at")
    # Another plan's card is its own: its payments are not ordered against this one's.
    assert pay(api, "pay-d", NOW - timedelta(days=5), "delivery-month")[0] == 201


def test_after_two_back_dated_payments_each_can_be_refunded_latest_first(api: Api, paid: str) -> None:
    status, first = pay(api, "pay-1", NOW - timedelta(days=3))
    assert status == 201 and first["extended"] is False, first
    status, second = pay(api, "pay-2", NOW - timedelta(days=1))
    assert status == 201 and second["extended"] is True, second
    assert second["card"]["active_from"] == first["card"]["active_from"]
    status, body = refund(api, "r1")  # no payment_id: the latest
    assert status == 201 and body["payment_id"] == "pay-2", body
    assert body["card"]["active_until"] == first["card"]["active_until"]
    status, body = refund(api, "r2", "pay-1")
    assert status == 201 and body["payment_id"] == "pay-1" and body["card"] is None, body
    assert api.call("members", "GET", M)[1]["paid_cards"] == []
