"""Paid cards on DynamoDB Local: parallel confirmations of one payment, extensions across month ends,
and cycles issued once each by the scheduled engine (Invoke API)."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest

from local.dynamodb import client
from local.stack import Stack, put_program
from loyalty.schemas import CardPurchase, Enrol
from loyalty.store import Store
from loyalty.usecases import cards, members
from tests.integration.conftest import Client, lambda_client
from tests.integration.test_expiry_sweep import scheduled
from tests.integration.test_parallel import assert_ledger_is_the_balance, enrol, parallel
from tests.support import program

N = 12


@pytest.fixture
def paid(api: Client) -> str:
    program_id = f"c-{uuid.uuid4().hex[:10]}"
    doc = program("paid-card")
    doc["paid_cards"][0]["on_purchase"]["points"] = 300  # so the ledger has something to prove
    status, body = put_program(api.base, program_id, doc)
    assert status == 200, body
    return program_id


def pay(api: Client, pid: str, payment_id: str, member: str = "m1", plan: str = "plus-quarter") -> Any:
    body = {"payment_id": payment_id, "plan_id": plan, "amount_paid_minor": 4500 if plan == "plus-quarter" else 1500}
    return lambda: api.call("POST", f"/programs/{pid}/members/{member}/paid-cards", body)


def wallet_sources(api: Client, pid: str, member: str = "m1") -> Counter[str]:
    status, body = api.call("GET", f"/programs/{pid}/members/{member}/coupons")
    assert status == 200, body
    return Counter(c["source"] for c in body["coupons"])


def test_parallel_confirmations_of_one_payment_buy_one_card(api: Client, paid: str) -> None:
    enrol(api, paid, "m1")
    results = parallel([pay(api, paid, "pay-1")] * N)
    assert sorted(s for s, _ in results) == [200] * (N - 1) + [201], results
    assert all(body == results[0][1] for _, body in results)
    view = api.call("GET", f"/programs/{paid}/members/m1")[1]
    assert [c["plan_id"] for c in view["paid_cards"]] == ["plus-quarter"]
    assert view["paid_cards"][0]["active_until"] == results[0][1]["card"]["active_until"]
    sources = wallet_sources(api, paid)
    assert sources["card:plus-quarter:pay-1"] == 1 and sum(sources.values()) == 1 + 3  # pack + first cycle
    assert assert_ledger_is_the_balance(api, paid, "m1") == 300


def test_parallel_distinct_payments_each_extend_once(api: Client, paid: str) -> None:
    enrol(api, paid, "m1")
    results = parallel([pay(api, paid, f"pay-{i}") for i in range(6)])
    assert sorted(s for s, _ in results) == [201] * 6, results
    assert sorted(body["extended"] for _, body in results) == [False] + [True] * 5
    card = max((body["card"] for _, body in results), key=lambda c: c["active_until"])
    view = api.call("GET", f"/programs/{paid}/members/m1")[1]["paid_cards"][0]
    assert view["active_until"] == card["active_until"]
    start = datetime.fromisoformat(view["active_from"]).astimezone(UTC)
    until = datetime.fromisoformat(view["active_until"]).astimezone(UTC)
    assert 18 * 28 <= (until - start).days <= 18 * 31 + 1  # six quarters, counted from the start
    sources = wallet_sources(api, paid)
    assert sum(n for s, n in sources.items() if ":cycle" in s) == 3  # one first cycle, not six
    assert assert_ledger_is_the_balance(api, paid, "m1") == 6 * 300


def run(stack: Stack, at: datetime) -> None:
    reply = lambda_client(stack).invoke(FunctionName="IssueBenefitsFunction", Payload=json.dumps(scheduled(at)))
    assert "FunctionError" not in reply, reply["Payload"].read()


def test_extensions_across_month_ends_and_cycles_once_each(stack: Stack, api: Client) -> None:
    pid = f"d-{uuid.uuid4().hex[:10]}"
    assert put_program(api.base, pid, program("paid-card"))[0] == 200
    store = Store("LoyaltyTable", client(stack.ddb.endpoint))
    jan31 = datetime(2026, 1, 31, 2, tzinfo=UTC)  # 10:00 on Jan 31 in Shanghai
    members.enrol(store, pid, Enrol(member_id="m1"), jan31)

    def buy(payment_id: str, at: datetime) -> dict[str, Any]:
        body = CardPurchase(payment_id=payment_id, plan_id="delivery-month", amount_paid_minor=1500)
        return cards.purchase(store, pid, "m1", body, at).result.model_dump(mode="json")

    first = buy("p1", jan31)
    assert first["card"]["active_until"] == "2026-02-28T02:00:00Z"  # Jan 31 + 1 month: Feb 28
    second = buy("p2", datetime(2026, 2, 10, tzinfo=UTC))
    assert second["extended"] and second["card"]["active_until"] == "2026-03-31T02:00:00Z"  # not Mar 28
    third = buy("p3", datetime(2026, 2, 20, tzinfo=UTC))  # both before the next cycle starts
    assert third["card"]["active_until"] == "2026-04-30T02:00:00Z"

    def cycles() -> list[str]:
        return sorted(s for s in wallet_sources(api, pid) if ":cycle" in s)

    assert len(cycles()) == 1
    # Hourly runs around each cycle start; a cycle is issued at the first run after it starts, once.
    for at in [
        datetime(2026, 2, 28, 1, tzinfo=UTC),
        datetime(2026, 2, 28, 3, tzinfo=UTC),
        datetime(2026, 2, 28, 3, tzinfo=UTC),
        datetime(2026, 3, 1, 3, tzinfo=UTC),
    ]:
        run(stack, at)
    assert len(cycles()) == 2
    for at in [datetime(2026, 3, 31, 3, tzinfo=UTC), datetime(2026, 4, 1, 3, tzinfo=UTC)]:
        run(stack, at)
    assert [c.rsplit(":", 1)[1] for c in cycles()] == ["cycle0", "cycle1", "cycle2"]
    assert wallet_sources(api, pid)[cycles()[2]] == 2  # two coupons a cycle, none twice

    run(stack, datetime(2026, 4, 23, 3, tzinfo=UTC))  # 7 days before the end
    run(stack, datetime(2026, 4, 30, 3, tzinfo=UTC))  # ended
    run(stack, datetime(2026, 4, 30, 3, tzinfo=UTC))
    profile = store.get_member(pid, "m1")
    assert profile is not None and profile.paid_cards == {} and "cards" not in profile.due_days
    notices = [n.kind for n in store.notices(pid, "m1")]
    assert Counter(notices) == Counter(
        {"card_purchased": 3, "card_cycle_issued": 3, "card_expiring": 1, "card_expired": 1}
    )


def test_parallel_refunds_of_one_payment_refund_once(api: Client, paid: str) -> None:
    enrol(api, paid, "m1")
    assert pay(api, paid, "pay-1")()[0] == 201
    path = f"/programs/{paid}/members/m1/paid-cards/plus-quarter/refund"
    calls = [lambda i=i: api.call("POST", path, {"refund_id": f"r-{i}", "payment_id": "pay-1"}) for i in range(N)]
    results = parallel(calls)
    done = [body for status, body in results if status == 201]
    assert len(done) == 1, results
    assert all(status in (404, 409) for status, _ in results if status != 201), results
    assert done[0]["refund_minor"] == 4500 and len(done[0]["coupons_revoked"]) == 4
    assert api.call("GET", f"/programs/{paid}/members/m1")[1]["paid_cards"] == []
    assert assert_ledger_is_the_balance(api, paid, "m1") == 0  # the card's 300 points taken back
