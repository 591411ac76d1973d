"""Issue 31 (A): the new triggers and facts (tag_added, a tier change's direction, at.month/date,
member.birthday, order.units, an activity's object and attributes), why a campaign did not apply,
and facts built only for the paths the campaigns read (rules/facts.py), without AWS."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bench.campaigns import cases, document
from loyalty.program import Program
from loyalty.rules import campaigns, conditions, expressions, tags
from loyalty.rules import facts as event_facts
from loyalty.rules.posting import Change
from tests.support import ROOT, program
from tests.unit.test_campaigns import T0, TEA, buy, campaign, doc, member


def check(source: str, trigger: str = "purchase") -> list[str]:
    return conditions.problems(source, trigger)


def one_fact(path: str, trigger: str = "purchase", **event: Any) -> Any:
    """The value of one fact path on an event at T0 (noon, 3 December, in Shanghai)."""
    p = doc()
    profile = event.pop("profile", member())
    order = campaigns.order(p, 5000, event.pop("items", TEA), {})
    built = campaigns.facts(p, profile, campaigns.Event(trigger, T0, "x", order=order, **event), None)
    root, _, name = path.partition(".")
    return built[root][name] if name else built[root]


def test_the_new_facts_have_their_values() -> None:
    assert (one_fact("at.month"), one_fact("at.date")) == (12, "12-03")
    assert one_fact("member.birthday", profile=member(birthday="1990-12-03")) == "12-03"
    assert one_fact("member.birthday") is None  # none given: CEL null
    items = [{"sku": "t", "category": "tea", "amount_minor": 100, "quantity": 3}, TEA[1]]
    assert one_fact("order.units", items=items) == 4  # an item without a quantity is one unit
    activity = {"type": "review", "streak_days": 1, "object_id": "sku-1", "attributes": {"stars": "5"}}
    assert one_fact("activity.object_id", "activity", activity=activity) == "sku-1"
    assert one_fact("activity.attributes", "activity", activity=activity) == {"stars": "5"}
    bare = {"type": "review", "streak_days": 1}
    assert (
        one_fact("activity.object_id", "activity", activity=bare),
        one_fact("activity.attributes", "activity", activity=bare),
    ) == ("", {})
    assert one_fact("tag", "tag_added", tag="vip") == "vip"
    assert (
        one_fact("change.direction", "tier_changed", change={"from": "star", "to": "gold", "direction": "up"}) == "up"
    )


def test_the_checker_knows_the_new_facts_and_a_birthday_that_may_be_null() -> None:
    for source in (
        "at.date == member.birthday",
        "member.birthday != null && member.birthday.startsWith('12-')",
        "at.month == 12 && order.units >= 3",
    ):
        assert check(source) == [], source
    assert check("member.birthday == 5") == ["cannot compare string or null == int"]
    assert check("activity.object_id == 'sku-1' && activity.attributes['stars'] == '5'", "activity") == []
    assert check("'stars' in activity.attributes && activity.attributes.stars == '5'", "activity") == []
    assert check("tag == 'vip' && member.tier == 'gold'", "tag_added") == []
    assert check("change.direction == 'up' && change.from == 'star' && change.to == 'gold'", "tier_changed") == []
    assert check("tag == 'vip'") == ["tag is not a fact of a purchase campaign (facts: order, member, at, campaign)"]
    assert check("order.units > 1", "checkout") == [] and check("order.units > 1", "refund") == []


def test_the_paths_an_expression_reads_and_never_fewer() -> None:
    reads = event_facts.reads
    assert reads("member.tier == 'gold' && order.amount_minor > 5", "purchase") == {"member.tier", "order.amount_minor"}
    assert reads("i.category == 'tea'", "purchase", on_items=True) == {"order.items"}
    assert reads("order.items.exists(i, i.sku == 'x')", "purchase") == {"order.items"}
    whole = reads("dyn(member).growth > 1", "purchase")  # a fact used whole: all its fields
    assert {"member.growth", "member.paid_cards", "member.tier"} <= whole
    assert reads("tag == 'x'", "tag_added") == {"tag"}
    assert reads("'member.growth' == 'x'", "purchase") == {"member.growth"}  # a string: more, never fewer
    for trigger in expressions.FACTS:  # every fact declared is built
        assert event_facts.all_paths(trigger) <= set(event_facts.BUILD), trigger


def test_a_fact_nobody_reads_is_not_computed(monkeypatch: pytest.MonkeyPatch) -> None:
    computed: list[str] = []
    for path in ("member.growth", "member.paid_cards", "member.days_since_enrolment"):
        build = event_facts.BUILD[path]
        monkeypatch.setitem(
            event_facts.BUILD, path, lambda s, path=path, build=build: computed.append(path) or build(s)
        )
    p = doc(campaign(when="order.amount_minor >= 3000 && member.tier != 'gold'"))
    assert [a.campaign_id for a in buy(p, member())[1]] == ["tea-week"]
    assert computed == []
    p = doc(campaign(when="member.growth >= 0"), campaign("other", when="order.amount_minor > 0"))
    assert [a.campaign_id for a in buy(p, member())[1]] == ["tea-week", "other"]
    assert computed == ["member.growth"]  # once per event, for every campaign


def test_a_tier_change_is_one_change_with_its_direction() -> None:
    p = doc(campaign("up", trigger="tier_changed", when="change.direction == 'up'", effects=[{"points": 7}]))
    levels = p.tiers.levels
    change = Change.start(p, member(tier_id="star"), T0)
    change.move_tier(levels[1], "upgrade", "order:o1")
    change.move_tier(levels[2], "upgrade", "order:o1")  # star -> gold -> diamond: one change
    assert campaigns.tier_change(change) == {"from": "star", "to": "diamond", "direction": "up"}
    assert [a.campaign_id for a in campaigns.after(change)] == ["up"] and change.balance == 7
    down = Change.start(p, member(tier_id="diamond"), T0)
    down.move_tier(levels[0], "review", "review:1")
    assert campaigns.tier_change(down) == {"from": "diamond", "to": "star", "direction": "down"}
    assert campaigns.after(down) == [] and down.skipped == [{"campaign_id": "up", "reason": "condition not met"}]


def test_tag_added_runs_once_per_tag_after_the_other_campaigns_and_not_for_its_own_tags() -> None:
    p = doc(
        campaign("tagger", effects=[{"tag": "tea-lover"}]),
        campaign(
            "welcome-tag", trigger="tag_added", when="tag == 'tea-lover'", effects=[{"points": 5}, {"tag": "vip"}]
        ),
        campaign("any-tag", trigger="tag_added", effects=[{"points": 1}]),
    )
    change, applied = buy(p, member())
    assert [a.campaign_id for a in applied] == ["tagger"]  # the purchase's own
    after = campaigns.after(change)
    # tea-lover sets off both; vip, added by a tag_added campaign, sets off none
    assert [a.campaign_id for a in after] == ["welcome-tag", "any-tag"]
    assert change.profile.tags == ["tea-lover", "vip"] and change.balance == 6
    assert campaigns.after(change) == []  # once per write: the commit's own call finds nothing new
    again = Change.start(p, change.profile, T0 + timedelta(hours=1))
    tags.apply(again, ["tea-lover"], [])  # held already: no tag added
    assert campaigns.after(again) == []
    tags.apply(again, ["new"], [])
    assert [a.campaign_id for a in campaigns.after(again)] == ["any-tag"]


def test_each_campaign_that_does_not_apply_says_why() -> None:
    window = {"from": "2027-01-01T00:00:00+08:00"}
    p = doc(
        campaign("later", priority=9, active=window),
        campaign("spent", priority=8, limits={"budget": {"points": 5}}),
        campaign("once", priority=7, limits={"per_member": {"count": 1, "per": "campaign"}}),
        campaign("big", priority=6, when="order.amount_minor > 100000"),
        campaign("first", priority=5, exclusive=True),
        campaign("low", priority=1),
    )
    profile = member()
    profile.campaigns["once"] = campaigns.CampaignUse(total=1, periods={"campaign": 1})
    change, applied = buy(p, profile)
    assert [a.campaign_id for a in applied] == ["first"]
    assert change.skipped == [
        {"campaign_id": "later", "reason": "not active"},
        {"campaign_id": "spent", "reason": "budget spent"},  # 10 points over a budget of 5
        {"campaign_id": "once", "reason": "limit reached"},
        {"campaign_id": "big", "reason": "condition not met"},
        {"campaign_id": "low", "reason": "excluded by first"},
    ]


def test_the_facts_of_the_paths_read_give_every_expression_the_verdict_all_facts_give() -> None:
    """The bench's 50 campaigns and the shipped templates' purchase campaigns, on a member with some
    of everything: each `when` and `on_items` answers alike on the facts its trigger's campaigns read
    and on all of them (the scan found every path they read)."""
    docs = [document(c) for c in cases(T0).values()]
    docs += [program(path.stem) for path in sorted((ROOT / "programs").glob("*.json"))]
    profile = member(tier_id="gold", tags=["vip-3", "baby"], birthday="1990-12-03", orders_total=2)
    items = [*TEA, {"sku": "gift-1", "category": "baby", "amount_minor": 500, "quantity": 2}]
    for d in docs:
        p = Program.model_validate(d)
        order = campaigns.order(p, 7800, items, {}, "s1", "app")
        event = campaigns.Event("purchase", T0, "order:o1", order=order)
        read = expressions.activation(campaigns.facts(p, profile, event, None, campaigns.reads(p, "purchase")))
        every = expressions.activation(campaigns.facts(p, profile, event, None))
        for r in campaigns.ready(p).get("purchase", []):
            assert expressions.test(r.when, read) == expressions.test(r.when, every), r.campaign.when
            for on_items in filter(None, r.on_items):
                for item in order.items:
                    assert expressions.test(on_items, read, item) == expressions.test(on_items, every, item)
