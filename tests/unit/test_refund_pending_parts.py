"""A refund inside the return window cuts each campaign's pending points from that campaign's own
pending entry: campaigns credited with an expiry of their own (`expires_in_days`) wait in an entry
apart, which names only them, so the refund's share of the others is not taken from it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from loyalty.rules import campaigns, pending, refunds
from loyalty.rules.posting import Change
from tests.unit.test_campaigns import T0, campaign, doc, member

ITEMS = [
    {"sku": "t1", "category": "tea", "amount_minor": 3000, "quantity": 2},
    {"sku": "c1", "category": "cake", "amount_minor": 2000},
]


def bought() -> tuple[Change, dict[str, Any]]:
    """The testers' order: tea3 60 and units 4 on the tea line, sumc 25 order-wide lasting 5 days."""
    p = doc(
        campaign("tea3", effects=[{"multiply_points": 3, "on_items": "i.category == 'tea'"}]),
        campaign(
            "units", effects=[{"points_per_unit": {"points": 2, "per": "unit"}, "on_items": "i.category == 'tea'"}]
        ),
        campaign("sumc", effects=[{"points": 25, "expires_in_days": 5}]),
    )
    change = Change.start(p, member(), T0)
    change.defer_until = T0.date() + timedelta(days=14)
    order = campaigns.order(p, 5000, ITEMS, {})
    applied = campaigns.run(change, campaigns.Event("purchase", T0, "order:o1", order=order))
    assert [(a.campaign_id, a.points) for a in applied] == [("tea3", 60), ("units", 4), ("sumc", 25)]
    kept = {"order_minor": 5000, "order_points": 89, "points_reversed": 0, "refunded_minor": 0}
    return change, kept | {"order_facts": campaigns.recorded(order), **campaigns.given(change, applied, "order:o1")}


def test_each_entry_names_only_the_campaigns_whose_points_it_holds() -> None:
    change, _ = bought()
    parts = [(p.reason, p.lasts_days, p.points) for p in change.profile.pending]
    assert parts == [("campaign:tea3,units", None, 64), ("campaign:sumc", 5, 25)]


def test_a_refund_of_one_tea_unit_cuts_each_campaign_from_its_own_pending_entry() -> None:
    change, order = bought()
    r = refunds.by_lines(order, [("1", 1)])  # one of the two tea units: 15.00 of 50.00
    owed, by_campaign = refunds.points_owed(order, r)
    assert (owed, by_campaign) == (39, {"tea3": 30, "units": 2, "sumc": 7})
    assert pending.cancel(change.profile, "order:o1", owed, by_campaign) == 39
    assert [(p.lasts_days, p.points) for p in change.profile.pending] == [(None, 32), (5, 18)]
