"""Pending points (rules/pending.py, Change.defer_until / release_pending): a purchase's points wait out
the return window on the profile, out of the balance and the ledger, and are credited at the first
write or points run on or after their day."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from loyalty.errors import InsufficientPoints
from loyalty.member import Pending, Profile
from loyalty.program import Program
from loyalty.records import StreamRecord
from loyalty.rules import due, erasure, health, pending
from loyalty.rules.posting import Change
from tests.support import program

T0 = datetime(2026, 12, 3, 17, tzinfo=UTC)  # 2026-12-04 01:00 in Shanghai, the demo program's zone


def demo(days: int = 7) -> Program:
    doc = program("demo")
    doc["points"]["pending_days"] = days
    return Program.model_validate(doc)


def member(**fields: Any) -> Profile:
    return Profile(program_id="demo", member_id="m1", enrolled_at=T0 - timedelta(days=30), **fields)


def bought(prog: Program, points: int = 120) -> Change:
    """A purchase's credits, as apply_purchase makes them: earn, then a campaign's bonus."""
    change = Change.start(prog, member(buckets={"2027-12-31": 100}), T0)
    change.defer_until = pending.available_on(prog, T0)
    change.credit("earn", points, T0, "order:o1")
    change.credit("bonus", 30, T0, "order:o1", "campaign:double")
    change.defer_until = None
    return change


def test_the_window_counts_program_local_days_after_paid_at_and_zero_means_none() -> None:
    assert pending.available_on(demo(0), T0) is None
    assert pending.available_on(demo(7), T0) == date(2026, 12, 11)  # local 12-04 + 7


def test_a_purchase_credit_inside_the_window_is_pending_not_balance_ledger_or_lifetime() -> None:
    change = bought(demo())
    p = change.profile
    assert change.balance == 100 and change.entries == [] and p.lifetime_earned == 0
    assert [(x.points, x.available_on, x.ref, x.type, x.reason) for x in p.pending] == [
        (120, "2026-12-11", "order:o1", "earn", None),
        (30, "2026-12-11", "order:o1", "bonus", "campaign:double"),
    ]
    with pytest.raises(InsufficientPoints):  # not spendable
        change.debit("redeem", 101, T0, "redemption:r1")


def test_a_window_already_over_credits_at_once() -> None:
    prog = demo(7)
    change = Change.start(prog, member(), T0 + timedelta(days=30))  # a late-synced order paid at T0
    change.defer_until = pending.available_on(prog, T0)
    change.credit("earn", 50, T0, "order:o1")
    assert change.balance == 50 and change.profile.pending == [] and [e.type for e in change.entries] == ["earn"]


def test_the_first_change_on_or_after_the_day_releases_them_as_if_credited_at_once() -> None:
    prog = demo()
    profile = bought(prog).profile
    day_before = datetime(2026, 12, 10, 15, tzinfo=UTC)  # 23:00 local on 12-10
    assert Change.start(prog, profile, day_before).entries == []
    change = Change.start(prog, profile, day_before + timedelta(hours=1))  # 00:00 local on 12-11
    assert [(e.type, e.points, e.ref, e.reason, e.balance_after) for e in change.entries] == [
        ("earn", 120, "order:o1", None, 220),
        ("bonus", 30, "order:o1", "campaign:double", 250),
    ]
    assert change.profile.pending == [] and change.profile.lifetime_earned == 150 and change.balance == 250
    again = Change.start(prog, change.profile, day_before + timedelta(hours=2))
    assert again.entries == []  # released once


def test_the_points_run_is_due_on_the_first_pending_day_or_bucket_expiry_whichever_first() -> None:
    prog = demo()
    change = bought(prog)
    assert due.days(change)["expire"] == "2026-12-11"
    change.profile.buckets = {"2026-12-05": 100}
    assert due.days(change)["expire"] == "2026-12-06"
    change.profile.pending = []
    assert due.days(change)["expire"] == "2026-12-06"


def test_a_refund_cancels_the_orders_pending_points_by_part_and_no_other_orders() -> None:
    profile = member(
        pending=[
            Pending(points=100, available_on="2026-12-11", ref="order:o1", type="earn"),
            Pending(points=30, available_on="2026-12-11", ref="order:o1", type="bonus", reason="campaign:x"),
            Pending(points=50, available_on="2026-12-12", ref="order:o2", type="earn"),
        ]
    )
    assert pending.cancel(profile, "order:o1", 40, {"x": 10}) == 40
    assert [(p.ref, p.type, p.points) for p in profile.pending] == [
        ("order:o1", "earn", 70),
        ("order:o1", "bonus", 20),
        ("order:o2", "earn", 50),
    ]
    assert pending.cancel(profile, "order:o1", 500) == 90  # only what it has pending: the rest is the balance's
    assert [(p.ref, p.points) for p in profile.pending] == [("order:o2", 50)]
    assert pending.cancel(profile, "order:o3", 10) == 0


def pending_order() -> list[Pending]:
    """Issue 30's order: earn 100, first order bonus 200, campaign c 90 on its tea line (60 of 100)."""
    return [
        Pending(points=100, available_on="2026-12-11", ref="order:o1", type="earn"),
        Pending(points=200, available_on="2026-12-11", ref="order:o1", type="bonus", reason="first_order"),
        Pending(points=90, available_on="2026-12-11", ref="order:o1", type="bonus", reason="campaign:c"),
    ]


