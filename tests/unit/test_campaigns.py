"""Campaign evaluation and effects on a Change (rules/campaigns.py), without AWS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from loyalty.member import CampaignUse, Profile
from loyalty.program import Program, problems
from loyalty.rules import campaigns, conditions, earning
from loyalty.rules.posting import Change
from tests.support import program

T0 = datetime(2026, 12, 3, 4, tzinfo=UTC)  # noon in Shanghai, a Thursday
TEA = [{"sku": "t1", "category": "tea", "amount_minor": 2000}, {"sku": "c1", "category": "cake", "amount_minor": 3000}]


def doc(*rules: dict[str, Any], stacking: str = "max") -> Program:
    d = program("demo")
    d["coupons"]["tea-5"] = {"name": "5 off tea", "kind": "amount_off", "value_minor": 500, "valid_days": 7}
    d["campaigns"] = list(rules)
    d["points"]["stacking"] = stacking
    return Program.model_validate(d)


def campaign(cid: str = "tea-week", **kw: Any) -> dict[str, Any]:
    return {"id": cid, "name": cid, "trigger": "purchase", "effects": [{"points": 10}], **kw}


def member(**kw: Any) -> Profile:
    return Profile(program_id="p", member_id="m", enrolled_at=T0 - timedelta(days=40), **kw)


def buy(p: Program, profile: Profile, amount: int = 5000, items: list[dict[str, Any]] | None = None, at: datetime = T0):
    change = Change.start(p, profile, at)
    day = at.astimezone(p.zone).date()
    factors = earning.multipliers(p, profile, at, day)
    order = campaigns.order(p, amount, items if items is not None else TEA, factors, "s1", "app")
    applied = campaigns.run(change, campaigns.Event("purchase", at, "order:o1", order=order))
    return change, applied


def test_a_tea_week_multiplies_the_tea_lines_for_gold_members_only() -> None:
    p = doc(
        campaign(
            when="order.amount_minor >= 3000 && member.tier in ['gold'] && order.items.exists(i, i.category == 'tea')",
            effects=[{"multiply_points": 3, "on_items": "i.category == 'tea'"}, {"coupons": ["tea-5"]}],
        )
    )
    change, applied = buy(p, member(tier_id="gold"))
    # 20.00 of tea at 1 point per 1.00: 20 points at the tier's 1.2x; 3x (max stacking) adds 36.
    assert [(a.campaign_id, a.points, a.coupons) for a in applied] == [("tea-week", 36, ["tea-5"])]
    assert change.balance == 36 and [c.template_id for c in change.coupons] == ["tea-5"]
    assert change.notices[-1].kind == "campaign_applied" and change.notices[-1].campaign_id == "tea-week"
    assert buy(p, member(tier_id="star"))[1] == []


def test_an_order_level_multiplier_combines_with_the_programs_stacking() -> None:
    p = doc(campaign(effects=[{"multiply_points": 2}]))
    _, applied = buy(p, member(tier_id="gold"), amount=10000, items=[])
    assert applied[0].points == 200 - 120 and applied[0].multiplier == Decimal(2)  # max(1.2, 2) x 100 points
    multiply = doc(campaign(effects=[{"multiply_points": 2}]), stacking="multiply")
    _, applied = buy(multiply, member(tier_id="gold"), amount=10000, items=[])
    assert applied[0].points == 240 - 120


def test_priority_orders_them_and_an_exclusive_one_stops_the_rest() -> None:
    p = doc(
        campaign("low", priority=1, effects=[{"points": 1}]),
        campaign("high", priority=9, exclusive=True, effects=[{"points": 5}]),
        campaign("mid", priority=5, effects=[{"points": 3}]),
    )
    assert [a.campaign_id for a in buy(p, member())[1]] == ["high"]
    p = doc(campaign("low", priority=1), campaign("mid", priority=5))
    assert [a.campaign_id for a in buy(p, member())[1]] == ["mid", "low"]


def test_the_active_window_and_the_member_limit_per_day() -> None:
    window = {"from": "2026-12-01T00:00:00+08:00", "until": "2026-12-08T00:00:00+08:00"}
    p = doc(campaign(active=window, limits={"per_member": {"count": 1, "per": "day"}}))
    change, applied = buy(p, member())
    assert len(applied) == 1
    again = change.profile.model_copy(deep=True)
    assert buy(p, again)[1] == []  # the same day: the limit is reached
    assert len(buy(p, again, at=T0 + timedelta(days=1))[1]) == 1  # the next day
    assert buy(p, again, at=datetime(2026, 12, 8, tzinfo=UTC))[1] == []  # Dec 8, 08:00 Shanghai: over


def _applies(p: Program, profile: Profile, at: datetime, now: datetime) -> tuple[Profile, bool]:
    """One purchase paid at `at`, posted at `now` (a late sync when `at` is earlier)."""
    change = Change.start(p, profile, now)
    order = campaigns.order(p, 5000, TEA, {}, "s1", "app")
    applied = campaigns.run(change, campaigns.Event("purchase", at, f"order:{at.isoformat()}", order=order))
    return change.profile, bool(applied)


def test_a_late_event_counts_in_its_own_period_and_lets_no_other_through() -> None:
    """Issue 28.1: once a day, paid Dec 2 10:00, then Dec 1 (synced late), then Dec 2 15:00: the late
    order applies on its own day and the third order finds Dec 2's count, not Dec 1's."""
    shanghai = timedelta(hours=8)
    dec = [datetime(2026, 12, d, h, tzinfo=UTC) - shanghai for d, h in ((2, 10), (1, 12), (2, 15))]
    now = dec[2] + timedelta(minutes=1)
    for per, expected in (("day", [True, True, False]), ("week", [True, False, False])):
        # Dec 1 and 2, 2026 share ISO week 49: once a week, the late order finds the week's use.
        p = doc(campaign(limits={"per_member": {"count": 1, "per": per}}))
        profile, got = member(), []
        for at in dec:
            profile, applied = _applies(p, profile, at, now)
            got.append(applied)
        assert got == expected, per
    weekly = doc(campaign(limits={"per_member": {"count": 1, "per": "week"}}))
    profile, _ = _applies(weekly, member(), dec[2], now)
    profile, applied = _applies(weekly, profile, dec[2] - timedelta(days=7), now)  # late, for the week before
    assert applied and not _applies(weekly, profile, dec[2] + timedelta(hours=1), now)[1]


def test_the_limit_counts_stay_bounded_and_a_forgotten_period_gives_nothing() -> None:
    p = doc(campaign(limits={"per_member": {"count": 1, "per": "day"}}))
    profile, now = member(), T0
    for n in range(100):
        profile, applied = _applies(p, profile, now - timedelta(days=99 - n), now)
        assert applied == (99 - n < campaigns.KEPT["day"])  # older than the kept days: its count is unknown
    assert len(profile.campaigns["tea-week"].periods) == campaigns.KEPT["day"]
    assert profile.campaigns["tea-week"].total == campaigns.KEPT["day"]


def test_a_profile_with_the_former_single_period_keeps_its_count() -> None:
    use = CampaignUse.model_validate({"total": 3, "period": "2026-12-03", "count": 1})
    assert use.periods == {"2026-12-03": 1} and use.total == 3
    p = doc(campaign(limits={"per_member": {"count": 1, "per": "day"}}))
    assert not _applies(p, member(campaigns={"tea-week": use}), T0, T0)[1]


def test_the_campaigns_a_tier_change_sets_off_run_once_per_write() -> None:
    """A use case runs them to answer what they gave; the write's last rules (due.finish) then do not."""
    p = doc(campaign("gold-up", trigger="tier_changed", effects=[{"points": 50}]))
    change = Change.start(p, member(), T0)
    assert campaigns.after(change) == []  # no tier change yet: nothing, and it may run later
    change.move_tier(p.tiers.levels[1], "upgrade", "order:o1")
    assert [a.campaign_id for a in campaigns.after(change)] == ["gold-up"]
    assert campaigns.after(change) == [] and change.balance == 50


