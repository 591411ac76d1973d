"""How many points a purchase, a refund or an activity is worth (rules/earning.py)."""

from __future__ import annotations

import copy
import math
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyalty.errors import LimitReached, ValidationFailed
from loyalty.member import Card, Profile
from loyalty.program import Program
from loyalty.rules import earning
from tests.support import program

FAST = settings(max_examples=200, deadline=None, derandomize=True)
DEMO_DOC = program("demo")
DEMO = Program.model_validate(DEMO_DOC)  # 1 point per 100 minor; member day on the 8th (x2); stacking max
AT = datetime(2026, 3, 10, 4, tzinfo=UTC)  # a Tuesday, not a member day
DAY = date(2026, 3, 10)


def with_(**changes: Any) -> Program:
    """The demo program with top-level sections replaced or merged (dicts merge one level deep)."""
    doc = copy.deepcopy(DEMO_DOC)
    for key, value in changes.items():
        doc[key] = doc[key] | value if isinstance(value, dict) and isinstance(doc.get(key), dict) else value
    return Program.model_validate(doc)


def earn_rule(**rule: int) -> Program:
    return with_(points=DEMO_DOC["points"] | {"earn": DEMO_DOC["points"]["earn"] | rule})


def card(plan_id: str, until: datetime) -> Card:
    return Card(plan_id=plan_id, active_from=AT - timedelta(days=60), active_until=until, months=3)


def member(**kw: Any) -> Profile:
    return Profile(program_id="p", member_id="m", enrolled_at=AT - timedelta(days=1), **kw)


# --- purchase points ------------------------------------------------------------------------------


def test_points_round_down() -> None:
    assert earning.purchase_points(DEMO, 1999, Decimal(1)) == (19, 19)


def test_points_round_down_once_after_the_multiplier() -> None:
    # floor(1999 * 1.2 / 100) = floor(23.988) = 23, not floor(19) * 1.2 = 22
    assert earning.purchase_points(DEMO, 1999, Decimal("1.2")) == (19, 23)


def test_a_decimal_factor_has_no_float_error() -> None:
    assert earning.purchase_points(DEMO, 10000, Decimal("1.2")) == (100, 120)
    assert earning.purchase_points(DEMO, 10000, Decimal("1.15")) == (100, 115)  # float: 114.99999999999999


def test_a_factor_read_from_the_document_is_exact() -> None:
    doc = copy.deepcopy(DEMO_DOC)
    doc["tiers"]["levels"][1]["earn_multiplier"] = 1.15
    level = Program.model_validate(doc).level("gold")
    assert earning.purchase_points(DEMO, 10000, level.earn_multiplier) == (100, 115)


def test_points_per_unit_scales_the_base() -> None:
    assert earning.purchase_points(earn_rule(points_per_unit=3, unit_minor=1000), 2500, Decimal(1)) == (7, 7)


def test_an_order_below_min_order_earns_nothing() -> None:
    rule = earn_rule(min_order_minor=5000)
    assert earning.purchase_points(rule, 4999, Decimal(2)) == (0, 0)


def test_an_order_at_min_order_earns() -> None:
    assert earning.purchase_points(earn_rule(min_order_minor=5000), 5000, Decimal(1)) == (50, 50)


def exact_floor(amount: int, per: int, unit: int, factor: Decimal) -> int:
    return math.floor(Fraction(amount * per) * Fraction(factor) / unit)


factors = st.decimals(min_value=1, max_value=100, places=3)


@FAST
@given(st.integers(1, 10**12), st.integers(0, 1000), st.sampled_from([1, 10, 50, 100, 250, 1000]), factors)
def test_earned_points_are_the_exact_product_rounded_down_for_decimal_units(
    amount: int, per: int, unit: int, factor: Decimal
) -> None:
    base, earned = earning.purchase_points(earn_rule(points_per_unit=per, unit_minor=unit), amount, factor)
    assert base == amount * per // unit
    assert earned == exact_floor(amount, per, unit, factor)


def test_one_point_per_3_yuan_on_a_triple_points_day_earns_exactly() -> None:
    # 10 yuan at 1 point per 3 yuan, x3: exactly 10 points.
    assert earning.purchase_points(earn_rule(unit_minor=300), 1000, Decimal(3)) == (3, 10)


@settings(FAST)
@given(st.integers(1, 10**4), st.integers(1, 10**4), st.integers(2, 100))
def test_a_whole_number_of_points_is_never_rounded_down_below_itself(per_unit: int, units: int, factor: int) -> None:
    # unit_minor = factor * per_unit, amount = units * per_unit: the exact result is `units` points.
    rule = earn_rule(unit_minor=factor * per_unit)
    assert earning.purchase_points(rule, units * per_unit, Decimal(factor))[1] == units


# --- multipliers ----------------------------------------------------------------------------------

