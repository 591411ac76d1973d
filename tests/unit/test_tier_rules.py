"""Growth tiers: rolling windows, upgrades (never down on a purchase), progress; the calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from loyalty import clock
from loyalty.member import Profile
from loyalty.program import Program
from loyalty.rules import tiers
from tests.support import program

TIERS = Program.model_validate(program("demo")).tiers
assert TIERS is not None


def member(**kw: object) -> Profile:
    return Profile(program_id="p", member_id="m", enrolled_at=datetime(2025, 1, 1, tzinfo=UTC), **kw)


def test_window_sums_the_last_n_months_across_a_year_end() -> None:
    spend = {"2025-08": 1, "2025-09": 10, "2025-12": 100, "2026-02": 1000}
    assert tiers.metric(TIERS, member(spend_by_month=spend), date(2026, 2, 10)) == 1110  # Sep..Feb


def test_upgrades_cross_every_level_and_never_go_down() -> None:
    assert [lvl.id for lvl in tiers.upgrades(TIERS, "star", 600000)] == ["gold", "diamond"]
    assert tiers.upgrades(TIERS, "diamond", 0) == []
    assert [lvl.id for lvl in tiers.upgrades(TIERS, "gold", 500000)] == ["diamond"]


def test_progress_to_the_next_tier() -> None:
    assert tiers.progress(TIERS, "star", 30000) == {
        "metric": "spend",
        "value": 30000,
        "next_tier": "gold",
        "needed": 70000,
    }
    assert tiers.progress(TIERS, "diamond", 9) == {"metric": "spend", "value": 9, "next_tier": None, "needed": 0}


def test_prune_keeps_only_reachable_months() -> None:
    kept = tiers.prune_months({"2024-01": 5, "2026-01": 7, "2026-02": 0}, date(2026, 2, 1), 13)
    assert kept == {"2026-01": 7}


def test_calendar() -> None:
    assert clock.add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert clock.add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert clock.add_months(date(2026, 3, 31), -1) == date(2026, 2, 28)
    assert clock.months_back(date(2026, 1, 9), 3) == ["2026-01", "2025-12", "2025-11"]
    late = datetime(2026, 6, 30, 20, tzinfo=UTC)
    assert clock.local_date(late, ZoneInfo("Asia/Shanghai")) == date(2026, 7, 1)
