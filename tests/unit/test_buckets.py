"""Points in expiry buckets: when they expire, the order they are spent in, and the ledger invariant
(every entry carries the balance after it, so the ledger always sums to the balance)."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyalty.errors import InsufficientPoints
from loyalty.member import LedgerEntry, Profile
from loyalty.program import Expiry, Program
from loyalty.rules import buckets
from loyalty.rules.posting import Change
from tests.support import program

PROGRAM = Program.model_validate(program("demo"))  # Asia/Shanghai, rolling_months 12
START = datetime(2026, 1, 15, 4, tzinfo=UTC)
TWELVE = Expiry(policy="rolling_months", months=12)
FAST = settings(max_examples=200, deadline=None, derandomize=True)


def profile(**kw: object) -> Profile:
    return Profile(program_id="p", member_id="m", enrolled_at=START, **kw)


# --- expiry dates ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("earned_on", "expires"),
    [
        (date(2026, 1, 1), "2027-01-31"),
        (date(2026, 1, 31), "2027-01-31"),
        (date(2026, 4, 15), "2027-04-30"),
        (date(2026, 12, 31), "2027-12-31"),
    ],
)
def test_points_earned_in_month_m_expire_at_the_end_of_month_m_plus_12(earned_on: date, expires: str) -> None:
    assert buckets.expires_on(earned_on, TWELVE) == expires


def test_expiry_in_february_is_the_28th_in_a_common_year() -> None:
    assert buckets.expires_on(date(2026, 2, 28), TWELVE) == "2027-02-28"


def test_expiry_in_february_is_the_29th_in_a_leap_year() -> None:
    assert buckets.expires_on(date(2027, 2, 3), TWELVE) == "2028-02-29"


def test_points_earned_on_a_leap_day_expire_at_the_end_of_next_february() -> None:
    assert buckets.expires_on(date(2028, 2, 29), TWELVE) == "2029-02-28"


def test_a_short_rolling_period_crosses_the_year_end() -> None:
    assert buckets.expires_on(date(2026, 12, 31), Expiry(months=1)) == "2027-01-31"
    assert buckets.expires_on(date(2026, 11, 30), Expiry(months=3)) == "2027-02-28"


def test_points_under_the_never_policy_never_expire() -> None:
    assert buckets.expires_on(date(2026, 5, 1), Expiry(policy="never")) == buckets.NEVER == "9999-12-31"


@FAST
@given(st.dates(date(2000, 1, 1), date(2200, 12, 31)), st.integers(1, 120))
def test_expiry_is_the_last_day_of_the_month_n_months_after_earning(earned_on: date, months: int) -> None:
    expires = date.fromisoformat(buckets.expires_on(earned_on, Expiry(months=months)))
    assert (expires.year * 12 + expires.month) - (earned_on.year * 12 + earned_on.month) == months
    assert expires.day == calendar.monthrange(expires.year, expires.month)[1]


# --- spending -------------------------------------------------------------------------------------


def test_take_spends_the_earliest_expiring_bucket_first() -> None:
    held = {"2027-03-31": 50, "2026-12-31": 30, "2027-01-31": 40}
    assert buckets.take(held, 60) == {"2027-01-31": 10, "2027-03-31": 50}


def test_take_spends_never_expiring_points_last() -> None:
    held = {buckets.NEVER: 100, "2030-01-31": 5}
    assert buckets.take(held, 10) == {buckets.NEVER: 95}


def test_take_removes_emptied_buckets() -> None:
    assert buckets.take({"2026-12-31": 30, "2027-01-31": 40}, 70) == {}


def test_take_refuses_more_than_held_and_leaves_the_buckets_unchanged() -> None:
    held = {"2026-12-31": 30, "2027-01-31": 10}
    with pytest.raises(InsufficientPoints) as caught:
        buckets.take(held, 41)
    assert held == {"2026-12-31": 30, "2027-01-31": 10}
    assert caught.value.details == [{"needed": 41, "available": 40}]


def test_take_returns_a_new_dict() -> None:
    held = {"2026-12-31": 30}
    assert buckets.take(held, 10) == {"2026-12-31": 20}
    assert held == {"2026-12-31": 30}


def test_add_merges_points_into_a_bucket_of_the_same_day() -> None:
    assert buckets.add({"2027-01-31": 5}, "2027-01-31", 7) == {"2027-01-31": 12}
    assert buckets.add({"2027-01-31": 5}, "2027-02-28", 0) == {"2027-01-31": 5}


bucket_maps = st.dictionaries(
    st.dates(date(2026, 1, 1), date(2030, 12, 31)).map(date.isoformat), st.integers(1, 10_000), max_size=12
)


@FAST
@given(bucket_maps, st.data())
def test_take_leaves_only_the_latest_expiring_points(held: dict[str, int], data: st.DataObject) -> None:
    points = data.draw(st.integers(0, buckets.total(held)))
    left = buckets.take(held, points)
    assert buckets.total(left) == buckets.total(held) - points
    assert all(v > 0 for v in left.values())
    assert set(left) <= set(held)
    if left:
        oldest_left = min(left)
        # Every later bucket is untouched; only the oldest remaining one may have been partly spent,
        # and every bucket expiring before it was spent entirely.
        assert all(left.get(day) == held[day] for day in held if day > oldest_left)
        assert 0 < left[oldest_left] <= held[oldest_left]


# --- expiry boundary ------------------------------------------------------------------------------


def test_a_bucket_dated_today_is_still_live() -> None:
    live, expired = buckets.split_expired({"2026-01-31": 5, "2026-02-28": 7}, date(2026, 1, 31))
    assert (live, expired) == ({"2026-01-31": 5, "2026-02-28": 7}, {})


def test_a_bucket_expires_the_day_after_its_date() -> None:
    live, expired = buckets.split_expired({"2026-01-31": 5, "2026-02-28": 7}, date(2026, 2, 1))
    assert (live, expired) == ({"2026-02-28": 7}, {"2026-01-31": 5})


def test_never_expiring_points_are_always_live() -> None:
    assert buckets.split_expired({buckets.NEVER: 3}, date(9999, 12, 30)) == ({buckets.NEVER: 3}, {})


# --- Change.start books expiry before anything else -------------------------------------------------


def test_start_writes_one_expire_entry_with_the_negative_expired_total() -> None:
    held = profile(buckets={"2026-01-31": 40, "2026-02-28": 5, "2027-03-31": 10}, ledger_seq=7, version=3)
    change = Change.start(PROGRAM, held, datetime(2026, 3, 2, 4, tzinfo=UTC))
    assert [(e.type, e.points, e.balance_after) for e in change.entries] == [("expire", -45, 10)]
    assert change.entries[0].entry_id == f"{8:012d}"
    assert change.profile.buckets == {"2027-03-31": 10}
    assert change.balance == change.profile.balance == 10
    assert held.balance + sum(e.points for e in change.entries) == change.balance  # ledger = balance


def test_start_leaves_the_input_profile_untouched() -> None:
    held = profile(buckets={"2026-01-31": 40, "2027-03-31": 10})
    change = Change.start(PROGRAM, held, datetime(2026, 3, 2, tzinfo=UTC))
    assert held.buckets == {"2026-01-31": 40, "2027-03-31": 10} and held.version == 0
    assert change.profile.version == 1


def test_start_writes_nothing_when_nothing_has_expired() -> None:
    change = Change.start(PROGRAM, profile(buckets={"2026-01-31": 40}), datetime(2026, 1, 31, 15, tzinfo=UTC))
    assert change.entries == [] and change.balance == 40


def test_start_expires_by_the_programs_local_date() -> None:
    held = profile(buckets={"2026-01-31": 40, "2027-03-31": 10})
    # 16:30 UTC on Jan 31 is already Feb 1 in Shanghai: January's bucket is over.
    change = Change.start(PROGRAM, held, datetime(2026, 1, 31, 16, 30, tzinfo=UTC))
    assert [(e.type, e.points) for e in change.entries] == [("expire", -40)]


def test_credit_books_points_in_the_bucket_expiring_twelve_months_on() -> None:
    change = Change.start(PROGRAM, profile(), datetime(2026, 3, 31, 17, tzinfo=UTC))  # Apr 1 in Shanghai
    change.credit("earn", 25, change.at, "order:1")
    assert change.profile.buckets == {"2027-04-30": 25}
    assert change.profile.lifetime_earned == 25


def test_a_refused_debit_writes_nothing() -> None:
    change = Change.start(PROGRAM, profile(buckets={"2027-01-31": 10}), START)
    with pytest.raises(InsufficientPoints):
        change.debit("redeem", 11, START, "r")
    assert change.entries == [] and change.profile.buckets == {"2027-01-31": 10}


# --- the ledger invariant under random traffic ----------------------------------------------------

operations = st.lists(
    st.tuples(
        st.sampled_from(["credit", "debit"]),
        st.integers(1, 5000),  # points
        st.integers(0, 1500),  # day offset from START: far enough for points to expire
    ),
    min_size=1,
    max_size=40,
)


def run(ops: list[tuple[str, int, int]], ordered: bool) -> tuple[Profile, list[LedgerEntry]]:
    """Apply each operation as its own Change (one write each), as the use cases do."""
    current = profile()
    ledger: list[LedgerEntry] = []
    for kind, points, offset in sorted(ops, key=lambda op: op[2]) if ordered else ops:
        at = START + timedelta(days=offset)
        change = Change.start(PROGRAM, current, at)
        available = change.balance
        try:
            if kind == "credit":
                change.credit("earn", points, at, "t")
            else:
                change.debit("redeem", points, at, "t")
        except InsufficientPoints:
            assert points > available
            continue  # the whole change is dropped: nothing is written
        if kind == "debit":
            assert points <= available
        assert all(v > 0 for v in change.profile.buckets.values())
        current = change.profile
        ledger += change.entries
    return current, ledger


@FAST
@given(operations, st.booleans())
def test_the_ledger_sums_to_the_final_bucket_total(ops: list[tuple[str, int, int]], ordered: bool) -> None:
    final, ledger = run(ops, ordered)
    assert sum(e.points for e in ledger) == buckets.total(final.buckets) == final.balance


@FAST
@given(operations, st.booleans())
def test_every_entry_carries_the_running_balance(ops: list[tuple[str, int, int]], ordered: bool) -> None:
    _, ledger = run(ops, ordered)
    running = 0
    for entry in ledger:
        running += entry.points
        assert entry.balance_after == running >= 0


@FAST
@given(operations, st.booleans())
def test_entries_are_numbered_without_gaps(ops: list[tuple[str, int, int]], ordered: bool) -> None:
    final, ledger = run(ops, ordered)
    assert [int(e.entry_id) for e in ledger] == list(range(1, len(ledger) + 1))
    assert final.ledger_seq == len(ledger)


@FAST
@given(operations)
def test_only_expiry_takes_points_nobody_spent(ops: list[tuple[str, int, int]]) -> None:
    final, ledger = run(ops, ordered=True)
    by_type: dict[str, int] = {}
    for entry in ledger:
        by_type[entry.type] = by_type.get(entry.type, 0) + entry.points
    assert final.lifetime_earned == by_type.get("earn", 0)
    assert by_type.get("expire", 0) <= 0 and by_type.get("redeem", 0) <= 0


def test_member_view_never_shows_expired_points() -> None:
    from loyalty.program import Program
    from loyalty.usecases.members import view
    from tests.support import program

    demo = Program.model_validate(program("demo"))
    start = datetime(2026, 1, 15, 4, tzinfo=UTC)
    profile = Profile(program_id="p", member_id="m", enrolled_at=start, buckets={"2026-01-31": 40, "2027-03-31": 10})
    shown = view(demo, profile, datetime(2026, 2, 1, 1, tzinfo=UTC))  # 09:00 in Shanghai: Jan 31 is over
    assert shown.points.balance == 10
    assert shown.points.model_dump()["expiring"] == [{"points": 10, "expires_on": "2027-03-31"}]
