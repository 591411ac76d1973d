"""Growth tiers (rules/tiers.py): the rolling-window metric, upgrades (never down), progress, pruning."""

from __future__ import annotations

from datetime import UTC, date, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from loyalty.member import Profile
from loyalty.program import Program, Tiers
from loyalty.rules import tiers
from tests.support import program

DEMO = Program.model_validate(program("demo"))
assert DEMO.tiers is not None
SPEND: Tiers = DEMO.tiers  # spend over 6 months: star 0, gold 100000, diamond 500000
ORDERS = SPEND.model_copy(update={"metric": "orders", "window_months": 3})
FAST = settings(max_examples=200, deadline=None, derandomize=True)


def member(**kw: object) -> Profile:
    return Profile(program_id="p", member_id="m", enrolled_at=datetime(2025, 1, 1, tzinfo=UTC), **kw)


def ids(levels: list) -> list[str]:
    return [lvl.id for lvl in levels]


# --- the rolling window ---------------------------------------------------------------------------


def test_the_spend_window_sums_the_last_n_months_across_a_year_end() -> None:
    spend = {"2025-08": 1, "2025-09": 10, "2025-12": 100, "2026-01": 1000, "2026-02": 10000}
    assert tiers.metric(SPEND, member(spend_by_month=spend), date(2026, 2, 10)) == 11110  # Sep..Feb


def test_the_window_includes_the_current_month() -> None:
    assert tiers.metric(SPEND, member(spend_by_month={"2026-02": 7}), date(2026, 2, 1)) == 7


def test_the_window_ignores_months_after_today() -> None:
    assert tiers.metric(SPEND, member(spend_by_month={"2026-03": 7}), date(2026, 2, 28)) == 0


def test_the_orders_window_counts_orders_not_spend() -> None:
    profile = member(spend_by_month={"2026-01": 99999}, orders_by_month={"2025-11": 4, "2025-12": 2, "2026-01": 1})
    assert tiers.metric(ORDERS, profile, date(2026, 1, 20)) == 7  # Nov..Jan


def test_the_orders_window_drops_the_month_that_left_it() -> None:
    profile = member(orders_by_month={"2025-10": 5, "2025-11": 4, "2025-12": 2, "2026-01": 1})
    assert tiers.metric(ORDERS, profile, date(2026, 1, 1)) == 7  # October left the 3-month window


def test_an_empty_history_is_0() -> None:
    assert tiers.metric(SPEND, member(), date(2026, 1, 1)) == 0


# --- level_for and upgrades -----------------------------------------------------------------------


def test_the_level_for_a_value_is_the_highest_threshold_reached() -> None:
    assert tiers.level_for(SPEND, 0).id == "star"
    assert tiers.level_for(SPEND, 99999).id == "star"
    assert tiers.level_for(SPEND, 100000).id == "gold"
    assert tiers.level_for(SPEND, 10**12).id == "diamond"


def test_reaching_a_threshold_upgrades_at_once() -> None:
    assert ids(tiers.upgrades(SPEND, "star", 100000)) == ["gold"]


def test_an_upgrade_past_several_levels_returns_every_level_crossed() -> None:
    assert ids(tiers.upgrades(SPEND, "star", 500000)) == ["gold", "diamond"]


def test_an_upgrade_from_the_middle_returns_only_the_levels_above() -> None:
    assert ids(tiers.upgrades(SPEND, "gold", 600000)) == ["diamond"]


def test_staying_under_the_next_threshold_changes_nothing() -> None:
    assert tiers.upgrades(SPEND, "gold", 499999) == []


def test_a_low_value_never_downgrades() -> None:
    assert tiers.upgrades(SPEND, "diamond", 0) == []
    assert tiers.upgrades(SPEND, "gold", 0) == []


def test_a_member_without_a_tier_counts_from_the_first_level() -> None:
    assert ids(tiers.upgrades(SPEND, None, 100000)) == ["gold"]


@FAST
@given(st.sampled_from(["star", "gold", "diamond"]), st.integers(0, 10**7))
def test_upgrades_only_go_up_and_end_at_the_level_reached(current: str, value: int) -> None:
    crossed = tiers.upgrades(SPEND, current, value)
    order = ids(SPEND.levels)
    assert all(order.index(lvl.id) > order.index(current) for lvl in crossed)
    if crossed:
        assert crossed[-1] == tiers.level_for(SPEND, value)
        assert ids(crossed) == order[order.index(current) + 1 : order.index(crossed[-1].id) + 1]


# --- progress -------------------------------------------------------------------------------------


def test_progress_names_the_next_tier_and_what_is_needed() -> None:
    assert tiers.progress(SPEND, "star", 30000) == {
        "metric": "spend",
        "value": 30000,
        "next_tier": "gold",
        "needed": 70000,
    }


def test_progress_needed_is_never_negative() -> None:
    # Past the next threshold but not yet upgraded (the upgrade comes with the next write).
    assert tiers.progress(SPEND, "star", 200000)["needed"] == 0


def test_progress_at_the_top_tier_has_no_next_tier() -> None:
    assert tiers.progress(SPEND, "diamond", 9) == {"metric": "spend", "value": 9, "next_tier": None, "needed": 0}


def test_progress_uses_the_tier_metric() -> None:
    assert tiers.progress(ORDERS, "star", 3)["metric"] == "orders"


# --- pruning --------------------------------------------------------------------------------------


def test_prune_keeps_only_months_a_window_can_still_reach() -> None:
    kept = tiers.prune_months({"2024-01": 5, "2025-01": 6, "2025-02": 7, "2026-01": 8}, date(2026, 1, 15), 12)
    assert kept == {"2025-02": 7, "2026-01": 8}


def test_prune_drops_empty_months() -> None:
    assert tiers.prune_months({"2026-01": 0, "2026-02": 3}, date(2026, 2, 1), 6) == {"2026-02": 3}


def test_pruning_to_the_window_keeps_the_metric() -> None:
    spend = {"2024-12": 9, "2025-08": 1, "2025-09": 10, "2025-12": 100, "2026-02": 1000}
    today = date(2026, 2, 10)
    pruned = tiers.prune_months(spend, today, SPEND.window_months)
    assert tiers.metric(SPEND, member(spend_by_month=pruned), today) == tiers.metric(
        SPEND, member(spend_by_month=spend), today
    )
