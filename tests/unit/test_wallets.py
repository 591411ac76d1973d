"""Wallets as rules (issue 31 part D): the Change's wallet primitives keep each wallet's balance equal to
the sum of its own ledger entries and never below zero; expiry by the wallet's own policy, on the
points run's due day; what a refund takes back; the checker knows the program's wallet ids."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyalty.errors import InsufficientPoints
from loyalty.member import LedgerEntry, Profile
from loyalty.program import Program
from loyalty.rules import campaigns, conditions, due, refunds, wallets
from loyalty.rules.posting import Change
from tests.support import program

DOC = program("stamps")  # Asia/Shanghai; stamps expire at the end of the 6th month after the one earned in
PROGRAM = Program.model_validate(DOC)
T0 = datetime(2026, 3, 11, 4, tzinfo=UTC)


def member(**kw: Any) -> Profile:
    return Profile(program_id="p", member_id="m", enrolled_at=T0, **kw)


def sums(entries: list[LedgerEntry]) -> dict[str | None, int]:
    found: dict[str | None, int] = {}
    for e in entries:
        found[e.wallet] = found.get(e.wallet, 0) + e.points
    return found


def test_a_wallet_moves_on_its_own_entries_and_points_on_theirs() -> None:
    change = Change.start(PROGRAM, member(buckets={"2027-03-31": 100}), T0)
    change.wallet_credit("stamps", 3, T0, "order:o1", "bonus", "campaign:c")
    change.wallet_debit("stamps", 2, T0, "redemption:r1", "redeem")
    assert [(e.wallet, e.points, e.balance_after) for e in change.entries] == [("stamps", 3, 3), ("stamps", -2, 1)]
    assert change.profile.wallets == {"stamps": {"2026-09-30": 1}}
    assert change.wallet_spent == {"redemption:r1": {"stamps": {"2026-09-30": 2}}}
    assert change.balance == 100  # points untouched
    with pytest.raises(InsufficientPoints):
        change.wallet_debit("stamps", 2, T0, "redemption:r2", "redeem")
    assert change.wallet_restore("stamps", {"2026-09-30": 2, "2025-01-31": 4}, T0, "r1", "cancel") == (2, 4)
    assert change.wallet_balance("stamps") == 3


def test_a_lapsed_wallet_bucket_expires_at_the_start_of_a_change_and_sets_the_points_run_day() -> None:
    held = member(wallets={"stamps": {"2026-09-30": 2, "2026-10-31": 1}})
    change = Change.start(PROGRAM, held, T0)
    assert due.days(change)["expire"] == "2026-10-01"  # no points: the wallet's day alone
    change = Change.start(PROGRAM, held, datetime(2026, 10, 1, 4, tzinfo=UTC))
    [expired] = change.entries
    assert (expired.type, expired.wallet, expired.points, expired.balance_after) == ("expire", "stamps", -2, 1)
    assert due.days(change)["expire"] == "2026-11-01"


def test_a_wallet_with_no_expiry_keeps_its_stamps_and_is_never_due() -> None:
    doc = {**DOC, "wallets": {"stamps": {"name": "Stamps"}}}
    change = Change.start(Program.model_validate(doc), member(), T0)
    change.wallet_credit("stamps", 1, T0, None, "bonus")
    assert change.profile.wallets == {"stamps": {"9999-12-31": 1}}
    assert due.days(change)["expire"] is None


OPS = st.lists(st.tuples(st.sampled_from(["credit", "debit", "restore", "later"]), st.integers(1, 20)), max_size=25)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(OPS)
def test_every_wallet_balance_is_the_sum_of_its_entries_and_never_negative(ops: list[tuple[str, int]]) -> None:
    profile, at, entries = member(), T0, []
    for op, n in ops:
        change = Change.start(PROGRAM, profile, at)
        if op == "credit":
            change.wallet_credit("stamps", n, at, "order:o", "bonus")
        elif op == "debit" and n <= change.wallet_balance("stamps"):
            change.wallet_debit("stamps", n, at, "redemption:r", "redeem")
        elif op == "restore":
            change.wallet_restore("stamps", {(at.date() + timedelta(days=n * 9)).isoformat(): n}, at, "r", "cancel")
        elif op == "later":
            at += timedelta(days=n * 15)
        entries += change.entries
        profile = change.profile
        assert change.wallet_balance("stamps") >= 0
    final = Change.start(PROGRAM, profile, at)
    entries += final.entries
    assert sums(entries).get("stamps", 0) == final.wallet_balance("stamps")


def test_a_refund_owes_the_stamps_of_its_lines_cumulatively() -> None:
    order = {
        "order_minor": 5000,
        "refunded_minor": 0,
        "order_facts": {"items": [["latte", "drinks", 3000, 2, "l"], ["cake", "food", 2000, 1, "2"]]},
        "campaign_wallets": {"per-drink": {"stamps": 2}, "flat": {"stamps": 3}},
        "wallet_lines": {"per-drink": {"stamps": {"0": 2}}},
    }
    r = refunds.by_lines(order, [("l", 1)])  # one latte: 1500 of 5000
    assert wallets.owed(order, r) == {"per-drink": {"stamps": 1}}  # the flat 3 follow the money: 0.9 -> 0
    change = Change.start(PROGRAM, member(wallets={"stamps": {"2026-09-30": 5}}), T0)
    back, handled = wallets.reverse(change, order, r, "refund:f1", "refund")
    assert back == {"wallets_reversed": {"stamps": 1}, "wallets_unrecovered": {}}
    assert handled == {"per-drink": {"stamps": 1}}
    later = order | {"refunded_minor": 1500, "lines_refunded": [1, 0], "wallets_reversed": handled}
    r = refunds.by_amount(later, 3500)  # the rest
    assert wallets.owed(later, r) == {"per-drink": {"stamps": 1}, "flat": {"stamps": 3}}
    change = Change.start(PROGRAM, member(wallets={"stamps": {"2026-09-30": 1}}), T0)  # 3 spent already
    back, _ = wallets.reverse(change, later, r, "refund:f2", "refund")
    assert back == {"wallets_reversed": {"stamps": 1}, "wallets_unrecovered": {"stamps": 3}}
    assert change.profile.wallets_owed == {"stamps": 3}
    assert change.wallet_restore("stamps", {"2026-09-30": 5}, T0, "r1", "cancel") == (2, 0)  # 3 settle the debt
    assert change.profile.wallets_owed == {}


def when_problems(when: str, doc: dict[str, Any] = DOC) -> list[str]:
    campaign = {"id": "c", "name": "c", "trigger": "purchase", "when": when, "effects": [{"points": 1}]}
    found = conditions.campaign_problems({**doc, "campaigns": [campaign]})
    return [p["message"] for p in found]


def test_the_checker_knows_the_programs_wallet_ids() -> None:
    assert when_problems("member.wallets.stamps >= 9") == []
    assert when_problems("member.wallets.stars >= 9") == [
        "unknown fact member.wallets.stars; member.wallets has stamps"
    ]
    assert when_problems("member.wallets.stamps == 'nine'") != []
    no_wallets = {k: v for k, v in DOC.items() if k != "wallets"}
    assert when_problems("member.wallets.stamps >= 9", no_wallets) != []


def test_the_fact_is_the_member_wallets_balance() -> None:
    held = member(wallets={"stamps": {"2026-09-30": 9}})
    event = campaigns.Event("purchase", T0, "order:o1", order=campaigns.order(PROGRAM, 100, [], {}))
    assert campaigns.facts(PROGRAM, held, event, None)["member"]["wallets"] == {"stamps": 9}
