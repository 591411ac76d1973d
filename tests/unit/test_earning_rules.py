"""How much a purchase, a refund or an activity is worth."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from loyalty.errors import LimitReached, ValidationFailed
from loyalty.member import Profile
from loyalty.program import Program
from loyalty.rules import earning
from tests.support import program

DEMO = Program.model_validate(program("demo"))
AT = datetime(2026, 3, 8, 4, tzinfo=UTC)  # the 8th: member day in the demo


def member(**kw: object) -> Profile:
    return Profile(program_id="p", member_id="m", enrolled_at=AT - timedelta(days=1), **kw)


def test_points_round_down_once_at_the_end() -> None:
    assert earning.purchase_points(DEMO, 1999, Decimal(1)) == (19, 19)
    assert earning.purchase_points(DEMO, 1999, Decimal("1.2")) == (19, 23)
    assert earning.purchase_points(DEMO, 10000, Decimal("1.2")) == (100, 120)  # exact, no float error


def test_min_order_earns_nothing() -> None:
    doc = program("demo")
    doc["points"]["earn"]["min_order_minor"] = 5000
    assert earning.purchase_points(Program.model_validate(doc), 4999, Decimal(1)) == (0, 0)


def test_multipliers_found_and_combined_by_stacking() -> None:
    gold = member(
        tier_id="gold",
        win_back_until=AT + timedelta(days=1),
        birthday="1990-03-20",
        paid_cards={"plus-quarter": AT + timedelta(days=30)},
    )
    found = earning.multipliers(DEMO, gold, AT, date(2026, 3, 8))
    assert found == {"tier:gold": Decimal("1.2"), "member-day": 2, "win_back": 2, "card:plus-quarter": Decimal("1.5")}
    assert earning.combined(DEMO, found) == 2
    multiply = Program.model_validate(
        program("demo") | {"points": {**program("demo")["points"], "stacking": "multiply"}}
    )
    assert earning.combined(multiply, found) == Decimal("1.2") * 2 * 2 * Decimal("1.5")


def test_scene_cards_apply_to_their_scene_only() -> None:
    paid = Program.model_validate(program("paid-card"))
    holder = member(paid_cards={"delivery-month": AT + timedelta(days=5)})
    assert earning.multipliers(paid, holder, AT, AT.date(), scene="delivery") == {"card:delivery-month": 2}
    assert earning.multipliers(paid, holder, AT, AT.date(), scene="dine-in") == {}


def test_weekday_multiplier() -> None:
    points_only = Program.model_validate(program("points-only"))
    assert earning.multipliers(points_only, member(), AT, date(2026, 3, 10)) == {"double-tuesday": 2}
    assert earning.multipliers(points_only, member(), AT, date(2026, 3, 11)) == {}


def test_first_order_bonus_inside_the_window_and_only_once() -> None:
    assert earning.first_order_bonus(DEMO, member(), AT) == 200
    assert earning.first_order_bonus(DEMO, member(), AT + timedelta(days=7)) == 0
    assert earning.first_order_bonus(DEMO, member(orders_total=1), AT) == 0


def test_reversal_is_cumulative_and_rounds_like_one_refund() -> None:
    total, order_points = 100000, 1234
    done = 0
    for refunded_after in (33333, 66666, 100000):
        done += earning.reversal(order_points, total, refunded_after, done)
    assert done == earning.reversal(order_points, total, total, 0) == order_points


def test_activity_caps_per_day() -> None:
    day = date(2026, 3, 8)
    assert earning.activity_points(DEMO, member(), "check_in", day) == 5
    capped = member(activity_day="2026-03-08", activity_counts={"check_in": 1})
    with pytest.raises(LimitReached):
        earning.activity_points(DEMO, capped, "check_in", day)
    assert earning.activity_points(DEMO, capped, "check_in", date(2026, 3, 9)) == 5
    with pytest.raises(ValidationFailed) as caught:
        earning.activity_points(DEMO, member(), "dance", day)
    assert caught.value.details[0]["field"] == "type"
