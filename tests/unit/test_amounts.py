"""Issue 31 (B): computed amounts, points per unit, sum(), expiry per grant and the new per-member
limits (rules/amounts.py, rules/limits.py, rules/campaigns.py), without AWS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from loyalty.member import Profile
from loyalty.program import Program, problems
from loyalty.rules import campaigns, conditions, due, limits
from loyalty.rules.posting import Change
from tests.support import program
from tests.unit.test_campaigns import TEA, buy, campaign, doc, member

T0 = datetime(2026, 12, 3, 4, tzinfo=UTC)  # noon in Shanghai
TEA_AMOUNTS = "order.items.filter(i, i.category == 'tea').map(i, i.amount_minor)"


def streak(cid: str = "streak", **kw: Any) -> dict[str, Any]:
    effects = kw.pop("effects", [{"points": "activity.streak_days * 2", "max": 20}])
    return {"id": cid, "name": cid, "trigger": "activity", "effects": effects, **kw}


def act(
    p: Program, profile: Profile, days: int = 3, object_id: str = "", at: datetime = T0, source: str = "activity:a1"
) -> tuple[Change, list[campaigns.Applied]]:
    change = Change.start(p, profile, at)
    facts = {"type": "check_in", "streak_days": days, "object_id": object_id}
    return change, campaigns.run(change, campaigns.Event("activity", at, source, activity=facts))


def all_problems(p: dict[str, Any]) -> set[str]:
    """The PUT's problems by field: pydantic's, the cross-field ones and the expressions'."""
    fields = {f["field"] for f in conditions.campaign_problems(p)}
    try:
        return fields | {f["field"] for f in problems(Program.model_validate(p))}
    except ValidationError as error:
        return fields | {".".join(str(x) for x in e["loc"]) for e in error.errors()}


# --- computed amounts ------------------------------------------------------------------------------


def test_a_computed_amount_is_evaluated_on_the_facts_and_capped_at_its_max() -> None:
    p = doc(streak())
    assert act(p, member(), days=3)[1][0].points == 6
    change, applied = act(p, member(), days=30)
    assert applied[0].points == 20 and change.balance == 20  # capped


def test_a_computed_amount_of_nothing_is_no_application() -> None:
    p = doc(streak(effects=[{"points": "(activity.streak_days - 1) * 5", "max": 30}, {"tag": "streaker"}]))
    change, applied = act(p, member(), days=1)
    assert applied == [] and change.balance == 0 and change.notices == []
    assert change.profile.campaigns == {} and change.profile.tags == []  # no use counted, no other effect
    odd = doc(streak(effects=[{"points": "10 / (activity.streak_days - 3)", "max": 30}]))  # division by zero
    assert act(odd, member(), days=3)[1] == []
    assert act(odd, member(), days=4)[1][0].points == 10


def test_computed_growth_and_sum_in_an_amount() -> None:
    p = doc(
        campaign(
            effects=[
                {"growth": "activity.streak_days", "max": 5},
            ],
            trigger="activity",
        ),
        campaign(
            "tea-units",
            effects=[{"points": f"sum({TEA_AMOUNTS}) / 100", "max": 50}],
        ),
    )
    assert act(p, member(), days=9)[1][0].growth == 5
    _, applied = buy(p, member())
    assert [(a.campaign_id, a.points) for a in applied] == [("tea-units", 20)]  # 20.00 of tea


def test_sum_in_a_condition() -> None:
    when = f"sum({TEA_AMOUNTS}) >= 2000"
    p = doc(campaign(when=when))
    assert len(buy(p, member())[1]) == 1
    assert buy(p, member(), items=[{**TEA[0], "amount_minor": 1999}, TEA[1]])[1] == []
    assert conditions.problems(when, "purchase") == []


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("sum(order.items.map(i, i.sku)) > 0", "sum() takes a list of int, not list(string)"),
        ("sum(order.items) > 0", "sum() takes a list of int, not list(an order item)"),
        ("sum(1) > 0", "sum() takes a list of int, not int"),
        ("sum([1], [2]) > 0", "sum() takes one list: sum(order.items.map(i, i.amount_minor))"),
        ("[1].sum() > 0", "sum() takes one list: sum(order.items.map(i, i.amount_minor))"),
    ],
)
def test_the_checker_types_sum(source: str, problem: str) -> None:
    assert conditions.problems(source, "purchase") == [problem]


def test_sum_is_costed_by_the_list_it_adds() -> None:
    mapped = "order.items.map(i, i.amount_minor)"
    assert conditions.cost(f"sum({mapped}) > 0", "purchase") > conditions.cost(f"size({mapped}) > 0", "purchase")
    assert conditions.cost("sum([1, 2]) > 0", "purchase") < conditions.cost(f"sum({mapped}) > 0", "purchase")


