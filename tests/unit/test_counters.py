"""Counters (rules/counters.py, rules/counting.py): checked at PUT, counted per program-local period
(a late event in its own), read as `member.counters.<id>` before the event, taken back by refunds."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from loyalty.member import Profile
from loyalty.program import Program, problems
from loyalty.rules import campaigns, conditions, counters, counting, earning, refunds
from loyalty.rules.posting import Change
from tests.support import program

T0 = datetime(2026, 12, 3, 4, tzinfo=UTC)  # noon in Shanghai, Thursday 3 December 2026
ITEMS = [
    {"sku": "t1", "category": "tea", "amount_minor": 2000, "quantity": 2},
    {"sku": "c1", "category": "cake", "amount_minor": 3000, "quantity": 1},
]


def doc(*counter_list: dict[str, Any], campaign_list: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    d = program("demo")
    d["counters"] = list(counter_list)
    d["campaigns"] = campaign_list or []
    return d


def load(*counter_list: dict[str, Any], campaign_list: list[dict[str, Any]] | None = None) -> Program:
    return Program.model_validate(doc(*counter_list, campaign_list=campaign_list))


def member(**kw: Any) -> Profile:
    return Profile(program_id="p", member_id="m", enrolled_at=T0 - timedelta(days=400), **kw)


def buy(p: Program, profile: Profile, at: datetime = T0, now: datetime = T0, amount: int = 5000, items=ITEMS):
    change = Change.start(p, profile, now)
    order = campaigns.order(p, amount, items, earning.multipliers(p, profile, at, at.date()))
    event = campaigns.Event("purchase", at, "order:o1", order=order)
    counted = counting.measure(change, event)
    applied = campaigns.run(change, event)
    counting.add(change, counted)
    return change, counted, applied


def check_in(p: Program, profile: Profile, type_: str = "check_in", at: datetime = T0):
    change = Change.start(p, profile, at)
    event = campaigns.Event("activity", at, "activity:a1", activity={"type": type_, "streak_days": 1})
    counting.add(change, counting.measure(change, event))
    return change


def found(d: dict[str, Any]) -> dict[str, str]:
    """Every problem a PUT would list, by field."""
    try:
        out = problems(Program.model_validate(d))
    except ValidationError as exc:
        out = [{"field": ".".join(map(str, e["loc"])), "message": e["msg"]} for e in exc.errors()]
    return {p["field"]: p["message"] for p in out + conditions.campaign_problems(d)}


# --- checked at PUT ---------------------------------------------------------------------------------


def test_a_sound_counter_and_a_campaign_reading_it_pass() -> None:
    d = doc(
        {"id": "orders_month", "counts": "orders", "period": "month"},
        {"id": "big", "counts": "orders", "period": "lifetime", "when": "order.amount_minor >= 30000"},
        {"id": "tea_units", "counts": "units", "period": "week", "on_items": "i.category == 'tea'"},
        {"id": "checkins", "counts": "activities", "period": "day", "activity_type": "check_in"},
        campaign_list=[
            {
                "id": "fifth",
                "name": "5th order",
                "trigger": "purchase",
                "when": "member.counters.orders_month == 4 && member.counters.big >= 0",
                "effects": [{"points": 100}],
            }
        ],
    )
    assert found(d) == {}


def test_each_problem_of_a_counter_is_named_by_its_field() -> None:
    d = doc(
        {"id": "a", "counts": "visits", "period": "month"},
        {"id": "b", "counts": "orders", "period": "decade"},
        {"id": "c", "counts": "orders", "period": "month", "when": "order.amount >= 1"},
        {"id": "d", "counts": "units", "period": "month", "on_items": "i.price > 1"},
        {"id": "orders-month", "counts": "orders", "period": "month"},
        {"id": "in", "counts": "orders", "period": "month"},
        {"id": "e", "counts": "activities", "period": "day", "when": "campaign.uses_by_member > 1"},
    )
    problems_by_field = found(d)
    assert {"counters.0.counts", "counters.1.period", "counters.4.id", "counters.5.id"} <= set(problems_by_field)
    assert "counters[2].when" in problems_by_field and "order.amount" in problems_by_field["counters[2].when"]
    assert "counters[3].on_items" in problems_by_field
    assert "counters[6].when" in problems_by_field  # a counter reads the event, not a campaign's uses


def test_ids_unique_at_most_20_and_filters_that_fit_what_is_counted() -> None:
    dup = doc({"id": "a", "counts": "orders", "period": "month"}, {"id": "a", "counts": "units", "period": "day"})
    assert found(dup) == {"counters[1].id": "duplicate id 'a'"}
    many = doc(*({"id": f"c{k}", "counts": "orders", "period": "month"} for k in range(21)))
    assert "counters" in found(many)
    mixed = doc(
        {"id": "a", "counts": "activities", "period": "month", "on_items": "i.category == 'tea'"},
        {"id": "b", "counts": "orders", "period": "month", "activity_type": "check_in"},
        {"id": "c", "counts": "activities", "period": "month", "activity_type": "dance"},
    )
    assert set(found(mixed)) == {"counters[0].on_items", "counters[1].activity_type", "counters[2].activity_type"}


def test_a_campaign_reading_an_unknown_counter_is_a_problem_of_its_when() -> None:
    campaign = {"id": "x", "name": "x", "trigger": "purchase", "effects": [{"points": 1}]}
    d = doc(
        {"id": "orders_month", "counts": "orders", "period": "month"},
        campaign_list=[{**campaign, "when": "member.counters.orders_week == 1"}],
    )
    assert "orders_week" in found(d)["campaigns[0].when"]
    no_counters = doc(campaign_list=[{**campaign, "when": "member.counters.orders_month == 1"}])
    assert "member.counters" in found(no_counters)["campaigns[0].when"]
    checkout = doc(
        {"id": "orders_month", "counts": "orders", "period": "month"},
        campaign_list=[
            {
                **campaign,
                "trigger": "checkout",
                "when": "member.counters.orders_month > 2",
                "effects": [{"percent_off": 5}],
            }
        ],
    )
    assert found(checkout) == {}


NESTED = "order.items.exists(a, order.items.exists(b, a.sku == b.sku))"  # ~250,000 steps on 100 lines


def test_counters_count_toward_the_bound_of_one_events_work() -> None:
    heavy = {"counts": "orders", "period": "month", "when": NESTED}
    alone = doc(*({"id": f"c{k}", **heavy} for k in range(3)))
    assert set(found(alone)) == {"counters[2].when"}  # the counters alone pass it: the one that does is named
    assert "counters of a purchase" in found(alone)["counters[2].when"]
    campaign = {"id": "x", "name": "x", "trigger": "purchase", "when": NESTED, "effects": [{"points": 1}]}
    shared = doc(*({"id": f"c{k}", **heavy} for k in range(2)), campaign_list=[campaign])
    assert set(found(shared)) == {"campaigns[0].when"}  # with the counters before it
    activities = doc(
        *({"id": f"c{k}", **heavy} for k in range(2)),
        campaign_list=[{**campaign, "trigger": "activity", "when": "true"}],
    )
    assert found(activities) == {}  # another event's work


# --- counting ---------------------------------------------------------------------------------------


def test_a_purchase_counts_orders_spend_and_units_in_its_period() -> None:
    p = load(
        {"id": "orders_month", "counts": "orders", "period": "month"},
        {"id": "spend_year", "counts": "spend_minor", "period": "year"},
        {"id": "tea_units", "counts": "units", "period": "week", "on_items": "i.category == 'tea'"},
        {"id": "tea_spend", "counts": "spend_minor", "period": "lifetime", "on_items": "i.category == 'tea'"},
        {"id": "big", "counts": "orders", "period": "day", "when": "order.amount_minor >= 30000"},
    )
    change, counted, _ = buy(p, member())
    assert change.profile.counters == {
        "orders_month": {"2026-12": 1},
        "spend_year": {"2026": 5000},
        "tea_units": {"2026-W49": 2},
        "tea_spend": {"lifetime": 2000},
    }
    assert counted["tea_units"].lines == {0: 2}
    change, _, _ = buy(p, change.profile, amount=30000)
    assert change.profile.counters["orders_month"] == {"2026-12": 2}
    assert change.profile.counters["big"] == {"2026-12-03": 1}
    assert counters.view(p, change.profile, date(2026, 12, 3)) == {
        "orders_month": 2,
        "spend_year": 35000,
        "tea_units": 4,
        "tea_spend": 4000,
        "big": 1,
    }
    assert counters.view(p, change.profile, date(2027, 1, 1))["orders_month"] == 0  # a new month


def test_an_order_counter_with_on_items_counts_orders_with_a_matching_line() -> None:
    p = load({"id": "tea_orders", "counts": "orders", "period": "month", "on_items": "i.category == 'tea'"})
    assert buy(p, member())[0].profile.counters == {"tea_orders": {"2026-12": 1}}
    assert buy(p, member(), items=ITEMS[1:], amount=3000)[0].profile.counters == {}


def test_activities_count_by_type() -> None:
    p = load(
        {"id": "checkins", "counts": "activities", "period": "month", "activity_type": "check_in"},
        {"id": "all_acts", "counts": "activities", "period": "lifetime"},
    )
    change = check_in(p, member())
    change = check_in(p, change.profile, "share")
    assert change.profile.counters == {"checkins": {"2026-12": 1}, "all_acts": {"lifetime": 2}}


def test_campaigns_read_the_count_before_the_event_and_the_fifth_order_gets_the_bonus() -> None:
    p = load(
        {"id": "orders_month", "counts": "orders", "period": "month"},
        campaign_list=[
            {
                "id": "fifth",
                "name": "fifth",
                "trigger": "purchase",
                "when": "member.counters.orders_month == 4",
                "effects": [{"points": 100}],
            }
        ],
    )
    profile, given = member(), []
    for _ in range(6):
        change, _, applied = buy(p, profile)
        profile = change.profile
        given.append([a.campaign_id for a in applied])
    assert given == [[], [], [], [], ["fifth"], []]


def test_a_late_event_counts_in_its_own_period_and_reads_it() -> None:
    p = load(
        {"id": "orders_month", "counts": "orders", "period": "month"},
        campaign_list=[
            {
                "id": "first",
                "name": "first",
                "trigger": "purchase",
                "when": "member.counters.orders_month == 0",
                "effects": [{"points": 1}],
            }
        ],
    )
    change, _, applied = buy(p, member())
    assert [a.campaign_id for a in applied] == ["first"]
    november = T0 - timedelta(days=10)
    change, _, applied = buy(p, change.profile, at=november)
    assert [a.campaign_id for a in applied] == ["first"]  # November had none yet
    assert change.profile.counters == {"orders_month": {"2026-11": 1, "2026-12": 1}}
    # Older than the 13 months kept: not counted, and the fact is absent (a condition on it does not hold).
    change, counted, applied = buy(p, change.profile, at=T0 - timedelta(days=400))
    assert counted == {} and applied == []
    assert change.profile.counters == {"orders_month": {"2026-11": 1, "2026-12": 1}}


def test_only_the_kept_periods_stay_on_the_profile() -> None:
    p = load(
        {"id": "daily", "counts": "orders", "period": "day"}, {"id": "yearly", "counts": "orders", "period": "year"}
    )
    profile = member(
        counters={
            "daily": {"2026-09-01": 3, "2026-11-30": 1},
            "yearly": {"2024": 9, "2025": 2},
            "gone": {"lifetime": 4},
        }
    )
    change, _, _ = buy(p, profile)
    assert change.profile.counters == {"daily": {"2026-11-30": 1, "2026-12-03": 1}, "yearly": {"2025": 2, "2026": 1}}


def test_a_changed_period_drops_the_old_kind_of_keys() -> None:
    p = load({"id": "c", "counts": "orders", "period": "week"})
    change, _, _ = buy(p, member(counters={"c": {"2026-12": 5, "lifetime": 2}}))
    assert change.profile.counters == {"c": {"2026-W49": 1}}


# --- refunds ----------------------------------------------------------------------------------------


def order_ref(p: Program, counted: dict[str, counting.Count], amount: int = 5000) -> dict[str, Any]:
    o = campaigns.order(p, amount, ITEMS, {})
    return {
        "order_minor": amount,
        "refunded_minor": 0,
        "order_facts": campaigns.recorded(o),
        **counting.recorded(counted),
    }


@pytest.mark.parametrize("full", [False, True])
def test_a_refund_by_amount_takes_back_spend_in_share_and_the_order_only_when_full(full: bool) -> None:
    p = load(
        {"id": "orders_month", "counts": "orders", "period": "month"},
        {"id": "spend", "counts": "spend_minor", "period": "month"},
        {"id": "units", "counts": "units", "period": "month"},
    )
    change, counted, _ = buy(p, member())
    ref = order_ref(p, counted)
    r = refunds.by_amount(ref, 5000 if full else 2500)
    after = Change.start(p, change.profile, T0)
    taken = counting.take_back(after, ref, r)
    if full:
        assert taken == {"orders_month": 1, "spend": 5000, "units": 3} and after.profile.counters == {}
    else:
        # units follow their lines: an amount refund is each line's share (2 x 1/2, 1 x 1/2 rounded down)
        assert taken == {"spend": 2500, "units": 1}  # the order itself comes back only with all of it
        assert after.profile.counters == {
            "orders_month": {"2026-12": 1},
            "spend": {"2026-12": 2500},
            "units": {"2026-12": 2},
        }


def test_a_refund_by_lines_takes_back_those_lines_cumulatively() -> None:
    p = load(
        {"id": "tea_units", "counts": "units", "period": "month", "on_items": "i.category == 'tea'"},
        {"id": "tea_spend", "counts": "spend_minor", "period": "month", "on_items": "i.category == 'tea'"},
        {"id": "orders_month", "counts": "orders", "period": "month"},
    )
    change, counted, _ = buy(p, member())
    ref = order_ref(p, counted)
    r = refunds.by_lines(ref, [("1", 1)])  # one of the two teas
    after = Change.start(p, change.profile, T0)
    taken = counting.take_back(after, ref, r)
    assert taken == {"tea_units": 1, "tea_spend": 1000}
    assert after.profile.counters == {
        "tea_units": {"2026-12": 1},
        "tea_spend": {"2026-12": 1000},
        "orders_month": {"2026-12": 1},
    }
    ref |= {"counters_reversed": taken, "refunded_minor": r.refunded_minor, "lines_refunded": r.units}
    r = refunds.by_lines(ref, [("1", 1), ("2", 1)])  # the rest: a full refund
    taken = counting.take_back(after, ref, r)
    assert taken == {"tea_units": 2, "tea_spend": 2000, "orders_month": 1} and after.profile.counters == {}


def test_an_order_that_counted_nothing_takes_nothing_back() -> None:
    p = load()
    ref = order_ref(p, {})
    assert counting.take_back(Change.start(p, member(), T0), ref, refunds.by_amount(ref, 5000)) is None
