"""Activity streaks (rules/earning.streak_days and record_activity): consecutive program-local days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from loyalty.member import Profile
from loyalty.program import Program
from loyalty.rules import earning
from loyalty.rules.posting import Change
from tests.support import program

FAST = settings(max_examples=300, deadline=None, derandomize=True)
DEMO = Program.model_validate(program("demo"))
AT = datetime(2026, 3, 10, 4, tzinfo=UTC)
START = date(2026, 3, 1)


def member() -> Profile:
    return Profile(program_id="p", member_id="m", enrolled_at=AT - timedelta(days=30))


def check_in(profile: Profile, day: date, type_: str = "check_in") -> tuple[Profile, int]:
    """One activity on `day`, as the activity use case applies it: (the profile after, its streak fact)."""
    streak = earning.streak_days(profile, type_, day)
    change = Change.start(DEMO, profile, AT)
    earning.record_activity(change, type_, AT, day.isoformat())
    return change.profile, streak


def days(*offsets: int) -> list[date]:
    return [START + timedelta(days=n) for n in offsets]


def run(sequence: list[date], type_: str = "check_in") -> tuple[Profile, list[int]]:
    profile, facts = member(), []
    for day in sequence:
        profile, streak = check_in(profile, day, type_)
        facts.append(streak)
    return profile, facts


def test_a_day_after_extends_the_same_day_keeps_and_a_gap_restarts() -> None:
    profile, facts = run(days(0, 1, 2, 2, 3, 5, 6))
    assert facts == [1, 2, 3, 3, 4, 1, 2]
    assert profile.streaks["check_in"].model_dump() == {"day": "2026-03-07", "days": 2}


def test_the_fifth_check_in_in_a_row_is_five() -> None:
    assert run(days(0, 1, 2, 3, 4))[1][-1] == 5


def test_a_late_activity_for_an_older_day_does_not_break_the_newer_streak() -> None:
    profile, _ = run(days(0, 1, 2, 3))
    profile, late = check_in(profile, START + timedelta(days=1))  # synced late: day 2 of the run
    assert late == 2 and profile.streaks["check_in"].days == 4
    profile, older = check_in(profile, START - timedelta(days=5))  # before the run: not linked to it
    assert older == 1 and profile.streaks["check_in"].model_dump() == {"day": "2026-03-04", "days": 4}
    assert check_in(profile, START + timedelta(days=4))[1] == 5  # the run goes on


def test_each_activity_type_has_its_own_streak() -> None:
    profile, _ = run(days(0, 1, 2))
    profile, share = check_in(profile, START + timedelta(days=2), "share")
    assert share == 1 and profile.streaks["check_in"].days == 3 and profile.streaks["share"].days == 1


def trailing_run(sequence: list[date]) -> tuple[date, int]:
    """By brute force: the latest day seen, and how many consecutive days up to it had an activity,
    counting only activities that arrived when their day was the newest yet (later ones are late)."""
    timely, newest = set(), None
    for day in sequence:
        if newest is None or day >= newest:
            timely.add(day)
            newest = day
    assert newest is not None
    length = 0
    while newest - timedelta(days=length) in timely:
        length += 1
    return newest, length


@FAST
@given(st.lists(st.integers(min_value=0, max_value=20), min_size=1, max_size=30))
def test_the_streak_is_the_run_of_consecutive_days_up_to_the_newest(offsets: list[int]) -> None:
    sequence = days(*offsets)  # any order: late activities included
    profile, facts = run(sequence)
    newest, length = trailing_run(sequence)
    assert profile.streaks["check_in"].model_dump() == {"day": newest.isoformat(), "days": length}
    for i, day in enumerate(sequence):
        if all(day >= earlier for earlier in sequence[:i]):  # a timely one: the fact is the run it makes
            assert facts[i] == trailing_run(sequence[: i + 1])[1]
        assert 1 <= facts[i] <= len(set(sequence[: i + 1]))


@FAST
@given(st.lists(st.integers(min_value=0, max_value=20), min_size=1, max_size=30), st.integers(0, 20))
def test_late_activities_never_change_a_newer_streak(offsets: list[int], late: int) -> None:
    sequence = days(*offsets)
    profile, _ = run(sequence)
    newest = max(sequence)
    older = START + timedelta(days=late)
    if older < newest:
        after, _ = check_in(profile, older)
        assert after.streaks == profile.streaks