RICH = with_(
    points=DEMO_DOC["points"]
    | {
        "multipliers": [
            {"id": "member-day", "day_of_month": 8, "factor": 2},
            {"id": "saturday", "weekdays": [6], "factor": 1.5},
            {"id": "always-1", "factor": 1},
        ]
    },
    lifecycle=DEMO_DOC["lifecycle"] | {"birthday": {"coupons": [], "earn_multiplier": 3}},
    paid_cards=[
        *DEMO_DOC["paid_cards"],
        {"id": "delivery", "name": "D", "kind": "identity", "price_minor": 1500, "period_months": 1, "cycle_months": 1}
        | {"earn_multiplier": 2.5, "scene": "delivery"},
    ],
)


def found(profile: Profile, at: datetime = AT, day: date = DAY, scene: str | None = None) -> dict[str, Decimal]:
    return earning.multipliers(RICH, profile, at, day, scene=scene)


def test_no_multiplier_applies_to_a_plain_member_on_a_plain_day() -> None:
    assert found(member()) == {}


def test_the_tier_multiplier_applies() -> None:
    assert found(member(tier_id="gold")) == {"tier:gold": Decimal("1.2")}


def test_a_tier_with_factor_1_is_left_out() -> None:
    assert found(member(tier_id="star")) == {}


def test_the_member_day_applies_on_its_day_of_month_only() -> None:
    assert found(member(), day=date(2026, 3, 8)) == {"member-day": 2}
    assert found(member(), day=date(2026, 4, 8)) == {"member-day": 2}
    assert found(member(), day=date(2026, 3, 9)) == {}


def test_a_weekday_multiplier_applies_on_its_weekdays_only() -> None:
    assert found(member(), day=date(2026, 3, 14)) == {"saturday": Decimal("1.5")}
    assert found(member(), day=date(2026, 3, 13)) == {}  # Friday
    assert found(member(), day=date(2026, 3, 15)) == {}  # Sunday


def test_the_win_back_multiplier_applies_until_its_window_ends() -> None:
    assert found(member(win_back_until=AT)) == {"win_back": 2}
    assert found(member(win_back_until=AT + timedelta(days=3))) == {"win_back": 2}
    assert found(member(win_back_until=AT - timedelta(seconds=1))) == {}


@pytest.mark.parametrize("birthday", ["1990-03-20", "03-02"])
def test_the_birthday_multiplier_applies_in_the_birthday_month(birthday: str) -> None:
    assert found(member(birthday=birthday)) == {"birthday": 3}


def test_the_birthday_multiplier_does_not_apply_in_other_months() -> None:
    assert found(member(birthday="1990-04-10")) == {}
    assert found(member(birthday="1990-03-10"), day=date(2026, 4, 10)) == {}


def test_an_active_paid_card_multiplier_applies() -> None:
    assert found(member(paid_cards={"plus-quarter": card("plus-quarter", AT + timedelta(days=30))})) == {
        "card:plus-quarter": Decimal("1.5")
    }


def test_an_ended_paid_card_gives_nothing() -> None:
    assert found(member(paid_cards={"plus-quarter": card("plus-quarter", AT)})) == {}


def test_a_scene_card_applies_to_its_scene_only() -> None:
    holder = member(paid_cards={"delivery": card("delivery", AT + timedelta(days=5))})
    assert found(holder, scene="delivery") == {"card:delivery": Decimal("2.5")}
    assert found(holder, scene="dine-in") == {}
    assert found(holder) == {}


def test_a_card_not_held_gives_nothing() -> None:
    assert found(member(paid_cards={"someone-elses": card("someone-elses", AT + timedelta(days=5))})) == {}


EVERYTHING = member(
    tier_id="gold",
    win_back_until=AT + timedelta(days=1),
    birthday="03-20",
    paid_cards={"plus-quarter": card("plus-quarter", AT + timedelta(days=30))},
)


def test_every_applicable_multiplier_is_found_by_source() -> None:
    assert found(EVERYTHING, day=date(2026, 3, 8)) == {
        "tier:gold": Decimal("1.2"),
        "member-day": 2,
        "win_back": 2,
        "birthday": 3,
        "card:plus-quarter": Decimal("1.5"),
    }


def test_stacking_max_takes_the_largest_factor() -> None:
    assert earning.combined(RICH, found(EVERYTHING, day=date(2026, 3, 8))) == 3


def test_stacking_multiply_takes_the_product_exactly() -> None:
    multiply = with_(points=DEMO_DOC["points"] | {"stacking": "multiply"})
    factors = {"tier:gold": Decimal("1.2"), "member-day": Decimal(2), "card:plus-quarter": Decimal("1.5")}
    assert earning.combined(multiply, factors) == Decimal("3.6")
    assert earning.purchase_points(multiply, 10000, earning.combined(multiply, factors)) == (100, 360)


def test_no_multiplier_combines_to_1() -> None:
    assert earning.combined(DEMO, {}) == 1
    assert earning.combined(with_(points=DEMO_DOC["points"] | {"stacking": "multiply"}), {}) == 1


# --- first-order bonus ----------------------------------------------------------------------------

ENROLLED = datetime(2026, 3, 1, 2, tzinfo=UTC)


