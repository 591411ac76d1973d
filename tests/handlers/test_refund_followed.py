"""A refund reverses the points of the campaigns its order's own write set off (`tier_changed` by the
upgrade, `tag_added` by a tag the purchase's campaigns added) in proportion, as the order's other
campaign points (API.md: "A refund reverses a campaign's effects in proportion, as it reverses base
points"): buying up a tier and refunding it in full nets nothing, however often it is repeated."""

from __future__ import annotations

from tests.handlers.conftest import Api
from tests.handlers.test_campaigns import put, rule
from tests.handlers.test_refund_upgrade import buy, refund  # the same member M's purchase and refund
from tests.support import program

M = "/programs/demo/members/m1"


def setup(api: Api, pending_days: int = 0) -> None:
    status, body = put(
        api,
        rule("tierup", "tier_changed", when="change.direction == 'up'", effects=[{"points": 44}]),
        rule("big", when="order.amount_minor >= 100000", effects=[{"tag": "big-buyer"}]),
        rule("tagged", "tag_added", when="tag == 'big-buyer'", effects=[{"points": 33}]),
        points={**program("demo")["points"], "pending_days": pending_days},
    )
    assert status == 200, body
    assert api.call("enrol", "POST", "/programs/demo/members", {"member_id": "m1"})[0] == 201


def balance(api: Api) -> int:
    return int(api.call("members", "GET", M)[1]["points"]["balance"])


def test_buying_up_a_tier_and_refunding_it_in_full_nets_nothing_cycle_after_cycle(api: Api) -> None:
    setup(api)
    for cycle in range(3):
        before = balance(api)
        bought = buy(api, f"o{cycle}", 100000)
        given = {c["campaign_id"]: c["points"] for c in bought["breakdown"]["campaigns"]}
        assert bought["tier"] == "gold" and given["tierup"] == 44, bought
        assert ("tagged" in given) == (cycle == 0)  # the tag stays: added once, so set off once
        back = refund(api, f"r{cycle}", f"o{cycle}", 100000)
        assert back["tier"] == "star" and back["points_unrecovered"] == 0, back
        assert back["points_reversed"] == bought["points_earned"]  # the campaigns' 44 (and 33) included
        assert back["balance"] == balance(api) == before


def test_a_partial_refund_takes_back_their_points_in_proportion(api: Api) -> None:
    setup(api)
    bought = buy(api, "o1", 100000)
    assert bought["points_earned"] == 1000 + 200 + 44 + 33  # the order at 1x, the first order bonus, both campaigns
    back = refund(api, "r1", "o1", 25000)  # a quarter: under gold, the upgrade is undone
    assert back["points_reversed"] == 250 + 50 + 11 + 8  # 44 / 4 = 11, 33 / 4 = 8.25: 8
    rest = refund(api, "r2", "o1", 75000)  # the rest: every point of the order comes back in all
    assert back["points_reversed"] + rest["points_reversed"] == bought["points_earned"]
    assert rest["balance"] == balance(api) == 100


def test_inside_the_return_window_their_share_comes_from_the_balance_not_the_pending_points(api: Api) -> None:
    """The order's earn and bonus wait out the window; the campaigns its upgrade and tag set off were
    credited at once, so a refund cancels the order's pending share and takes theirs from the balance."""
    setup(api, pending_days=14)
    buy(api, "o1", 100000)
    assert balance(api) == 100 + 44 + 33  # the welcome, the two campaigns: the order's 1200 pending
    back = refund(api, "r1", "o1", 25000)
    assert (back["pending_cancelled"], back["points_reversed"]) == (250 + 50, 11 + 8)
    pending = api.call("members", "GET", M)[1]["points"]["pending"]
    assert sum(p["points"] for p in pending) == 1200 - 300
    assert back["balance"] == balance(api) == 100 + 44 + 33 - 19
