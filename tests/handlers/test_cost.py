"""DynamoDB round trips per operation, counted at the botocore layer: the floor the design promises.

Warm containers (program document cached), happy paths. No Scan anywhere.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from loyalty import runtime
from loyalty.store import DUE_SHARDS
from loyalty.usecases import programs, scheduler
from tests.handlers.conftest import Api
from tests.support import program

M = "/programs/demo/members/m1"


@pytest.fixture
def calls(api: Api, monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    monkeypatch.setenv("PROGRAM_CACHE_TTL_SECONDS", "300")
    seen: Counter[str] = Counter()

    def count(model: Any, **_: Any) -> None:
        seen[model.name] += 1

    events = runtime.store().client.meta.events
    events.register("before-call.dynamodb", count)
    yield seen
    events.unregister("before-call.dynamodb", count)


def measure(
    calls: Counter[str], api: Api, fn: str, method: str, path: str, body: Any = None, **kw: Any
) -> dict[str, int]:
    calls.clear()
    status, reply = api.call(fn, method, path, body, **kw)
    assert status < 300, reply
    return dict(calls)


def test_round_trips_per_operation(api: Api, calls: Counter[str]) -> None:
    api.call("programs", "PUT", "/programs/demo", program("demo"))
    api.call("members", "GET", "/programs/demo/members/nobody")  # warms the program cache
    assert measure(calls, api, "enrol", "POST", "/programs/demo/members", {"member_id": "m1"}) == {
        "TransactWriteItems": 1
    }
    purchase = {"order_id": "o1", "amount_minor": 120000}
    assert measure(calls, api, "earn", "POST", f"{M}/purchases", purchase) == {"GetItem": 1, "TransactWriteItems": 1}
    # A repeat: the read, the transaction that finds the reference (its old image comes back with the
    # cancellation), and nothing else.
    assert measure(calls, api, "earn", "POST", f"{M}/purchases", purchase) == {"GetItem": 1, "TransactWriteItems": 1}
    refund = {"refund_id": "r1", "order_id": "o1", "amount_minor": 100}
    assert measure(calls, api, "earn", "POST", f"{M}/refunds", refund) == {"BatchGetItem": 1, "TransactWriteItems": 1}
    activity = {"activity_id": "a1", "type": "check_in"}
    assert measure(calls, api, "earn", "POST", f"{M}/activities", activity) == {"GetItem": 1, "TransactWriteItems": 1}
    assert measure(calls, api, "members", "GET", M) == {"GetItem": 1}
    assert measure(calls, api, "members", "GET", f"{M}/ledger") == {"Query": 1}
    assert measure(calls, api, "members", "GET", f"{M}/coupons") == {"Query": 1}
    # The profile and the wallet in parallel; a program with budgets reads them with the profile in one
    # BatchGetItem instead (tests/handlers/test_campaign_answers.py).
    quote = {"order_id": "q1", "amount_minor": 6000}
    assert measure(calls, api, "earn", "POST", f"{M}/quotes", quote) == {"GetItem": 1, "Query": 1}


def test_round_trips_of_an_enrolment_naming_a_customer_ref_and_a_referral_code(api: Api, calls: Counter[str]) -> None:
    api.call("programs", "PUT", "/programs/demo", program("demo"))
    api.call("enrol", "POST", "/programs/demo/members", {"member_id": "m1"})
    code = api.call("enrol", "GET", f"{M}/referral")[1]["code"]
    # The guest customer item and the code's owner in one BatchGetItem; then the referrer's profile.
    both = {"member_id": "m2", "customer_ref": "crm-1", "referral_code": code}
    assert measure(calls, api, "enrol", "POST", "/programs/demo/members", both) == {
        "BatchGetItem": 1,
        "GetItem": 1,
        "TransactWriteItems": 1,
    }
    one = {"member_id": "m3", "customer_ref": "crm-2"}
    assert measure(calls, api, "enrol", "POST", "/programs/demo/members", one) == {
        "GetItem": 1,
        "TransactWriteItems": 1,
    }


def test_round_trips_spending(api: Api, calls: Counter[str]) -> None:
    api.call("programs", "PUT", "/programs/demo", program("points-only"))
    api.call("enrol", "POST", "/programs/demo/members", {"member_id": "m1"})
    api.call("earn", "POST", f"{M}/purchases", {"order_id": "o1", "amount_minor": 1000000})
    redeem = {"redemption_id": "r1", "reward_id": "coffee"}
    assert measure(calls, api, "redeem", "POST", f"{M}/redemptions", redeem) == {"GetItem": 1, "TransactWriteItems": 1}
    goods = {"redemption_id": "r2", "reward_id": "mug"}  # with stock: the shard joins the same transaction
    assert measure(calls, api, "redeem", "POST", f"{M}/redemptions", goods) == {"GetItem": 1, "TransactWriteItems": 1}
    deduction = {"redemption_id": "r3", "deduction": {"order_id": "d1", "order_amount_minor": 5000, "points": 100}}
    assert measure(calls, api, "redeem", "POST", f"{M}/redemptions", deduction) == {
        "GetItem": 1,
        "TransactWriteItems": 1,
    }
    coupon = api.call("members", "GET", f"{M}/coupons")[1]["coupons"][0]["coupon_id"]
    use = {"order_id": "t1", "order_amount_minor": 1000}
    # The coupon with the profile (its holds) in one BatchGetItem.
    assert measure(calls, api, "redeem", "POST", f"{M}/coupons/{coupon}/use", use) == {
        "BatchGetItem": 1,
        "TransactWriteItems": 1,
    }
    # A cancel: the redemption's reference with the profile; its coupons are read only to name a used one.
    one_write = {"BatchGetItem": 1, "TransactWriteItems": 1}
    assert measure(calls, api, "redeem", "POST", f"{M}/redemptions/r2/cancel") == one_write
    assert measure(calls, api, "redeem", "POST", f"{M}/redemptions/r2/cancel") == one_write  # a repeat


def test_round_trips_checkout(api: Api, calls: Counter[str]) -> None:
    """Each checkout route: 1 read round trip, and 1 transaction for those that write (a repeated PUT
    at the same instant writes nothing; a confirm of a cart whose coupons all apply reads no coupon)."""
    doc = program("checkout")
    api.call("programs", "PUT", "/programs/demo", doc)
    api.call("enrol", "POST", "/programs/demo/members", {"member_id": "m1"})
    api.call("earn", "POST", f"{M}/purchases", {"order_id": "o1", "amount_minor": 150000})
    wallet = api.call("members", "GET", f"{M}/coupons")[1]["coupons"]
    coffee = next(c["coupon_id"] for c in wallet if c["template_id"] == "coffee-5")
    line = {"line_id": "1", "sku": "latte", "category": "coffee", "quantity": 2, "unit_price_minor": 3200}
    cart = {"items": [line], "coupon_ids": [coffee], "points_to_use": 100}
    one_write = {"BatchGetItem": 1, "TransactWriteItems": 1}
    assert measure(calls, api, "checkout", "PUT", f"{M}/checkouts/c1", cart) == one_write
    assert measure(calls, api, "checkout", "GET", f"{M}/checkouts/c1") == {"BatchGetItem": 1}
    assert measure(calls, api, "checkout", "PUT", f"{M}/checkouts/c1/preview", cart) == {"BatchGetItem": 1}
    total = api.call("checkout", "GET", f"{M}/checkouts/c1")[1]["total_minor"]
    paid = {"order_id": "o2", "amount_paid_minor": total}
    assert measure(calls, api, "checkout", "POST", f"{M}/checkouts/c1/confirm", paid) == one_write
    assert measure(calls, api, "checkout", "PUT", f"{M}/checkouts/c2", {"items": [line]}) == one_write
    assert measure(calls, api, "checkout", "POST", f"{M}/checkouts/c2/cancel") == one_write


def test_round_trips_paid_cards(api: Api, calls: Counter[str]) -> None:
    api.call("programs", "PUT", "/programs/demo", program("paid-card"))
    api.call("enrol", "POST", "/programs/demo/members", {"member_id": "m1"})
    pay = {"payment_id": "p1", "plan_id": "plus-quarter", "amount_paid_minor": 4500}
    assert measure(calls, api, "purchase_paid_card", "POST", f"{M}/paid-cards", pay) == {
        "GetItem": 1,
        "TransactWriteItems": 1,
    }
    extension = {"payment_id": "p2", "plan_id": "plus-quarter", "amount_paid_minor": 4500}  # while active
    assert measure(calls, api, "purchase_paid_card", "POST", f"{M}/paid-cards", extension) == {
        "GetItem": 1,
        "TransactWriteItems": 1,
    }
    refund = {"refund_id": "r1"}
    # The profile, the payment's coupons in one batch, then one transaction that also revokes them.
    assert measure(calls, api, "purchase_paid_card", "POST", f"{M}/paid-cards/plus-quarter/refund", refund) == {
        "GetItem": 1,
        "BatchGetItem": 1,
        "TransactWriteItems": 1,
    }


def test_round_trips_scheduled_run(api: Api, calls: Counter[str]) -> None:
    api.call("programs", "PUT", "/programs/demo", program("demo"))
    for i in range(3):  # gold members now: this month's tier coupon is due for each today
        api.call("enrol", "POST", "/programs/demo/members", {"member_id": f"m{i}"})
        purchase = {"order_id": f"o{i}", "amount_minor": 120000}
        assert api.call("earn", "POST", f"/programs/demo/members/m{i}/purchases", purchase)[0] == 201
    programs._cache.clear()  # a fresh container: the worker reads the program once
    calls.clear()
    items = scheduler.plan(datetime.now(UTC), ["benefits"])
    assert dict(calls) == {} and len(items) == DUE_SHARDS  # the planner reads nothing
    settled = [scheduler.work(runtime.store(), item, lambda: 900)[0].get("members_settled", 0) for item in items]
    assert sum(settled) == 3
    # One Query per work item (a page of its shard of the due index, mostly empty), the program once,
    # then per due member its profile and one transaction; per work item that settled any, one
    # UpdateItem counting them on the run's record.
    counted = sum(1 for n in settled if n)
    assert dict(calls) == {"Query": DUE_SHARDS, "GetItem": 1 + 3, "TransactWriteItems": 3, "UpdateItem": counted}
