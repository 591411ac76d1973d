"""A full refund of a checkout's order on DynamoDB Local (issue 30 acceptance): its checkout campaign's
`discount_minor` budget and the member's use come back exactly once, however many refunds race to
complete the order, and a crash before or after any call of it, then the retry, leaves what one clean
run leaves (test_faults.py's check)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from loyalty.errors import LoyaltyError
from loyalty.schemas import Refund
from loyalty.store import Store
from loyalty.usecases import checkout, earning, programs
from tests.integration import test_faults as faults
from tests.integration.test_faults import NOW
from tests.integration.test_refund_lines import _confirmed

BUDGET = "campaign:ten-off:discount_minor:all"


def _full(refund_id: str) -> faults.Step:
    def refund(s: Store, pid: str, mid: str) -> Any:
        order = s.get_ref(pid, "order", f"o-{mid}")
        assert order is not None
        body = Refund(refund_id=refund_id, order_id=f"o-{mid}", amount_minor=int(order["order_minor"]))
        return earning.refund(s, pid, mid, body, NOW)

    return refund


def _taken(s: Store, pid: str) -> int:
    return int(s.get_member_with(pid, "m1", [], checkout.budget_keys(programs.load(s, pid), NOW))[2].get(BUDGET, 0))


def test_a_crash_around_any_call_of_a_checkouts_full_refund_then_the_retry_leaves_one_clean_run(
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    name = "full refund of a checkout, its budget back"
    monkeypatch.setitem(faults.OPERATIONS, name, (_confirmed, _full("r-full")))
    faults.test_a_crash_before_or_after_any_call_then_a_retry_leaves_what_one_clean_run_leaves(store, name)


def test_parallel_refunds_completing_a_checkouts_order_give_its_budget_back_once(store: Store) -> None:
    pid = faults.fresh_program(store)
    _confirmed(store, pid, "m1")
    order = store.get_ref(pid, "order", "o-m1")
    assert order is not None
    off = int(order["checkout_campaigns"]["ten-off"]["discount_minor"])
    assert off > 0 and _taken(store, pid) == off

    def run(step: faults.Step) -> str:
        try:
            step(store, pid, "m1")
            return "ok"
        except LoyaltyError as e:
            return e.code

    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(run, [_full(f"r{k}") for k in range(6)]))
    assert outcomes.count("ok") == 1 and set(outcomes) <= {"ok", "validation_error", "conflict"}, outcomes
    assert _taken(store, pid) == 0  # given back once, never below what was taken
    profile = store.get_member(pid, "m1")
    assert profile is not None and profile.campaigns["ten-off"].total == 0
    assert store.get_ref(pid, "order", "o-m1")["checkout_returned"] is True  # type: ignore[index]
