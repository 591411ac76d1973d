"""The purchase body checked against the order and the member (moto): items, paid_at, the breakdown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.handlers.conftest import Api
from tests.handlers.test_api import M, assert_error, buy, enrol, ledger



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
        [{"sku": f"s{i}", "amount_minor": 10**12} for i in range(500)],  # the 500 lines of 10^12 on 100
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