def test_uses_by_member_is_the_campaigns_own_count() -> None:
    p = doc(campaign(when="campaign.uses_by_member < 2"))
    profile = member()
    for _ in range(3):
        profile = buy(p, profile)[0].profile
    assert profile.campaigns["tea-week"].total == 2


def test_budgets_are_taken_all_or_none_and_a_spent_one_stops_the_campaign() -> None:
    p = doc(
        campaign(effects=[{"points": 10}, {"coupons": ["tea-5"]}], limits={"budget": {"points": 100, "coupons": 5}})
    )
    change, _ = buy(p, member())
    assert change.budget_takes == {
        "campaign:tea-week:points:all": (100, 10),
        "campaign:tea-week:coupons:all": (5, 1),
    }
    spent = Change.start(p, member(), T0, {"campaign:tea-week:coupons:all"})
    order = campaigns.order(p, 5000, [], {})
    assert campaigns.run(spent, campaigns.Event("purchase", T0, "order:o2", order=order)) == []
    assert spent.budget_takes == {} and spent.balance == 0


def test_points_per_unit_over_matching_items() -> None:
    p = doc(
        campaign(effects=[{"points_per_unit": {"points": 3, "unit_minor": 1000}, "on_items": "i.category == 'cake'"}])
    )
    assert buy(p, member())[1][0].points == 9  # 30.00 of cake: 3 x 3