def test_put_names_every_problem_of_an_amount_at_once() -> None:
    d = program("demo")
    d["campaigns"] = [
        streak("a", effects=[{"points": "activity.streak_days > 2", "max": 5}]),  # a bool
        streak("b", effects=[{"points": "activity.streak_days * 2"}]),  # no max
        streak("c", effects=[{"points": 5, "max": 5}]),  # max without an expression
        streak(
            "d", effects=[{"growth": "member.nope", "max": 5}, {"points": "double(activity.streak_days)", "max": 9}]
        ),
        streak("e", effects=[{"growth": 5, "expires_in_days": 3}, {"tag": "x", "max": 2}]),
    ]
    found = conditions.campaign_problems(d)
    assert {f["field"]: f["message"] for f in found} == {
        "campaigns[0].effects[0].points": "must be an integer amount (int), not bool",
        "campaigns[3].effects[0].growth": found[1]["message"],
        "campaigns[3].effects[1].points": "must be an integer amount (int), not double (convert with int())",
    }
    assert "unknown fact member.nope" in found[1]["message"]
    cross = {f["field"] for f in problems(Program.model_validate(d))}
    assert cross == {
        "campaigns[1].effects[0].max",
        "campaigns[2].effects[0].max",
        "campaigns[4].effects[0].expires_in_days",
        "campaigns[4].effects[1].max",
    }


def test_an_amounts_cost_counts_in_the_events_bound() -> None:
    heavy = "sum(order.items.map(i, order.items.filter(j, j.sku == i.sku).size()))"
    d = program("demo")
    d["campaigns"] = [campaign(f"c{k}", effects=[{"points": heavy, "max": 5}]) for k in range(3)]
    found = conditions.campaign_problems(d)
    assert found and found[0]["field"].endswith(".effects[0].points") and "steps" in found[0]["message"]


def test_an_amount_reading_its_campaigns_uses_gets_its_own() -> None:
    p = doc(streak(effects=[{"points": "10 - campaign.uses_by_member * 5", "max": 10}]))
    profile, given = member(), []
    for _ in range(3):
        change, applied = act(p, profile)
        given.append(applied[0].points if applied else 0)
        profile = change.profile
    assert given == [10, 5, 0]


# --- points per unit -------------------------------------------------------------------------------


def test_points_per_unit_of_quantity() -> None:
    p = doc(campaign(effects=[{"points_per_unit": {"points": 2, "per": "unit"}, "on_items": "i.category == 'tea'"}]))
    items = [{**TEA[0], "quantity": 3}, {**TEA[1], "quantity": 5}, {"sku": "t2", "category": "tea", "amount_minor": 10}]
    applied = buy(p, member(), items=items)[1][0]
    assert applied.points == 8  # 3 + 1 tea units, 2 points each
    assert applied.line_points == {0: 6, 2: 2}  # by quantity: a refund of a line takes back its units' points
    whole = doc(campaign(effects=[{"points_per_unit": {"points": 1, "per": "unit"}}]))
    assert buy(whole, member(), items=items)[1][0].points == 9
    assert buy(whole, member(), items=[])[1] == []  # an order without items has no units: nothing given, no application


def test_points_per_unit_is_exactly_one_of_unit_minor_or_per() -> None:
    for per_unit in ({"points": 1}, {"points": 1, "per": "unit", "unit_minor": 100}, {"points": 1, "per": "item"}):
        d = program("demo")
        d["campaigns"] = [campaign(effects=[{"points_per_unit": per_unit}])]
        with pytest.raises(ValidationError) as refused:
            Program.model_validate(d)
        assert refused.value.errors()[0]["loc"][:5] == ("campaigns", 0, "effects", 0, "points_per_unit")


# --- expiry per grant ------------------------------------------------------------------------------


def test_expires_in_days_puts_the_points_in_a_bucket_of_their_own_and_the_member_is_due_for_it() -> None:
    p = doc(
        streak(effects=[{"points": 7, "expires_in_days": 10}]),
        streak("plain", effects=[{"points": 3}]),
        streak("other", effects=[{"points": "activity.streak_days", "max": 4, "expires_in_days": 10}]),
    )
    change, applied = act(p, member(), days=2)
    assert [a.points for a in applied] == [7, 3, 2]
    # Thursday 3 December in Shanghai + 10 days; the program's rolling 12 months for the rest.
    assert change.profile.buckets == {"2026-12-13": 9, "2027-12-31": 3}
    assert [(e.type, e.points) for e in change.entries] == [("bonus", 3), ("bonus", 9)]
    assert due.days(change)["expire"] == "2026-12-14"  # the points run takes them then
    later = Change.start(p, change.profile, T0 + timedelta(days=11))
    assert later.profile.buckets == {"2027-12-31": 3} and later.entries[0].type == "expire"


