"""Holds (rules/holds.py): what open checkouts keep of a member's points and coupons, and when they end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from loyalty.errors import InsufficientPoints, LimitReached
from loyalty.member import Hold, Profile
from loyalty.program import Program
from loyalty.rules import holds
from loyalty.rules.posting import Change
from tests.support import program

T0 = datetime(2026, 12, 3, 4, tzinfo=UTC)


def member(**holds_: Hold) -> Profile:
    return Profile(program_id="demo", member_id="m1", enrolled_at=T0, buckets={"2027-12-31": 1000}, holds=holds_)


def test_only_open_holds_hold_and_a_checkout_never_holds_against_itself() -> None:
    p = member(
        a=Hold(points=300, coupon_ids=["c1"], expires_at=T0 + timedelta(minutes=15)),
        b=Hold(points=200, coupon_ids=["c2"], expires_at=T0 + timedelta(minutes=5)),
    )
    assert holds.held_points(p, T0) == 500
    assert holds.held_points(p, T0, but="a") == 200
    assert holds.held_coupons(p, T0) == {"c1", "c2"}
    later = T0 + timedelta(minutes=5)  # b ends at its expires_at: no sweep, no write
    assert holds.held_points(p, later) == 300
    assert holds.held_coupons(p, later) == {"c1"}
    assert holds.check_coupon_free(p, "c2", later) and not holds.check_coupon_free(p, "c1", later)


def test_spending_outside_a_checkout_takes_only_what_no_open_checkout_holds() -> None:
    p = member(a=Hold(points=800, expires_at=T0 + timedelta(minutes=15)))
    change = Change.start(Program.model_validate(program("demo")), p, T0)
    with pytest.raises(InsufficientPoints):
        change.debit("redeem", 201, T0, "redemption:r1")
    change.debit("redeem", 200, T0, "redemption:r1")
    change.debit("reverse", 500, T0, "refund:r1")  # a refund's reversal is no spending: holds do not stop it
    assert change.balance == 300


def test_a_write_drops_the_holds_past_their_time() -> None:
    p = member(
        a=Hold(points=100, expires_at=T0 + timedelta(minutes=1)),
        b=Hold(points=100, expires_at=T0 - timedelta(seconds=1)),
    )
    change = Change.start(Program.model_validate(program("demo")), p, T0)
    assert set(change.profile.holds) == {"a"}
    assert set(p.holds) == {"a", "b"}  # the profile read is left as it was


def test_a_member_has_at_most_twenty_open_checkouts_and_an_ended_one_makes_room() -> None:
    soon, ended = T0 + timedelta(minutes=15), T0 - timedelta(minutes=1)
    p = member(**{f"c{i}": Hold(expires_at=soon) for i in range(holds.MAX_OPEN - 1)}, old=Hold(expires_at=ended))
    holds.check_room(p, "new", T0)
    p.holds["c19"] = Hold(expires_at=soon)
    holds.check_room(p, "c0", T0)  # re-pricing an open one
    with pytest.raises(LimitReached):
        holds.check_room(p, "new", T0)


def test_spent_points_come_back_into_their_buckets_and_an_expired_bucket_gives_nothing() -> None:
    p = Profile(program_id="demo", member_id="m1", enrolled_at=T0, buckets={"2026-12-31": 300, "2027-12-31": 1000})
    change = Change.start(Program.model_validate(program("demo")), p, T0)
    change.debit("redeem", 500, T0, "checkout:c1")
    assert change.spent == {"checkout:c1": {"2026-12-31": 300, "2027-12-31": 200}}
    later = Change.start(Program.model_validate(program("demo")), change.profile, datetime(2027, 1, 2, tzinfo=UTC))
    assert later.restore(change.spent["checkout:c1"], later.at, "refund:r1") == (200, 300)
    assert later.profile.buckets == {"2027-12-31": 1000} and later.balance == sum(e.points for e in later.entries) + 800
    assert [(e.type, e.points) for e in later.entries] == [("restore", 200)]
