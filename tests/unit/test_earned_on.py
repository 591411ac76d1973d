"""Change.earned_on (rules/posting.py): points count as earned on the day of the event they are for, so a
back-dated event's points expire as if posted on time, and those whose expiry has passed lapse in the
same write."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from loyalty.member import Profile
from loyalty.program import Program
from loyalty.rules.posting import Change
from tests.support import program

NOW = datetime(2026, 12, 6, 4, tzinfo=UTC)  # 2026-12-06 12:00 in Shanghai


def start() -> Change:
    profile = Profile(program_id="demo", member_id="m1", enrolled_at=NOW - timedelta(days=900))
    return Change.start(Program.model_validate(program("demo")), profile, NOW)


def test_points_count_from_the_day_they_were_earned() -> None:
    change = start()
    change.earned_on = date(2026, 11, 8)
    change.credit("earn", 12350, NOW, "order:cc-d1")
    assert change.profile.buckets == {"2027-11-30": 12350}


def test_without_earned_on_points_count_from_today() -> None:
    change = start()
    change.credit("earn", 10, NOW, "order:o1")
    assert change.profile.buckets == {"2027-12-31": 10}


def test_points_already_past_their_expiry_lapse_in_the_same_write() -> None:
    change = start()
    change.earned_on = date(2025, 11, 15)  # would expire 2026-11-30, before today
    change.credit("earn", 300, NOW, "order:o-old")
    assert change.profile.buckets == {} and change.balance == 0 and change.profile.lifetime_earned == 300
    assert [(e.type, e.points, e.balance_after, e.ref) for e in change.entries] == [
        ("earn", 300, 300, "order:o-old"),
        ("expire", -300, 0, "expiry:2026-11-30"),
    ]


def test_a_grants_own_expiry_counts_from_the_same_day() -> None:
    change = start()
    change.earned_on = date(2026, 11, 20)
    change.credit("bonus", 5, NOW, "order:o1", "campaign:c", lasts_days=30)
    assert change.profile.buckets == {"2026-12-20": 5}
    change.earned_on = date(2026, 10, 1)
    change.credit("bonus", 7, NOW, "order:o2", "campaign:c", lasts_days=30)  # 2026-10-31: lapsed
    assert change.profile.buckets == {"2026-12-20": 5} and change.entries[-1].points == -7


def test_a_bucket_brought_with_its_own_expiry_is_left_to_its_caller() -> None:
    change = start()  # imports expire what they bring already lapsed themselves, with their own reason
    change.credit("adjust", 4, NOW, "import:i1", "import", expires_on="2026-01-31")
    assert change.profile.buckets == {"2026-01-31": 4}