def test_put_problems_name_the_campaign_field() -> None:
    p = doc(
        campaign(
            "enrol",
            trigger="enrolment",
            effects=[{"multiply_points": 2}, {"coupons": ["nope"]}],
            active={"from": "2026-12-08T00:00:00+08:00", "until": "2026-12-01T00:00:00+08:00"},
        ),
        campaign("enrol"),
    )
    fields = {f["field"] for f in problems(p)}
    assert {
        "campaigns[0].effects[0].multiply_points",
        "campaigns[0].effects[1].coupons[0]",
        "campaigns[0].active.until",
        "campaigns[1].id",
    } <= fields


def test_problems_read_any_json_the_document_holds() -> None:
    """Found by schemathesis: a trigger that is an object, not a string, was a 500."""
    odd = [{"trigger": {}, "when": "x"}, {"trigger": "purchase", "when": 3, "effects": [{"on_items": []}, 7]}, "c"]
    assert conditions.campaign_problems({"campaigns": odd}) == []
    assert conditions.campaign_problems({"campaigns": {}}) == conditions.campaign_problems([]) == []


def test_a_refund_sees_what_its_purchase_recorded_and_an_old_order_nothing() -> None:
    p = doc()
    bought = campaigns.order(p, 5000, TEA, {}, "s1", "app", "dine_in")
    kept = campaigns.recorded(bought)
    assert kept["items"][0] == ["t1", "tea", 2000, 1, "1"]  # compact: a reference holds up to 500 lines
    back = campaigns.refunded(p, kept, 700)
    assert (back.amount_minor, back.items, back.store_id, back.channel, back.scene) == (
        700,
        bought.items,
        "s1",
        "app",
        "dine_in",
    )
    old = campaigns.refunded(p, None, 700)  # an order recorded before its reference kept the facts
    assert (old.amount_minor, old.items, old.store_id, old.channel, old.scene) == (700, [], "", "", "")


def test_a_multiplier_on_items_adds_the_floor_of_its_exact_extra() -> None:
    """Points round down once, at the end: 3x on 29.40 of tea adds 2 x 29.4 = 58.8, so 58; not
    floor(88.2) - floor(29.4) = 59, which made the order 49 + 59 = 108 where 107.8 is exact."""
    p = doc(campaign(effects=[{"multiply_points": 3, "on_items": "i.category == 'tea'"}]))
    items = [
        {"sku": "t1", "category": "tea", "amount_minor": 2940},
        {"sku": "f1", "category": "food", "amount_minor": 1960},
    ]
    _, applied = buy(p, member(), amount=4900, items=items)
    assert [(a.points, a.line_points) for a in applied] == [(58, {0: 58})]
    _, applied = buy(doc(campaign(effects=[{"multiply_points": 3}])), member(), amount=2940, items=[])
    assert applied[0].points == 58  # the whole order alike
