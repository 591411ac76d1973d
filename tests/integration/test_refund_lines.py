"""Refunds by lines on DynamoDB Local (issue 30 item 2): parallel refunds of one order never refund more
units than were bought, and a crash before or after any call of a refund by lines that gives back the
points the order was paid with (and, in full, its coupons), then the retry, leaves what one clean run
leaves (test_faults.py's check, on these operations)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from loyalty.errors import LoyaltyError
from loyalty.schemas import Refund
from loyalty.store import Store
from loyalty.usecases import earning
from tests.integration import test_faults as faults
from tests.integration.test_faults import NOW


def _by_lines(refund_id: str, *lines: tuple[str, int]) -> faults.Step:
    def refund(s: Store, pid: str, mid: str) -> Any:
        items = [{"line_id": line_id, "quantity": q} for line_id, q in lines]
        body = Refund.model_validate({"refund_id": refund_id, "order_id": f"o-{mid}", "items": items})
        return earning.refund(s, pid, mid, body, NOW)

    return refund


def _confirmed(s: Store, pid: str, mid: str) -> None:
    """A checkout of two lattes and a cake, paid with the welcome coupon and 500 points, confirmed."""
    faults._bought_and_checking_out(s, pid, mid)
    faults._confirm(s, pid, mid)


def _partly_refunded(s: Store, pid: str, mid: str) -> None:
    _confirmed(s, pid, mid)
    _by_lines("r-first", ("1", 1))(s, pid, mid)


REFUNDS: dict[str, tuple[faults.Step, faults.Step]] = {
    "refund by lines, points restored": (_confirmed, _by_lines("r-lines", ("1", 1))),
    "full refund by lines, coupons back": (_partly_refunded, _by_lines("r-rest", ("1", 1), ("2", 1))),
}


@pytest.mark.parametrize("name", list(REFUNDS))
def test_a_crash_around_any_call_of_a_refund_by_lines_then_the_retry_leaves_one_clean_run(
    store: Store,
    name: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(faults.OPERATIONS, name, REFUNDS[name])
    faults.test_a_crash_before_or_after_any_call_then_a_retry_leaves_what_one_clean_run_leaves(store, name)


def test_a_full_refund_by_lines_gives_everything_back_once(store: Store) -> None:
    pid = faults.fresh_program(store)
    _partly_refunded(store, pid, "m1")
    _, last = _by_lines("r-rest", ("1", 1), ("2", 1))(store, pid, "m1")
    order = store.get_ref(pid, "order", "o-m1")
    assert order is not None and order["paid_restored"] == order["points_paid"]  # all 500, never more
    assert last.coupons_restored == order["coupons_used"] and last.points_lapsed == 0
    ledger, _ = store.ledger(pid, "m1", 1000, None)
    assert sum(e.points for e in ledger) == store.get_member(pid, "m1").balance  # type: ignore[union-attr]


def test_parallel_refunds_of_one_order_by_lines_never_refund_more_units_than_bought(store: Store) -> None:
    pid = faults.fresh_program(store)
    _confirmed(store, pid, "m1")
    # 2 lattes and 1 cake; 8 refunds of a unit each race (4 of each line)
    attempts = [_by_lines(f"r{k}", ("1" if k % 2 else "2", 1)) for k in range(8)]

    def run(step: faults.Step) -> str:
        try:
            step(store, pid, "m1")
            return "ok"
        except LoyaltyError as e:
            return e.code

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(run, attempts))
    order = store.get_ref(pid, "order", "o-m1")
    assert order is not None
    assert order["lines_refunded"] == [2, 1], (order["lines_refunded"], outcomes)  # every unit, none twice
    assert outcomes.count("ok") == 3 and set(outcomes) <= {"ok", "limit_reached", "conflict"}, outcomes
    assert order["refunded_minor"] == order["order_minor"]
    assert sum(order["paid_restored"].values()) == sum(order["points_paid"].values())
    ledger, _ = store.ledger(pid, "m1", 1000, None)
    assert sum(e.points for e in ledger) == store.get_member(pid, "m1").balance  # type: ignore[union-attr]
