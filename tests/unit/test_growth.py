"""Growth value (rules/growth.py): what an order and an activity are worth, the window, the metric,
its refund taken back in proportion, upgrades on activities, and the checks at PUT."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyalty.errors import ProgramInvalid
from loyalty.member import Profile
from loyalty.program import Program
from loyalty.rules import earning, growth, tiers
from loyalty.rules.posting import Change
from loyalty.usecases.programs import validate
from tests.support import program

DOC = program("growth")
GROWTH = Program.model_validate(DOC)  # 1 per 1.00; check_in 1, share 2, review 10; v2 at 1000, v3 at 5000
assert GROWTH.tiers is not None
SPEND = Program.model_validate(program("demo"))  # spend tiers, no growth section
NOW = datetime(2026, 3, 10, 4, tzinfo=UTC)  # 12:00 in Shanghai
FAST = settings(max_examples=200, deadline=None, derandomize=True)


def member(**kw: Any) -> Profile:
    return Profile(program_id="p", member_id="m", enrolled_at=datetime(2025, 1, 1, tzinfo=UTC), tier_id="v1", **kw)


def change(profile: Profile | None = None, prog: Program = GROWTH) -> Change:
    return Change.start(prog, profile or member(), NOW)


# --- what an order and an activity are worth ---------------------------------------------------------


@pytest.mark.parametrize(("amount", "expected"), [(0, 0), (99, 0), (100, 1), (1999, 19), (123456, 1234)])
def test_an_order_gives_one_growth_per_whole_unit(amount: int, expected: int) -> None:
    assert growth.growth_of_order(GROWTH, amount) == expected


def test_no_growth_without_a_growth_section_or_without_tiers() -> None:
    assert growth.growth_of_order(SPEND, 100000) == 0
    assert growth.growth_of_activity(SPEND, "check_in") == 0
    bare = Program.model_validate({"name": "Bare", "currency": "EUR", "points": program("demo")["points"]})
    assert growth.growth_of_order(bare, 100000) == 0


def test_an_activity_gives_its_types_growth_and_other_types_none() -> None:
    assert [growth.growth_of_activity(GROWTH, t) for t in ("check_in", "share", "review")] == [1, 2, 10]
    doc = copy.deepcopy(DOC)
    doc["points"]["activities"]["survey"] = {"points": 50}
    assert growth.growth_of_activity(Program.model_validate(doc), "survey") == 0  # points only


# --- adding, taking back, the window -----------------------------------------------------------------


def test_growth_adds_to_its_month_and_counts_on_the_change() -> None:
    c = change(member(growth_by_month={"2026-03": 5}))
    growth.add_growth(c, 7, "2026-03")
    growth.add_growth(c, 3, "2026-02")
    growth.add_growth(c, 0, "2026-01")  # nothing: no empty month either
    assert c.profile.growth_by_month == {"2026-03": 12, "2026-02": 3}
    assert c.growth == 10


def test_months_no_window_reaches_are_pruned_and_not_counted() -> None:
    c = change(member(growth_by_month={"2024-01": 50, "2026-01": 4}))
    growth.add_growth(c, 9, "2024-06")  # a late-synced order from two years ago
    assert c.profile.growth_by_month == {"2026-01": 4}
    assert c.growth == 0


def test_taking_back_never_goes_below_zero_in_a_month() -> None:
    c = change(member(growth_by_month={"2026-02": 5, "2026-03": 100}))
    assert growth.take_growth(c, 8, "2026-02") == 5
    assert growth.take_growth(c, 8, "2025-11") == 0  # a month already gone
    assert growth.take_growth(c, -3, "2026-03") == 0
    assert c.profile.growth_by_month == {"2026-02": 0, "2026-03": 100}


def test_the_metric_and_the_window_sum_the_tier_window() -> None:
    profile = member(growth_by_month={"2025-03": 1000, "2025-04": 10, "2026-03": 1}, spend_by_month={"2026-03": 9})
    today = date(2026, 3, 10)
    assert tiers.metric(GROWTH.tiers, profile, today) == 11  # Apr 2025 .. Mar 2026
    assert growth.window_growth(GROWTH, profile, today) == 11
    bare = Program.model_validate({"name": "Bare", "currency": "EUR", "points": program("demo")["points"]})
    assert growth.window_growth(bare, profile, today) == 11  # 12 months without tiers


def test_progress_shows_the_growth_metric() -> None:
    assert tiers.progress(GROWTH.tiers, "v1", 400) == {
        "metric": "growth",
        "value": 400,
        "next_tier": "v2",
        "needed": 600,
    }


@FAST
@given(
    order_growth=st.integers(0, 10**6),
    order_minor=st.integers(1, 10**7),
    cuts=st.lists(st.integers(1, 1000), min_size=1, max_size=6),
)
def test_partial_refunds_take_back_in_proportion_and_all_of_it_in_full(
    order_growth: int, order_minor: int, cuts: list[int]
) -> None:
    """Cumulative, as points: after any refunds the order keeps floor-proportional growth, never a
    negative step, and a full refund takes back exactly what it gave."""
    total = sum(cuts)
    amounts = [order_minor * c // total for c in cuts]
    amounts[-1] += order_minor - sum(amounts)  # the refunds add up to the whole order
    refunded = reversed_ = 0
    for amount in amounts:
        refunded += amount
        step = earning.reversal(order_growth, order_minor, refunded, reversed_)
        assert step >= 0
        reversed_ += step
        assert reversed_ == order_growth * refunded // order_minor
    assert reversed_ == order_growth


# --- purchases, activities and the upgrade they may give --------------------------------------------


def test_a_purchase_records_its_growth_in_its_month() -> None:
    c = change()
    earning.record_purchase(c, 123456, NOW, "2026-03")
    assert c.profile.growth_by_month == {"2026-03": 1234} and c.growth == 1234


def test_an_activity_records_its_growth_in_its_days_month() -> None:
    c = change()
    earning.record_activity(c, "review", NOW, "2026-03-10")
    earning.record_activity(c, "share", NOW, "2026-03-10")
    assert c.profile.growth_by_month == {"2026-03": 12} and c.growth == 12


def test_an_activity_upgrades_at_once_on_metric_growth() -> None:
    c = change(member(growth_by_month={"2026-03": 995}))
    earning.record_activity(c, "review", NOW, "2026-03-10")
    reached = growth.upgrade_after_activity(c, lambda level: tiers.upgrade_source(level.id, "activity:a1"))
    assert [lvl.id for lvl in reached] == ["v2"] and c.profile.tier_id == "v2"
    assert [(e.points, e.ref) for e in c.entries] == [(100, "upgrade:v2:activity:a1")]  # the upgrade gift
    assert [coupon.template_id for coupon in c.coupons] == ["off-20"]


def test_an_activity_never_moves_a_spend_tier() -> None:
    profile = Profile(
        program_id="p",
        member_id="m",
        enrolled_at=datetime(2025, 1, 1, tzinfo=UTC),
        tier_id="star",
        spend_by_month={"2026-03": 10**6},  # over diamond, say after the thresholds were lowered
    )
    c = change(profile, SPEND)
    assert growth.upgrade_after_activity(c, lambda level: level.id) == [] and c.profile.tier_id == "star"


def test_a_refund_that_takes_growth_under_the_threshold_undoes_the_orders_upgrade() -> None:
    c = change(member(growth_by_month={"2026-03": 300}))
    earning.record_purchase(c, 80000, NOW, "2026-03")  # +800: 1100, past v2
    from_tier = "v1"
    reached = tiers.upgrade(c, lambda level: tiers.upgrade_source(level.id, "o1"))
    assert [lvl.id for lvl in reached] == ["v2"]
    record = tiers.order_upgrade(c, from_tier, reached, "o1")
    bought = c.profile

    refund = Change.start(GROWTH, bought, NOW)
    before = tiers.metric(GROWTH.tiers, refund.profile, refund.today)
    owed = earning.reversal(800, 80000, 20000, 0)  # a quarter back: 200 growth
    assert growth.take_growth(refund, owed, "2026-03") == 200
    undone = tiers.undo_upgrade(refund, record, {}, before, "refund:r1", NOW)
    assert undone is not None and refund.profile.tier_id == "v1"  # 900 < 1000
    assert undone.points_reversed == 100  # the gift's points


# --- the checks at PUT ---------------------------------------------------------------------------------


def problems_of(doc: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ProgramInvalid) as caught:
        validate(doc)
    return {d["field"]: d["message"] for d in caught.value.details}


def test_metric_growth_needs_a_growth_section() -> None:
    doc = copy.deepcopy(DOC)
    del doc["tiers"]["growth"]
    assert list(problems_of(doc)) == ["tiers.growth"]


def test_growth_for_an_activity_type_the_program_does_not_know_is_refused() -> None:
    doc = copy.deepcopy(DOC)
    doc["tiers"]["growth"]["activities"]["like"] = 1
    found = problems_of(doc)
    assert (
        list(found) == ["tiers.growth.activities.like"] and "points.activities" in found["tiers.growth.activities.like"]
    )


@pytest.mark.parametrize(
    ("path", "value"), [("per_unit_minor", 0), ("per_unit_minor", "one"), ("activities", {"check_in": -1})]
)
def test_the_growth_section_is_checked_field_by_field(path: str, value: Any) -> None:
    doc = copy.deepcopy(DOC)
    doc["tiers"]["growth"][path] = value
    assert any(f.startswith(f"tiers.growth.{path}") for f in problems_of(doc))


def test_a_growth_section_next_to_another_metric_is_fine() -> None:
    doc = program("demo")
    doc["tiers"]["growth"] = {"per_unit_minor": 100, "activities": {"check_in": 1}}
    assert validate(doc).tiers.growth.per_unit_minor == 100
