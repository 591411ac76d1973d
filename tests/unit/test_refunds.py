"""rules/refunds: a refund's shares, cumulative and exact (issue 30 item 2)."""

from __future__ import annotations

import random
from typing import Any

import pytest

from loyalty.errors import LimitReached, ValidationFailed
from loyalty.rules import campaigns, refunds
from loyalty.rules.posting import reversal


def order(**more: Any) -> dict[str, Any]:
    lines = [["t1", "tea", 3000, 2, "t"], ["c1", "cake", 1000, 3, "2"]]
    return {
        "order_minor": 5000,
        "refunded_minor": 0,
        "order_points": 350,
        "points_reversed": 0,
        "order_facts": {"items": lines},
        **more,
    }


def after(o: dict[str, Any], r: refunds.Refunded, owed: int, by: dict[str, int]) -> dict[str, Any]:
    """The order as the refund's reference update leaves it."""
    taken = dict(o.get("campaigns_reversed") or {})
    for cid, n in by.items():
        taken[cid] = taken.get(cid, 0) + n
    return o | {
        "refunded_minor": r.refunded_minor,
        "amount_refunded_minor": r.by_amount_minor,
        "lines_refunded": r.units,
        "lines_refunded_minor": r.line_minor,
        "points_reversed": o["points_reversed"] + owed,
        "campaigns_reversed": taken,
    }


def test_units_refund_their_share_of_a_line_exactly() -> None:
    o, amounts = order(), []
    for _ in range(3):
        r = refunds.by_lines(o, [("2", 1)])
        amounts.append(r.amount_minor)
        o = after(o, r, 0, {})
    assert amounts == [333, 333, 334]
    with pytest.raises(LimitReached) as refused:
        refunds.by_lines(o, [("t", 1), ("2", 1)])
    assert refused.value.details[0]["field"] == "items[1]"
    with pytest.raises(ValidationFailed):
        refunds.by_lines(o, [("nope", 1)])


def test_an_order_without_campaigns_kept_apart_follows_the_money_as_before() -> None:
    o = order(order_facts={})
    r = refunds.by_amount(o, 1234)
    assert refunds.points_owed(o, r) == (reversal(350, 5000, 1234, 0), {})


