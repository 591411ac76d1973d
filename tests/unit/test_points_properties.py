"""Bucket arithmetic: earliest-expiring first, never negative, the ledger always sums to the balance."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyalty.errors import InsufficientPoints
from loyalty.member import Profile
from loyalty.program import Expiry, Program
from loyalty.rules import buckets
from loyalty.rules.posting import Change
from tests.support import program

PROGRAM = Program.model_validate(program("demo"))
START = datetime(2026, 1, 15, 4, tzinfo=UTC)


def test_rolling_expiry_is_the_end_of_month_m_plus_n() -> None:
    assert buckets.expires_on(date(2026, 1, 15), Expiry(months=12)) == "2027-01-31"
    assert buckets.expires_on(date(2027, 2, 3), Expiry(months=12)) == "2028-02-29"  # leap year
    assert buckets.expires_on(date(2026, 12, 31), Expiry(months=1)) == "2027-01-31"
    assert buckets.expires_on(date(2026, 5, 1), Expiry(policy="never")) == buckets.NEVER


def test_take_spends_the_earliest_expiring_first() -> None:
    held = {"2027-03-31": 50, "2026-12-31": 30, "2027-01-31": 40}
    assert buckets.take(held, 60) == {"2027-01-31": 10, "2027-03-31": 50}
    assert buckets.take(held, 120) == {}


def test_take_refuses_more_than_held_and_changes_nothing() -> None:
    held = {"2026-12-31": 30}
    with pytest.raises(InsufficientPoints):
        buckets.take(held, 31)
    assert held == {"2026-12-31": 30}


def test_a_bucket_expires_after_its_day() -> None:
    live, expired = buckets.split_expired({"2026-01-31": 5, "2026-02-28": 7}, date(2026, 1, 31))
    assert (live, expired) == ({"2026-01-31": 5, "2026-02-28": 7}, {})
    live, expired = buckets.split_expired({"2026-01-31": 5, "2026-02-28": 7}, date(2026, 2, 1))
    assert (live, expired) == ({"2026-02-28": 7}, {"2026-01-31": 5})


def test_a_write_after_expiry_books_the_expiry_first() -> None:
    profile = Profile(
        program_id="p", member_id="m", enrolled_at=START, buckets={"2026-01-31": 40, "2027-03-31": 10}, ledger_seq=0
    )
    change = Change.start(PROGRAM, profile, datetime(2026, 2, 2, tzinfo=UTC))
    assert [(e.type, e.points, e.balance_after) for e in change.entries] == [("expire", -40, 10)]
    assert change.profile.version == 1 and change.balance == 10


operations = st.lists(
    st.tuples(st.sampled_from(["credit", "debit"]), st.integers(1, 5000), st.integers(0, 800)),
    min_size=1,
    max_size=40,
)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(operations)
def test_ledger_sums_to_the_balance_and_no_bucket_goes_negative(ops: list[tuple[str, int, int]]) -> None:
    profile = Profile(program_id="p", member_id="m", enrolled_at=START)
    entries = []
    for kind, points, day in ops:
        at = START + timedelta(days=day)
        change = Change.start(PROGRAM, profile, at)
        before = change.balance
        try:
            if kind == "credit":
                change.credit("earn", points, at, "t")
            else:
                change.debit("redeem", points, at, "t")
        except InsufficientPoints:
            assert points > before
            continue  # nothing is written when a debit is refused
        profile = change.profile
        entries += change.entries
        assert all(p > 0 for p in profile.buckets.values())
        assert profile.balance == change.balance >= 0
    running = 0
    for entry in entries:
        running += entry.points
        assert entry.balance_after == running
    assert running == profile.balance
    assert [int(e.entry_id) for e in entries] == list(range(1, len(entries) + 1))


def test_member_view_never_shows_expired_points() -> None:
    from loyalty.usecases.members import view

    profile = Profile(program_id="p", member_id="m", enrolled_at=START, buckets={"2026-01-31": 40, "2027-03-31": 10})
    shown = view(PROGRAM, profile, datetime(2026, 2, 1, 1, tzinfo=UTC))  # 09:00 in Shanghai: Jan 31 is over
    assert shown["points"]["balance"] == 10
    assert shown["points"]["expiring"] == [{"points": 10, "expires_on": "2027-03-31"}]
