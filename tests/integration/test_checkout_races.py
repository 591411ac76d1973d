"""A checkout holding a coupon and a till using it, at the same moment, on DynamoDB Local: exactly one
gets it. The checkout's PUT commits on the profile's version with a ConditionCheck that the coupon is
unused; the till's use marks the coupon used on the condition it is unused, with a ConditionCheck
that the profile (its holds) is the version it read. Whichever commits second fails its condition,
reads again and finds the coupon used (the checkout lists it `applied: false`) or held (the till gets
409 coupon_unavailable)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest

from local.dynamodb import client
from loyalty.errors import CouponUnavailable
from loyalty.schemas import CheckoutBody, CouponUseBody, Enrol
from loyalty.store import Store
from loyalty.store.table import CONFIG
from loyalty.usecases import checkout, members, programs, spending
from tests.integration.ddb_local import DynamoDBLocal, ddb_local
from tests.support import program

NOW = datetime(2026, 12, 3, 4, tzinfo=UTC)
ROUNDS = 10


@pytest.fixture(scope="module")
def store() -> Iterator[Store]:
    running: DynamoDBLocal
    with ddb_local() as running:
        yield Store("LoyaltyTable", client(running.endpoint, config=CONFIG))


def together(*calls: Callable[[], Any]) -> list[Any]:
    """Each call in its own thread, released at once; what each returned, or the error it raised."""
    start = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> Any:
        start.wait()
        try:
            return call()
        except CouponUnavailable as refused:
            return refused

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def test_a_checkout_and_a_till_racing_for_one_coupon_one_gets_it(store: Store) -> None:
    pid = f"r-{uuid.uuid4().hex[:10]}"
    programs.save(store, pid, program("demo"))
    cart = {"items": [{"line_id": "1", "sku": "latte", "quantity": 2, "unit_price_minor": 3000}]}
    winners = []
    for n in range(ROUNDS):
        mid = f"m{n}"
        members.enrol(store, pid, Enrol(member_id=mid), NOW)
        [coupon] = [c.coupon_id for c in store.coupons(pid, mid) if c.template_id == "welcome-10"]  # 10 off 50
        body = CheckoutBody.model_validate({**cart, "coupon_ids": [coupon]})
        put, use = together(
            lambda mid=mid, body=body: checkout.put(store, pid, mid, "c1", body, NOW),
            lambda mid=mid, coupon=coupon: spending.use_coupon(
                store, pid, mid, coupon, CouponUseBody(order_id=f"till-{mid}", order_amount_minor=6000), NOW
            ),
        )
        [applied] = put.coupons
        used = not isinstance(use, CouponUnavailable)
        assert applied.applied != used, (n, applied, use)
        profile = store.get_member(pid, mid)
        [stored] = store.get_coupons(pid, mid, [coupon])
        assert profile is not None
        if used:
            assert (use.result.discount_minor, stored.status, applied.reason) == (1000, "used", "used"), (n, use)
            assert profile.holds["c1"].coupon_ids == []
        else:
            assert "held by an open checkout" in use.message, (n, use)
            assert (stored.status, profile.holds["c1"].coupon_ids, put.total_minor) == ("available", [coupon], 5000)
        winners.append("till" if used else "checkout")
    print(f"{ROUNDS} rounds, won by: {winners}")
