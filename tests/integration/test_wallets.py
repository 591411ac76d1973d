"""Wallets' money paths on DynamoDB Local (issue 31 part D): parallel redemptions priced in stamps never
overdraw the wallet, and a crash before or after any call of a wallet redemption, its cancel or a refund
taking stamps back, then a retry, leaves what one clean run leaves (as tests/integration/test_faults.py
does for points)."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from loyalty.errors import LoyaltyError
from loyalty.schemas import Enrol, OrderItem, Purchase, Redeem, Refund
from loyalty.store import Store
from loyalty.usecases import earning, members, programs, spending
from tests.integration.crashes import each_crash_ends_as_a_clean_run
from tests.integration.test_faults import NOW, Step, state
from tests.support import program

DRINKS = [OrderItem(sku="latte", category="drinks", amount_minor=12000, quantity=12, line_id="l")]


def stamp_card(s: Store) -> str:
    pid = f"w-{uuid.uuid4().hex[:10]}"
    programs.save(s, pid, program("stamps"))
    return pid


def _stamped(s: Store, pid: str, mid: str) -> None:
    """Enrolled, and 12 stamps from one order of 12 drinks."""
    members.enrol(s, pid, Enrol(member_id=mid), NOW)
    earning.purchase(s, pid, mid, Purchase(order_id=f"o-{mid}", amount_minor=12000, items=DRINKS), NOW)


def _redeem(s: Store, pid: str, mid: str, rid: str = "rd") -> Any:
    return spending.redeem(s, pid, mid, Redeem(redemption_id=f"{rid}-{mid}", reward_id="free-coffee"), NOW)


def _stamped_and_redeemed(s: Store, pid: str, mid: str) -> None:
    _stamped(s, pid, mid)
    _redeem(s, pid, mid)


def _refund(s: Store, pid: str, mid: str) -> Any:
    return earning.refund(s, pid, mid, Refund(refund_id=f"r-{mid}", order_id=f"o-{mid}", amount_minor=1000), NOW)


OPERATIONS: dict[str, tuple[Step, Step]] = {
    "wallet redemption": (_stamped, _redeem),
    "wallet redemption cancel": (_stamped_and_redeemed, lambda s, p, m: spending.cancel(s, p, m, f"rd-{m}", NOW)),
    "wallet refund": (_stamped, _refund),
}


def wallet_sums(s: Store, pid: str, mid: str) -> tuple[int, int]:
    """(the stamps' balance, the sum of the stamps' ledger entries)."""
    profile = s.get_member(pid, mid)
    assert profile is not None
    ledger, _ = s.ledger(pid, mid, 1000, None)
    return sum(profile.wallets.get("stamps", {}).values()), sum(e.points for e in ledger if e.wallet == "stamps")


def test_parallel_redemptions_by_wallet_never_overdraw_it(store: Store) -> None:
    pid = stamp_card(store)
    _stamped(store, pid, "m1")  # 12 stamps: one free coffee (10), never two

    def one(i: int) -> int:
        try:
            _redeem(store, pid, "m1", f"rd{i}")
            return 201
        except LoyaltyError as refused:
            assert refused.code == "insufficient_points", refused
            return refused.status

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(one, range(8)))
    assert sorted(results) == [201] + [409] * 7, results
    assert wallet_sums(store, pid, "m1") == (2, 2)


@pytest.mark.parametrize("name", list(OPERATIONS))
def test_a_crash_in_a_wallet_write_then_a_retry_leaves_what_one_clean_run_leaves(store: Store, name: str) -> None:
    setup_step, write = OPERATIONS[name]
    for other in each_crash_ends_as_a_clean_run(store, name, lambda: stamp_card(store), setup_step, write, state):
        balance, entries = wallet_sums(store, other, "clean")
        assert balance == entries >= 0