def newcomer(**kw: Any) -> Profile:
    return Profile(program_id="p", member_id="m", enrolled_at=ENROLLED, **kw)


def test_the_first_order_inside_within_days_earns_the_bonus() -> None:
    assert earning.first_order_bonus(DEMO, newcomer(), ENROLLED, amount_minor=1000) == 200
    assert (
        earning.first_order_bonus(DEMO, newcomer(), ENROLLED + timedelta(days=7, seconds=-1), amount_minor=1000) == 200
    )


def test_the_first_order_after_within_days_earns_no_bonus() -> None:
    assert earning.first_order_bonus(DEMO, newcomer(), ENROLLED + timedelta(days=7), amount_minor=1000) == 0


def test_an_order_paid_before_enrolment_earns_no_bonus() -> None:
    assert earning.first_order_bonus(DEMO, newcomer(), ENROLLED - timedelta(minutes=1), amount_minor=1000) == 0


def test_only_the_first_order_earns_the_bonus() -> None:
    assert (
        earning.first_order_bonus(DEMO, newcomer(orders_total=1), ENROLLED + timedelta(hours=1), amount_minor=1000) == 0
    )


def test_no_first_order_rule_no_bonus() -> None:
    bare = with_(lifecycle={"first_order": None})
    assert earning.first_order_bonus(bare, newcomer(), ENROLLED, amount_minor=1000) == 0


# --- refunds --------------------------------------------------------------------------------------


def test_a_full_refund_reverses_every_point() -> None:
    assert earning.reversal(1234, 100000, 100000, 0) == 1234


def test_a_partial_refund_reverses_in_proportion_rounded_down() -> None:
    assert earning.reversal(1234, 100000, 33333, 0) == 411  # 1234 * 1/3 = 411.3


def test_partial_refunds_add_up_to_one_full_refund() -> None:
    done = 0
    for refunded_after in (33333, 66666, 100000):
        done += earning.reversal(1234, 100000, refunded_after, done)
    assert done == 1234


@st.composite
def refunds(draw: st.DrawFn) -> tuple[int, int, list[int]]:
    order_minor = draw(st.integers(1, 10**9))
    order_points = draw(st.integers(0, 10**7))
    cuts = sorted(draw(st.lists(st.integers(1, order_minor), min_size=1, max_size=8)))
    return order_points, order_minor, cuts  # cumulative refunded amounts after each refund


@FAST
@given(refunds())
def test_cumulative_reversal_equals_one_refund_of_the_same_total(case: tuple[int, int, list[int]]) -> None:
    order_points, order_minor, cuts = case
    done = 0
    for refunded_after in cuts:
        step = earning.reversal(order_points, order_minor, refunded_after, done)
        assert step >= 0
        done += step
    assert done == earning.reversal(order_points, order_minor, cuts[-1], 0)
    assert done <= order_points


def test_reversal_is_never_negative() -> None:
    assert earning.reversal(100, 1000, 100, 50) == 0  # already reversed more than owed


# --- activities -----------------------------------------------------------------------------------


def test_an_activity_earns_its_points() -> None:
    assert earning.activity_points(DEMO, member(), "share", DAY) == 10


def test_an_activity_under_its_daily_cap_earns() -> None:
    twice = member(activity_day=DAY.isoformat(), activity_counts={"share": 2})
    assert earning.activity_points(DEMO, twice, "share", DAY) == 10


def test_an_activity_at_its_daily_cap_is_refused() -> None:
    capped = member(activity_day=DAY.isoformat(), activity_counts={"share": 3})
    with pytest.raises(LimitReached) as caught:
        earning.activity_points(DEMO, capped, "share", DAY)
    assert caught.value.code == "limit_reached"
    assert caught.value.details == [{"field": "type", "limit": 3}]


def test_a_new_day_resets_the_daily_cap() -> None:
    yesterday = member(activity_day="2026-03-09", activity_counts={"check_in": 1})
    assert earning.activity_points(DEMO, yesterday, "check_in", DAY) == 5


def test_caps_are_counted_per_activity_type() -> None:
    checked_in = member(activity_day=DAY.isoformat(), activity_counts={"check_in": 1})
    assert earning.activity_points(DEMO, checked_in, "share", DAY) == 10


def test_an_activity_without_a_cap_is_never_refused() -> None:
    uncapped = with_(points=DEMO_DOC["points"] | {"activities": {"review": {"points": 20}}})
    busy = member(activity_day=DAY.isoformat(), activity_counts={"review": 10**6})
    assert earning.activity_points(uncapped, busy, "review", DAY) == 20


def test_an_unknown_activity_type_is_a_validation_error_naming_type() -> None:
    with pytest.raises(ValidationFailed) as caught:
        earning.activity_points(DEMO, member(), "dance", DAY)
    assert caught.value.code == "validation_error"
    assert [d["field"] for d in caught.value.details] == ["type"]


def test_an_order_of_nothing_paid_earns_no_first_order_bonus() -> None:
    assert earning.first_order_bonus(DEMO, newcomer(), ENROLLED, amount_minor=0) == 0
