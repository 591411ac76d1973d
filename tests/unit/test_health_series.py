"""The per-day health series (rules/health.series): each day's counters, and the running totals as of
its end worked back from today's totals through the days after it."""

from __future__ import annotations

from datetime import date

from loyalty.rules import health


def test_the_totals_of_each_day_are_todays_less_what_the_later_days_added() -> None:
    by_day = {
        "2026-11-01": {"new_members": 2, "points_earned": 100},
        "2026-11-03": {"new_members": 1, "points_earned": 50, "points_redeemed": 30},
        "2026-11-04": {"members_erased": 1, "points_adjusted": -20, "points_expired": 5},
    }
    total = {"members": 2, "points": 95}  # 100 + 50 - 30 - 20 - 5
    rows = health.series(by_day, total, date(2026, 10, 31), date(2026, 11, 3))
    assert [r["day"] for r in rows] == ["2026-10-31", "2026-11-01", "2026-11-02", "2026-11-03"]
    assert [(r["members"], r["points_liability"]) for r in rows] == [(0, 0), (2, 100), (2, 100), (3, 120)]
    assert rows[2]["new_members"] == 0 and rows[3]["points_redeemed"] == 30
    assert set(rows[0]) == {"day", "members", "points_liability", "discount_minor", *health.DAY_COUNTERS}


def test_a_range_ending_today_needs_no_later_days() -> None:
    rows = health.series(
        {"2026-11-04": {"new_members": 1}}, {"members": 1, "points": 0}, date(2026, 11, 4), date(2026, 11, 4)
    )
    assert [(r["members"], r["new_members"]) for r in rows] == [(1, 1)]


def test_each_day_shows_its_money_off_by_source() -> None:
    by_day = {"2026-11-02": {"discount:member_price": 800, "discount:points": 500}}
    rows = health.series(by_day, {}, date(2026, 11, 1), date(2026, 11, 2))
    assert [r["discount_minor"] for r in rows] == [
        {"member_price": 0, "campaigns": 0, "coupons": 0, "points": 0},
        {"member_price": 800, "campaigns": 0, "coupons": 0, "points": 500},
    ]


def test_points_that_came_back_count_in_the_liability_of_their_day() -> None:
    by_day = {
        "2026-11-02": {"points_earned": 100, "points_redeemed": 60},
        "2026-11-03": {"points_restored": 60},  # the redemption cancelled, or the order refunded
    }
    rows = health.series(by_day, {"points": 100}, date(2026, 11, 1), date(2026, 11, 3))
    assert [r["points_liability"] for r in rows] == [0, 40, 100]
    assert rows[2]["points_restored"] == 60