def test_pending_points_with_their_own_expiry_count_it_from_when_they_are_credited() -> None:
    p = doc(campaign(effects=[{"points": 7, "expires_in_days": 10}]))
    change = Change.start(p, member(), T0)
    change.defer_until = T0.date() + timedelta(days=7)
    order = campaigns.order(p, 5000, TEA, {})
    campaigns.run(change, campaigns.Event("purchase", T0, "order:o1", order=order))
    assert change.balance == 0 and change.profile.pending[0].lasts_days == 10
    released = Change.start(p, change.profile, T0 + timedelta(days=8))
    assert released.profile.buckets == {"2026-12-20": 7}  # usable from the 10th (available_on), + 10 days


# --- limits ----------------------------------------------------------------------------------------


def test_a_points_limit_gives_what_is_left_of_it_then_nothing() -> None:
    p = doc(streak(limits={"per_member": {"points": 15, "per": "day"}}))
    profile, given = member(), []
    for n in range(3):
        change, applied = act(p, profile, days=4, source=f"activity:a{n}")
        given.append([a.points for a in applied])
        profile = change.profile
    assert given == [[8], [7], []]  # 8, then the 7 left, then none: no application
    assert profile.campaigns["streak"].points == {"2026-12-03": 15} and profile.campaigns["streak"].total == 2
    assert act(p, profile, days=4, at=T0 + timedelta(days=1))[1][0].points == 8  # a new day


def test_a_points_limit_cuts_each_part_in_proportion() -> None:
    p = doc(
        campaign(
            effects=[
                {"points": 10, "expires_in_days": 5},
                {"multiply_points": 2, "on_items": "i.category == 'tea'"},
            ],
            limits={"per_member": {"points": 15, "per": "month"}},
        )
    )
    applied = buy(p, member())[1][0]  # 10 + 20 on the tea line: 30, cut to 15
    assert applied.points == 15 and sum(applied.line_points.values()) + sum(applied.expiring.values()) == 15
    assert applied.line_points == {0: 10} and applied.expiring == {5: 5}


def test_a_points_limit_per_year_and_per_campaign() -> None:
    for per in ("year", "campaign"):
        p = doc(streak(limits={"per_member": {"points": 10, "per": per}}))
        change, _ = act(p, member(), days=4)
        assert act(p, change.profile, days=4, at=T0 + timedelta(days=20))[1][0].points == 2, per
    p = doc(streak(limits={"per_member": {"points": 10, "per": "year"}}))
    change, _ = act(p, member(), days=5)
    assert act(p, change.profile, days=5, at=T0 + timedelta(days=40))[1][0].points == 10  # 2027


def test_once_per_object() -> None:
    p = doc(streak(effects=[{"points": 5}], limits={"per_member": {"count": 1, "per": "object"}}))
    profile, got = member(), []
    for n, obj in enumerate(["sku-1", "sku-1", "sku-2", ""]):
        change, applied = act(p, profile, object_id=obj, source=f"activity:a{n}")
        got.append(bool(applied))
        profile = change.profile
    assert got == [True, False, True, False]  # again on sku-1: nothing; no object: nothing to count by
    assert list(profile.campaigns["streak"].objects.values()) == [1, 1]


def test_the_objects_kept_are_bounded() -> None:
    p = doc(streak(effects=[{"points": 1}], limits={"per_member": {"count": 1, "per": "object"}}))
    profile = member()
    for n in range(limits.MAX_OBJECTS + 1):
        change, applied = act(p, profile, object_id=f"sku-{n}", source=f"activity:a{n}")
        assert bool(applied) == (n < limits.MAX_OBJECTS)
        profile = change.profile
    assert len(profile.campaigns["streak"].objects) == limits.MAX_OBJECTS
    assert all(len(k) == 12 for k in profile.campaigns["streak"].objects)  # digests, not the ids


def test_limit_problems_at_put() -> None:
    d = program("demo")
    d["campaigns"] = [
        campaign("a", limits={"per_member": {"count": 1, "per": "object"}}),  # not an activity campaign
        streak("b", limits={"per_member": {"points": 5, "per": "object"}}),
        streak("c", limits={"per_member": {"count": 1, "points": 5, "per": "day"}}),
        {
            "id": "d",
            "name": "d",
            "trigger": "checkout",
            "effects": [{"percent_off": 5}],
            "limits": {"per_member": {"points": 5, "per": "day"}},
        },
    ]
    assert {
        "campaigns.1.limits.per_member",
        "campaigns.2.limits.per_member",
    } <= all_problems(d)
    del d["campaigns"][1:3]
    found = {f["field"] for f in problems(Program.model_validate(d))}
    assert found == {"campaigns[0].limits.per_member.per", "campaigns[1].limits.per_member.points"}
    d["campaigns"] = [streak(f"o{k}", limits={"per_member": {"count": 1, "per": "object"}}) for k in range(6)]
    found = {f["field"] for f in problems(Program.model_validate(d))}
    assert found == {"campaigns[5].limits.per_member.per"}
