"""Fault injection on DynamoDB Local: throttling, transaction conflicts, and a crash between any two
steps of every write. After the retry, nothing is lost and nothing is doubled: the member ends exactly
as the same operation without faults leaves it.

The store runs with its production client config (adaptive retries, bounded attempts). Faults are
injected with botocore's own event hooks: `before-send` answers for DynamoDB (so botocore's retry logic
sees a real error response), `before-call`/`after-call` raise to stand for a Lambda dying before a call
is sent or after its answer arrived.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from loyalty.errors import LoyaltyError, Unavailable
from loyalty.schemas import (
    CardPurchase,
    CardRefund,
    CheckoutBody,
    CheckoutConfirm,
    CouponUseBody,
    Enrol,
    Purchase,
    Redeem,
    Refund,
)
from loyalty.store import Store
from loyalty.store.keys import checkout_sk, member_pk
from loyalty.usecases import cards, checkout, earning, members, programs, spending, sweeps
from tests.integration.crashes import each_crash_ends_as_a_clean_run
from tests.support import program

NOW = datetime(2026, 3, 10, 4, tzinfo=UTC)
LATER = NOW + timedelta(days=40)  # idle long enough for the churn warning, so a sweep has work


def fresh_program(store: Store) -> str:
    pid = f"f-{uuid.uuid4().hex[:10]}"
    doc = program("paid-card")
    demo = program("demo")
    doc |= {"tiers": demo["tiers"], "rewards": demo["rewards"], "lifecycle": demo["lifecycle"]}
    doc["coupons"] |= demo["coupons"]
    doc["campaigns"] = [*doc.get("campaigns", []), CHECKOUT_CAMPAIGN]
    programs.save(store, pid, doc)
    return pid


# A checkout campaign with a discount budget: a confirm takes it, counts a use and leaves a notice.
CHECKOUT_CAMPAIGN = {
    "id": "ten-off",
    "name": "10% off at checkout",
    "trigger": "checkout",
    "effects": [{"percent_off": 10}],
    "limits": {"budget": {"discount_minor": 1000000}},
}


# Each operation: (setup before it, the write itself). Both take (store, program id, member id).
Step = Callable[[Store, str, str], Any]


def _enrol(s: Store, pid: str, mid: str) -> Any:
    return members.enrol(s, pid, Enrol(member_id=mid), NOW)


def _buy(s: Store, pid: str, mid: str) -> Any:
    return earning.purchase(s, pid, mid, Purchase(order_id=f"o-{mid}", amount_minor=120000), NOW)


def _welcome_coupon(s: Store, pid: str, mid: str) -> str:
    return next(c.coupon_id for c in s.coupons(pid, mid) if c.source.startswith("welcome"))


def _card(s: Store, pid: str, mid: str) -> Any:
    body = CardPurchase(payment_id=f"pay-{mid}", plan_id="plus-quarter", amount_paid_minor=4500)
    return cards.purchase(s, pid, mid, body, NOW)


def _settle(s: Store, pid: str, mid: str) -> Any:
    return sweeps.settle(s, programs.load(s, pid), pid, mid, LATER)


def _nothing(s: Store, pid: str, mid: str) -> None:
    return None


def _enrolled_and_bought(s: Store, pid: str, mid: str) -> None:
    _enrol(s, pid, mid)
    _buy(s, pid, mid)


def _enrolled_bought_and_redeemed(s: Store, pid: str, mid: str) -> None:
    _enrolled_and_bought(s, pid, mid)
    spending.redeem(s, pid, mid, Redeem(redemption_id=f"rd-{mid}", reward_id="coupon-5"), NOW)


def _enrolled_with_card(s: Store, pid: str, mid: str) -> None:
    _enrol(s, pid, mid)
    _card(s, pid, mid)


def _cart(s: Store, pid: str, mid: str) -> CheckoutBody:
    """Two lines, the welcome coupon (10 off 50) and some points: every hold and every use."""
    items = [
        {"line_id": "1", "sku": "latte", "category": "coffee", "quantity": 2, "unit_price_minor": 3200},
        {"line_id": "2", "sku": "cake", "quantity": 1, "unit_price_minor": 2500},
    ]
    return CheckoutBody(items=items, coupon_ids=[_welcome_coupon(s, pid, mid)], points_to_use=500)


def _put_checkout(s: Store, pid: str, mid: str) -> Any:
    return checkout.put(s, pid, mid, f"c-{mid}", _cart(s, pid, mid), NOW)


def _confirm(s: Store, pid: str, mid: str) -> Any:
    total = checkout.get(s, pid, mid, f"c-{mid}", NOW).total_minor  # a read: a crash there writes nothing
    return checkout.confirm(s, pid, mid, f"c-{mid}", CheckoutConfirm(order_id=f"o-{mid}", amount_paid_minor=total), NOW)


def _bought_and_checking_out(s: Store, pid: str, mid: str) -> None:
    _enrol(s, pid, mid)
    earning.purchase(s, pid, mid, Purchase(order_id=f"first-{mid}", amount_minor=120000), NOW)
    _put_checkout(s, pid, mid)


def _bought_in_window(s: Store, pid: str, mid: str) -> None:
    """A purchase in a program with a 7-day return window: its points are pending."""
    doc = program("demo")
    doc["points"]["pending_days"] = 7
    programs.save(s, pid, doc)
    _enrolled_and_bought(s, pid, mid)


OPERATIONS: dict[str, tuple[Step, Step]] = {
    "enrol": (_nothing, _enrol),
    "purchase": (_enrol, _buy),
    "refund": (
        _enrolled_and_bought,
        lambda s, p, m: earning.refund(s, p, m, Refund(refund_id=f"r-{m}", order_id=f"o-{m}", amount_minor=50000), NOW),
    ),
    "redemption": (
        _enrolled_and_bought,
        lambda s, p, m: spending.redeem(s, p, m, Redeem(redemption_id=f"rd-{m}", reward_id="coupon-5"), NOW),
    ),
    "redemption cancel": (
        _enrolled_bought_and_redeemed,
        lambda s, p, m: spending.cancel(s, p, m, f"rd-{m}", NOW),
    ),
    "coupon use": (
        _enrol,
        lambda s, p, m: spending.use_coupon(
            s, p, m, _welcome_coupon(s, p, m), CouponUseBody(order_id=f"t-{m}", order_amount_minor=6000), NOW
        ),
    ),
    "card purchase": (_enrol, _card),
    "card refund": (
        _enrolled_with_card,
        lambda s, p, m: cards.refund(s, p, m, "plus-quarter", CardRefund(refund_id=f"cr-{m}"), NOW),
    ),
    "scheduled settle": (_enrolled_and_bought, _settle),
    "pending release": (
        _bought_in_window,
        lambda s, p, m: sweeps.settle(s, programs.load(s, p), p, m, NOW + timedelta(days=8)),
    ),
    "refund in the window": (
        _bought_in_window,
        lambda s, p, m: earning.refund(s, p, m, Refund(refund_id=f"r-{m}", order_id=f"o-{m}", amount_minor=50000), NOW),
    ),
    "checkout put": (_enrolled_and_bought, _put_checkout),
    "checkout re-put": (_bought_and_checking_out, _put_checkout),
    "checkout confirm": (_bought_and_checking_out, _confirm),
    "checkout cancel": (_bought_and_checking_out, lambda s, p, m: checkout.cancel(s, p, m, f"c-{m}", NOW)),
}


def state(s: Store, pid: str, mid: str) -> dict[str, Any]:
    """Everything a write can change about a member, as it reads back (ids are derived, so two members
    that lived the same history have the same state)."""
    profile = s.get_member(pid, mid)
    ledger, _ = s.ledger(pid, mid, 1000, None)
    order = s.get_ref(pid, "order", f"o-{mid}")
    budgets = checkout.budget_keys(programs.load(s, pid), NOW)
    return {
        "profile": profile.model_dump(mode="json", exclude={"program_id"}) if profile else None,
        "ledger": [e.model_dump(mode="json") for e in ledger],
        "coupons": sorted(json.dumps(c.model_dump(mode="json"), sort_keys=True) for c in s.coupons(pid, mid)),
        "notices": sorted(n.notice_id for n in s.notices(pid, mid)),
        "checkouts": [
            {k: v for k, v in c.items() if k != "pk"} for c in s._query_all(member_pk(pid, mid), "CHECKOUT#")
        ],
        "order": {k: v for k, v in order.items() if k not in ("pk", "request_hash")} if order else None,
        "budgets": s.get_member_with(pid, mid, [], budgets)[2],
    }


@pytest.mark.parametrize("name", list(OPERATIONS))
def test_a_crash_before_or_after_any_call_then_a_retry_leaves_what_one_clean_run_leaves(
    store: Store, name: str
) -> None:
    setup_step, write = OPERATIONS[name]
    for _ in each_crash_ends_as_a_clean_run(store, name, lambda: fresh_program(store), setup_step, write, state):
        pass


# BatchGetItem is not isolated from a transaction: each item it returns is committed, but together
# they may straddle one. A checkout's write moves its item and the profile in one transaction, so a
# read may see the profile after a cancel (or confirm) and the checkout item from before it.
TORN = [("cancel", "confirm"), ("confirm", "cancel"), ("confirm", "put"), ("cancel", "put")]


@pytest.mark.parametrize(("first", "then"), TORN)
def test_a_read_straddling_a_checkout_write_is_read_again(store: Store, first: str, then: str) -> None:
    pid = fresh_program(store)
    _bought_and_checking_out(store, pid, "m1")
    total = checkout.get(store, pid, "m1", "c-m1", NOW).total_minor
    steps: dict[str, Callable[[], Any]] = {
        "cancel": lambda: checkout.cancel(store, pid, "m1", "c-m1", NOW),
        "confirm": lambda: checkout.confirm(
            store, pid, "m1", "c-m1", CheckoutConfirm(order_id="o-m1", amount_paid_minor=total), NOW
        ),
        "put": lambda: _put_checkout(store, pid, "m1"),
    }
    item_key = {"pk": {"S": member_pk(pid, "m1")}, "sk": {"S": checkout_sk("c-m1")}}
    open_item = store.client.get_item(TableName=store.table, Key=item_key, ConsistentRead=True)["Item"]
    steps[first]()
    closed_item = store.client.get_item(TableName=store.table, Key=item_key, ConsistentRead=True)["Item"]
    before = state(store, pid, "m1")
    torn = [0]

    def as_before(parsed: dict[str, Any], model: Any, **_: Any) -> None:
        """The first read that returns the checkout returns it as it was before `first`."""
        items = parsed.get("Responses", {}).get(store.table, []) if model.name == "BatchGetItem" else []
        for n, item in enumerate(items):
            if item == closed_item and not torn[0]:
                items[n], torn[0] = open_item, 1

    store.client.meta.events.register("after-call.dynamodb", as_before)
    try:
        with pytest.raises(LoyaltyError) as refused:
            steps[then]()
    finally:
        store.client.meta.events.unregister("after-call.dynamodb", as_before)
    assert torn == [1]
    assert refused.value.code == "checkout_closed", refused.value
    assert state(store, pid, "m1") == before


class _Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.data


def dynamodb_error(code: str, status: int = 400, **extra: Any) -> Callable[..., AWSResponse | None]:
    """A before-send hook answering the next DynamoDB request of the given operation with an error."""

    def answer(request: Any, url: str) -> AWSResponse:
        body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": "injected", **extra})
        headers = {"content-type": "application/x-amz-json-1.0", "x-amzn-requestid": uuid.uuid4().hex}
        return AWSResponse(url, status, headers, _Body(body.encode()))

    return answer


def inject(s: Store, operation: str, times: int, respond: Callable[..., AWSResponse]) -> list[int]:
    left = [times]

    def before_send(request: Any, **_: Any) -> AWSResponse | None:
        target = request.headers.get("X-Amz-Target", b"")
        target = target.decode() if isinstance(target, bytes) else target
        if left[0] > 0 and target.endswith(f".{operation}"):
            left[0] -= 1
            return respond(request, request.url)
        return None

    s.client.meta.events.register_first("before-send.dynamodb", before_send)
    return left


@pytest.mark.parametrize("operation", ["GetItem", "TransactWriteItems"])
@pytest.mark.parametrize("code", ["ThrottlingException", "ProvisionedThroughputExceededException"])
def test_throttling_is_retried_by_botocore_and_the_write_lands_once(store: Store, operation: str, code: str) -> None:
    pid = fresh_program(store)
    _enrol(store, pid, "m1")
    left = inject(store, operation, 3, dynamodb_error(code))
    created, first = _buy(store, pid, "m1")
    assert left == [0] and created
    assert _buy(store, pid, "m1") == (False, first)
    ledger, _ = store.ledger(pid, "m1", 100, None)
    assert [e.type for e in ledger].count("earn") == 1
    assert ledger[0].balance_after == store.get_member(pid, "m1").balance  # type: ignore[union-attr]


def test_transaction_conflicts_are_retried_by_the_write_loop(store: Store) -> None:
    pid = fresh_program(store)
    _enrol(store, pid, "m1")
    reasons = [{"Code": "TransactionConflict", "Message": "injected"}] + [{"Code": "None"}] * 20
    conflict = dynamodb_error("TransactionCanceledException", CancellationReasons=reasons)
    left = inject(store, "TransactWriteItems", 8, conflict)  # more than botocore's own attempts
    created, first = _buy(store, pid, "m1")
    assert left == [0] and created
    assert _buy(store, pid, "m1") == (False, first)
    ledger, _ = store.ledger(pid, "m1", 100, None)
    assert [e.type for e in ledger] == ["bonus", "earn", "welcome"]


def test_throttling_beyond_the_retries_is_a_503_with_nothing_written(store: Store) -> None:
    pid = fresh_program(store)
    _enrol(store, pid, "m1")
    before = state(store, pid, "m1")
    inject(store, "TransactWriteItems", 50, dynamodb_error("ThrottlingException"))
    with pytest.raises(Unavailable) as raised:
        _buy(store, pid, "m1")
    assert raised.value.status == 503 and raised.value.code == "unavailable"
    assert state(store, pid, "m1") == before