def test_points_on_items_follow_their_lines_and_the_rest_the_money() -> None:
    o = order(campaign_points={"tea-x": 300}, item_points={"tea-x": {"0": 300}})
    r = refunds.by_lines(o, [("2", 3)])  # the cake: 10.00 of 50.00, none of the tea points
    assert refunds.points_owed(o, r) == (50 * 1000 // 5000, {})
    r = refunds.by_lines(o, [("t", 1)])
    assert refunds.points_owed(o, r) == (50 * 1500 // 5000 + 150, {"tea-x": 150})


def test_random_refunds_never_take_more_than_the_order_gave_and_take_it_all_at_the_end() -> None:
    for seed in range(200):
        rng = random.Random(seed)
        o = order(campaign_points={"tea-x": 300, "flat": 7}, item_points={"tea-x": {"0": 300}})
        o["points_paid"] = {"2027-01-31": rng.randint(0, 500), "2027-02-28": rng.randint(0, 500)}
        left = {"t": 2, "2": 3}
        while o["refunded_minor"] < o["order_minor"]:
            open_lines = [k for k, n in left.items() if n]
            if open_lines and rng.random() < 0.6:
                line = rng.choice(open_lines)
                q = rng.randint(1, left[line])
                left[line] -= q
                r = refunds.by_lines(o, [(line, q)])
            else:
                r = refunds.by_amount(o, rng.randint(1, o["order_minor"] - o["refunded_minor"]))
            owed, by = refunds.points_owed(o, r)
            o = after(o, r, owed, by)
            assert o["points_reversed"] <= o["order_points"]
            kept = zip(o["lines_refunded_minor"], o["order_facts"]["items"], strict=True)
            assert all(0 <= m <= line[2] for m, line in kept), seed  # no line gives back more than it cost
        assert o["points_reversed"] == o["order_points"], seed


def test_no_line_is_refunded_once_the_orders_money_has_all_come_back_by_amount() -> None:
    import pytest

    from loyalty.errors import LimitReached
    from loyalty.rules import refunds

    order = {
        "order_minor": 1000,
        "refunded_minor": 1000,
        "order_facts": {"items": [["tea", "tea", 1000, 2, "1"]]},
    }
    with pytest.raises(LimitReached) as refused:
        refunds.by_lines(order, [("1", 1)])
    assert refused.value.details == [{"field": "items", "message": "nothing left to refund"}]


def test_a_line_refunded_after_a_refund_by_amount_gives_back_only_what_that_left_of_it() -> None:
    o = {
        "order_minor": 10000,
        "refunded_minor": 0,
        "order_points": 100,
        "points_reversed": 0,
        "order_facts": {"items": [["a", "", 4000, 1, "1"], ["b", "", 6000, 1, "2"]]},
    }
    r = refunds.by_amount(o, 5000)  # half of every line
    o = after(o, r, 0, {})
    r = refunds.by_lines(o, [("1", 1)])
    assert r.amount_minor == 2000
    o = after(o, r, 0, {})
    assert refunds.by_lines(o, [("2", 1)]).amount_minor == 3000  # the order's last 30.00, all line 2's


def test_a_refund_by_lines_shows_its_campaigns_its_lines_with_their_units_and_money() -> None:
    o = order(order_facts={"items": [["t1", "tea", 3000, 2, "t"], ["c1", "cake", 1000, 3, "2"]], "store_id": "s1"})
    r = refunds.by_lines(o, [("2", 2)])
    assert refunds.refunded_facts(o, r) == {"items": [["c1", "cake", 666, 2, "2"]], "store_id": "s1"}
    assert refunds.refunded_facts(o, refunds.by_amount(o, 100)) == o["order_facts"]  # by amount: every line


def test_lines_after_a_refund_by_amount_show_only_the_money_left() -> None:
    o = order()
    o = after(o, refunds.by_amount(o, 4900), 0, {})
    r = refunds.by_lines(o, [("t", 1), ("2", 1)])
    shown = refunds.refunded_facts(o, r)["items"]
    # the amount took 98% of every line already: a unit of each gives back what is left of it, within 1.00
    assert sum(i[2] for i in shown) == r.amount_minor <= 100 and [i[3] for i in shown] == [1, 1]


def test_a_full_refund_gives_a_checkout_campaign_its_budget_and_one_use_back_once() -> None:
    from types import SimpleNamespace

    from loyalty.member import CampaignUse

    uses = {"c": CampaignUse(total=3, periods={"2026-12-03": 2, "2026-12-04": 1}), "d": CampaignUse(total=1)}
    change: Any = SimpleNamespace(profile=SimpleNamespace(campaigns=uses))
    taken = {
        "c": {"period": "2026-12-03", "budget": "campaign:c:discount_minor:all", "discount_minor": 700},
        "d": {"period": "campaign"},
        "gone": {"period": "2026-12-03"},  # a campaign the member's uses no longer list: its budget alone
    }
    o = order(checkout_campaigns=taken)
    assert campaigns.checkout_back(change, o, refunds.by_amount(o, 4000).full) is None  # not in full
    full = refunds.by_amount(o, 5000)
    assert campaigns.checkout_back(change, o, full.full) == {"campaign:c:discount_minor:all": 700}
    assert uses["c"] == CampaignUse(total=2, periods={"2026-12-03": 1, "2026-12-04": 1})
    assert uses["d"] == CampaignUse(total=0)
    assert campaigns.checkout_back(change, o | {"checkout_returned": True}, full.full) is None
    assert campaigns.checkout_back(change, order(), full.full) is None  # not a checkout's order


def test_units_give_back_their_part_of_what_is_left_of_their_line_whatever_came_before() -> None:
    def two_lines() -> dict[str, Any]:
        lines = [["a", "", 4000, 4, "1"], ["b", "", 6000, 1, "2"]]
        return {"order_minor": 10000, "refunded_minor": 0, "order_points": 0, "points_reversed": 0} | {
            "order_facts": {"items": lines}
        }

    o, amounts = two_lines(), []
    for step in ([("1", 1)], 1000, [("1", 3)], [("2", 1)]):  # a unit, an amount, the rest of each line
        r = refunds.by_amount(o, step) if isinstance(step, int) else refunds.by_lines(o, step)
        amounts.append(r.amount_minor)
        o = after(o, r, 0, {})
    # the amount took 3.33 of line 1's 30.00 left and 6.67 of line 2: the rest of each is what is left
    assert amounts == [1000, 1000, 2667, 5333] and sum(amounts) == 10000

    one = {"order_minor": 10000, "refunded_minor": 0, "order_points": 0, "points_reversed": 0}
    o, amounts = one | {"order_facts": {"items": [["a", "", 10000, 5, "1"]]}}, []
    for step in (6000, *[[("1", 1)]] * 5):
        r = refunds.by_amount(o, step) if isinstance(step, int) else refunds.by_lines(o, step)
        amounts.append(r.amount_minor)
        o = after(o, r, 0, {})
    assert amounts == [6000, 800, 800, 800, 800, 800]  # each unit a fifth of the 40.00 left