def test_a_partial_refund_cuts_each_pending_part_by_what_it_takes_of_that_part() -> None:
    profile = member(pending=pending_order())
    assert pending.cancel(profile, "order:o1", 195, {"c": 45}) == 195  # base 150 of 300, campaign 45 of 90
    assert [(p.type, p.reason, p.points) for p in profile.pending] == [
        ("earn", None, 50),
        ("bonus", "first_order", 100),
        ("bonus", "campaign:c", 45),
    ]
    assert pending.cancel(profile, "order:o1", 75, {"c": 0}) == 75  # a second quarter of the money
    assert [p.points for p in profile.pending] == [25, 50, 45]


def test_campaigns_credited_together_are_cut_from_the_entries_naming_each() -> None:
    profile = member(
        pending=[
            Pending(points=100, available_on="2026-12-11", ref="order:o1", type="earn"),
            Pending(points=60, available_on="2026-12-11", ref="order:o1", type="bonus", reason="campaign:a,b"),
            Pending(points=20, available_on="2026-12-11", ref="order:o1", type="bonus", reason="campaign:b"),
        ]
    )
    assert pending.cancel(profile, "order:o1", 80, {"a": 0, "b": 30}) == 80
    assert [p.points for p in profile.pending] == [50, 30, 20]


def test_the_view_lists_what_is_not_credited_yet_one_row_per_order_and_day() -> None:
    waiting = bought(demo()).profile.pending
    # Its day come or not: until a write or the points run credits it, it is pending, not balance.
    assert pending.view(waiting) == [{"points": 150, "available_on": "2026-12-11", "ref": "order:o1"}]


def test_health_keeps_pending_points_apart_from_the_liability() -> None:
    prog = demo()
    old = member().model_dump(mode="json")
    new = bought(prog).profile.model_dump(mode="json")
    out: dict[Any, Counter[str]] = {}
    record = StreamRecord("member", "demo", "m1", new, old, "e1", T0)
    health.deltas(record, prog, T0, out)
    assert out[("demo", health.TOTAL)]["points_pending"] == 150
    out = {}
    health.deltas(StreamRecord("member", "demo", "m1", None, new, "e2", T0), prog, T0, out)  # erased
    assert out[("demo", health.TOTAL)]["points_pending"] == -150
    figures = health.figures(prog, [], [], {"points": 100, "points_pending": 150})
    assert figures["points_liability"] == {"points": 100, "worth_minor": 100, "pending": 150}


def test_an_erasure_drops_what_the_window_still_holds() -> None:
    change = Change.start(demo(), bought(demo()).profile, T0 + timedelta(days=1))
    assert erasure.erase(change, "anon-1") == 100 and change.profile.pending == []


def test_released_points_expire_counted_from_the_day_they_became_spendable_not_the_release() -> None:
    """Issue 30 acceptance: a window crossing into January makes them January's points (rolling 12
    months: the end of January a year on), however late the write or run that credits them comes."""
    prog = demo(30)
    profile = bought(prog).profile  # paid 2026-12-04 local: spendable from 2027-01-03
    assert {p.available_on for p in profile.pending} == {"2027-01-03"}
    late = Change.start(prog, profile, datetime(2027, 3, 10, 4, tzinfo=UTC))  # no run until March
    assert late.profile.buckets == {"2027-12-31": 100, "2028-01-31": 150}
    lost = Change.start(prog, profile, datetime(2028, 3, 10, 4, tzinfo=UTC))  # a run down for a year
    assert lost.profile.buckets.get("2029-03-31") == 150  # never credited born expired
