"""Checkout pricing (rules/checkout.py, rules/distribute.py) and its program document, without AWS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyalty.errors import InsufficientPoints, NotEligible, ProgramInvalid, ValidationFailed
from loyalty.member import Coupon, Profile
from loyalty.program import Program
from loyalty.rules import checkout
from loyalty.rules.checkout import Cart, Held, Item
from loyalty.rules.distribute import proportional
from loyalty.usecases.programs import validate
from tests.support import program

T0 = datetime(2026, 12, 3, 4, tzinfo=UTC)  # noon in Shanghai, a Thursday
LATTE = Item("1", "latte", 2, 3200, "coffee", 2800)


def doc(*campaigns: dict[str, Any], **sections: Any) -> dict[str, Any]:
    d = program("demo")
    d["points"]["value"] = {"points": 100, "worth_minor": 100, "max_order_share_percent": 50}
    d["coupons"]["five-off"] = {"name": "5 off", "kind": "amount_off", "value_minor": 500, "valid_days": 7}
    d["coupons"]["big-spend"] = {
        "name": "20 off 100",
        "kind": "amount_off",
        "value_minor": 2000,
        "min_spend_minor": 10000,
        "valid_days": 7,
    }
    d["coupons"]["tea-10"] = {
        "name": "10% tea",
        "kind": "percent_off",
        "percent_off": 10,
        "min_spend_minor": 1000,
        "valid_days": 7,
        "applies_to": "i.category == 'tea'",
    }
    d["campaigns"] = list(campaigns)
    d.update(sections)
    return d


def campaign(cid: str, *effects: dict[str, Any], **kw: Any) -> dict[str, Any]:
    return {"id": cid, "name": cid, "trigger": "checkout", "effects": list(effects), **kw}


MEMBER_PRICE = campaign("members", {"member_price": True})
GOLD_95 = campaign("gold-95", {"percent_off": 5}, when="member.tier == 'gold'")
TEA_WEEK = campaign("tea-week", {"amount_off_minor": 300}, when="order.items.exists(i, i.category == 'tea')")


def member(tier: str = "gold", points: int = 3000, **kw: Any) -> Profile:
    return Profile(
        program_id="p",
        member_id="m",
        enrolled_at=T0 - timedelta(days=40),
        tier_id=tier,
        buckets={"2027-12-31": points} if points else {},
        **kw,
    )


def coupon(cid: str, template: str = "five-off", **kw: Any) -> Coupon:
    t = doc()["coupons"][template]
    fields = {k: t[k] for k in ("kind", "value_minor", "min_spend_minor", "percent_off", "max_off_minor") if k in t}
    return Coupon(
        **(
            {
                "coupon_id": cid,
                "template_id": template,
                "name": t["name"],
                "valid_from": T0 - timedelta(days=1),
                "valid_until": T0 + timedelta(days=6),
                "source": "test",
            }
            | fields
            | kw
        )
    )


def price(
    d: dict[str, Any],
    items: list[Item],
    coupons: list[Coupon] = (),  # type: ignore[assignment]
    points: int = 0,
    profile: Profile | None = None,
    held: Held | None = None,
    at: datetime = T0,
    **cart: Any,
) -> checkout.Priced:
    return checkout.price(
        Program.model_validate(d),
        profile or member(),
        Cart(items, coupon_ids=[c.coupon_id for c in coupons], **cart),
        {c.coupon_id: c for c in coupons},
        points,
        at,
        held,
    )


def lines(priced: checkout.Priced) -> list[tuple[str, int, list[tuple[str, int]]]]:
    return [(ln.item.line_id, ln.payable_minor, ln.discounts) for ln in priced.lines]


def test_the_contracts_example_response_is_reproduced_exactly() -> None:
    d = doc(MEMBER_PRICE, GOLD_95, TEA_WEEK)
    priced = price(d, [LATTE], [coupon("cpn-1"), coupon("cpn-2", "big-spend")], points=500)
    assert priced.view() == {
        "lines": [
            {
                "line_id": "1",
                "sku": "latte",
                "quantity": 2,
                "unit_price_minor": 3200,
                "amount_minor": 6400,
                "discounts": [
                    {"source": "member_price", "amount_minor": 800},
                    {"source": "campaign:gold-95", "amount_minor": 280},
                    {"source": "coupon:cpn-1", "amount_minor": 500},
                    {"source": "points", "amount_minor": 500},
                ],
                "payable_minor": 4320,
            }
        ],
        "subtotal_minor": 6400,
        "discount_minor": 2080,
        "points_used": 500,
        "points_value_minor": 500,
        "total_minor": 4320,
        "points_usable_max": 2410,
        "coupons": [
            {"coupon_id": "cpn-1", "applied": True, "discount_minor": 500},
            {"coupon_id": "cpn-2", "applied": False, "reason": "below the minimum spend of the lines it applies to"},
        ],
        "campaigns": [{"campaign_id": "gold-95", "discount_minor": 280}],
        "campaigns_skipped": [{"campaign_id": "tea-week", "reason": "condition not met"}],
        "gifts": [],
    }
    assert checkout.view_sources(priced.view()) == {
        "member_price": 800,
        "campaigns": 280,
        "coupons": 500,
        "points": 500,
    }
    assert checkout.paid_items(priced)[0]["amount_minor"] == 4320


def test_a_member_price_applies_only_through_a_campaign_and_first_whatever_its_priority() -> None:
    cake = Item("2", "cake", 1, 1000, "cake", 900)
    assert lines(price(doc(), [LATTE, cake])) == [("1", 6400, []), ("2", 1000, [])]
    late = campaign("members", {"member_price": True, "on_items": "i.category == 'coffee'"}, priority=-5)
    priced = price(doc(campaign("off", {"percent_off": 10}, priority=5), late), [LATTE, cake])
    # 5600 after the member price, then 10%: the member price was taken first despite its priority
    assert lines(priced) == [
        ("1", 5040, [("member_price", 800), ("campaign:off", 560)]),
        ("2", 900, [("campaign:off", 100)]),
    ]


def test_percent_off_per_line_rounded_down_and_capped_by_max_off() -> None:
    items = [Item("1", "a", 1, 999), Item("2", "b", 3, 333)]
    assert lines(price(doc(campaign("p", {"percent_off": 5})), items)) == [
        ("1", 950, [("campaign:p", 49)]),
        ("2", 950, [("campaign:p", 49)]),
    ]
    capped = price(doc(campaign("p", {"percent_off": 50, "max_off_minor": 301})), items)
    assert [ln.discounts for ln in capped.lines] == [[("campaign:p", 151)], [("campaign:p", 150)]]
    assert capped.campaigns == [{"campaign_id": "p", "discount_minor": 301}]


def test_amount_off_is_spread_in_proportion_with_the_remainder_on_the_dearest_line() -> None:
    items = [Item("1", "a", 1, 1000), Item("2", "b", 1, 2000), Item("3", "c", 1, 2000), Item("4", "d", 1, 0)]
    priced = price(doc(campaign("a", {"amount_off_minor": 1001, "on_items": "i.sku != 'a'"})), items)
    # b and c cost the same: 500 each, the remainder on the first of the two
    assert [ln.payable_minor for ln in priced.lines] == [1000, 1499, 1500, 0]
    over = price(doc(campaign("a", {"amount_off_minor": 99999})), items)
    assert over.total_minor == 0 and over.campaigns == [{"campaign_id": "a", "discount_minor": 5000}]


def test_buy_3_pay_2_frees_the_cheapest_unit_of_each_full_group() -> None:
    d = doc(campaign("b3p2", {"free_units": {"buy": 2, "get": 1}, "on_items": "i.category == 'tea'"}))
    items = [Item("1", "oolong", 2, 3000, "tea"), Item("2", "green", 2, 2000, "tea"), Item("3", "cake", 1, 100, "cake")]
    # tea units dearest first: 3000 3000 2000 | 2000: one full group, its cheapest (2000) free
    assert lines(price(d, items)) == [("1", 6000, []), ("2", 2000, [("campaign:b3p2", 2000)]), ("3", 100, [])]
    six = price(d, [Item("1", "oolong", 7, 3000, "tea")])
    assert six.lines[0].discounts == [("campaign:b3p2", 6000)]  # 7 units: two full groups


def test_second_half_price_on_what_the_units_still_cost() -> None:
    d = doc(MEMBER_PRICE, campaign("half", {"free_units": {"buy": 1, "get": 1, "percent_off": 50}}))
    priced = price(d, [Item("1", "shoe", 2, 1001, "", 901), Item("2", "sock", 1, 500)])
    # shoes at 901 a unit after the member price: dearest first 901, 901 | 500; the second shoe half price
    assert lines(priced) == [("1", 1352, [("member_price", 200), ("campaign:half", 450)]), ("2", 500, [])]


def test_gift_items_are_listed_for_the_till() -> None:
    gift = campaign(
        "cookie",
        {"gift_items": [{"sku": "cookie", "quantity": 1}]},
        when="order.items.exists(i, i.sku == 'latte' && i.quantity >= 2)",
    )
    priced = price(doc(gift), [LATTE])
    assert priced.gifts == [{"sku": "cookie", "quantity": 1, "campaign_id": "cookie"}]
    assert priced.campaigns == [{"campaign_id": "cookie", "discount_minor": 0}] and priced.total_minor == 6400
    assert price(doc(gift), [Item("1", "latte", 1, 3200)]).gifts == []


def test_an_exclusive_campaign_stops_lower_ones_and_limits_and_budgets_are_inputs() -> None:
    top = campaign("top", {"percent_off": 10}, priority=10, exclusive=True, when="member.tier == 'gold'")
    low = campaign("low", {"amount_off_minor": 100})
    priced = price(doc(top, low), [Item("1", "a", 1, 1000)])
    assert priced.campaigns == [{"campaign_id": "top", "discount_minor": 100}]
    assert priced.campaigns_skipped == [{"campaign_id": "low", "reason": "excluded by top"}]
    assert price(doc(top, low), [Item("1", "a", 1, 1000)], profile=member("star")).campaigns == [
        {"campaign_id": "low", "discount_minor": 100}
    ]
    budget = Held(budgets_left={"top": 30})
    assert price(doc(top, low), [Item("1", "a", 1, 1000)], held=budget).total_minor == 970
    spent = price(doc(top, low), [Item("1", "a", 1, 1000)], held=Held(budgets_left={"top": 0}))
    assert spent.campaigns_skipped[0] == {"campaign_id": "top", "reason": "budget spent"}
    once = campaign("once", {"amount_off_minor": 100}, limits={"per_member": {"count": 1, "per": "campaign"}})
    used = member(campaigns={"once": {"total": 1, "periods": {"campaign": 1}}})
    assert price(doc(once), [Item("1", "a", 1, 1000)], profile=used).campaigns_skipped == [
        {"campaign_id": "once", "reason": "limit reached"}
    ]


def test_coupons_apply_in_the_order_sent_or_say_why_not() -> None:
    d = doc()
    tea, cake = Item("1", "oolong", 1, 1500, "tea"), Item("2", "cake", 1, 3000, "cake")
    later = T0 + timedelta(days=1)
    sent = [
        coupon("tea", "tea-10"),
        coupon("used", status="used"),
        coupon("old", valid_until=T0 - timedelta(seconds=1)),
        coupon("soon", valid_from=later),
        coupon("held"),
        coupon("dine", scene="dine_in"),
        coupon("five"),
    ]
    priced = price(d, [tea, cake], sent, held=Held(coupon_ids=frozenset({"held"})), scene="takeaway")
    assert [(c["coupon_id"], c.get("reason") or c["discount_minor"]) for c in priced.coupons] == [
        ("tea", 150),
        ("used", "used"),
        ("old", "expired"),
        ("soon", "not yet valid"),
        ("held", "held by another open checkout"),
        ("dine", "for dine_in orders only"),
        ("five", 500),
    ]
    assert lines(priced) == [
        ("1", 1195, [("coupon:tea", 150), ("coupon:five", 155)]),  # 500 x 1350 / 4350, rounded down
        ("2", 2655, [("coupon:five", 345)]),  # 344, and the remainder: the dearest line
    ]
    nothing = price(d, [cake], [coupon("tea", "tea-10")]).coupons
    assert nothing == [{"coupon_id": "tea", "applied": False, "reason": "no line it applies to"}]
    # min_spend counts the matching lines at what they still cost: 1500 less 600 is under 1000
    cut = price(doc(campaign("p", {"percent_off": 40})), [tea, cake], [coupon("tea", "tea-10")])
    assert cut.coupons[0]["reason"] == "below the minimum spend of the lines it applies to"


def test_unknown_or_repeated_coupons_and_bad_lines_are_refused_naming_each_field() -> None:
    with pytest.raises(ValidationFailed) as refused:
        checkout.price(
            Program.model_validate(doc()),
            member(),
            Cart([Item("1", "a", 1, 100, "", 200), Item("1", "b", 0, 100)], coupon_ids=["x", "c", "c"]),
            {"c": coupon("c")},
            0,
            T0,
        )
    assert [d["field"] for d in refused.value.details] == [
        "items[0].member_price_minor",
        "items[1].line_id",
        "items[1].quantity",
        "coupon_ids[0]",
        "coupon_ids[2]",
    ]


def test_points_are_capped_by_the_share_of_what_is_left_and_by_the_balance_not_held() -> None:
    items = [Item("1", "a", 1, 1000)]
    assert price(doc(), items, points=500).total_minor == 500
    with pytest.raises(ValidationFailed) as over:
        price(doc(), items, points=501)
    assert over.value.details == [
        {
            "field": "points_to_use",
            "message": "at most 500 points on this cart (50% of what is left to pay)",
            "max": 500,
        }
    ]
    with pytest.raises(InsufficientPoints):
        price(doc(), items, points=300, profile=member(points=400), held=Held(points=200))
    assert price(doc(), items, profile=member(points=400), held=Held(points=200)).points_usable_max == 200
    # 3 points are worth 1.00: 10 points buy 3 minor units and cost 9 (only what buys the money off)
    d = doc()
    d["points"]["value"] = {"points": 3, "worth_minor": 1}
    odd = price(d, items, points=10)
    assert (odd.points_used, odd.points_value_minor, odd.total_minor) == (9, 3, 997)


def test_a_restricted_item_is_for_its_members_until_its_early_access_ends() -> None:
    rule = {
        "id": "jade-only",
        "on_items": "i.sku == 'jade-tea'",
        "who": "member.tier == 'jade'",
        "until": "2026-12-05T00:00:00",
    }
    d = doc(pricing={"restricted": [rule]})
    cart = [Item("1", "latte", 1, 3200), Item("2", "jade-tea", 1, 9000)]
    with pytest.raises(NotEligible) as refused:
        price(d, cart)
    assert refused.value.code == "not_eligible" and refused.value.status == 409
    assert refused.value.details == [{"field": "items[1]", "message": "not available to this member"}]
    assert price(d, cart, profile=member("jade")).total_minor == 12200
    # `until` without an offset is in the program's time zone (Shanghai): open to all from then on
    assert price(d, cart, at=datetime(2026, 12, 4, 16, tzinfo=UTC)).total_minor == 12200
    with pytest.raises(NotEligible):
        price(d, cart, at=datetime(2026, 12, 4, 15, 59, tzinfo=UTC))


def test_a_checkout_campaign_sees_prices_in_its_facts() -> None:
    d = doc(campaign("mp", {"percent_off": 10, "on_items": "i.member_price_minor < i.unit_price_minor"}))
    priced = price(d, [LATTE, Item("2", "cake", 1, 1000)])
    assert [ln.payable_minor for ln in priced.lines] == [5760, 1000]


# ---- the distributor --------------------------------------------------------------------------------


def test_the_remainder_goes_to_the_dearest_line_within_its_weight() -> None:
    assert proportional(3, [2, 1, 1]) == [2, 1, 0]
    assert proportional(10, [5, 5]) == [5, 5]
    assert proportional(7, [0, 0]) == [0, 0]


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 10**12), st.lists(st.integers(0, 10**9), min_size=1, max_size=100))
def test_shares_sum_exactly_and_stay_within_their_lines(amount: int, weights: list[int]) -> None:
    shares = proportional(amount, weights)
    assert sum(shares) == min(amount, sum(weights))
    assert all(0 <= s <= w for s, w in zip(shares, weights, strict=True))


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 20), st.integers(0, 50_000)), min_size=1, max_size=20),
    st.integers(0, 100_000),
    st.integers(1, 100),
)
def test_priced_lines_sum_to_the_totals_and_no_line_goes_below_zero(
    lines_: list[tuple[int, int]], amount_off: int, percent: int
) -> None:
    d = doc(
        campaign("p", {"percent_off": percent}, priority=2),
        campaign("b", {"free_units": {"buy": 2, "get": 1}}, priority=1),
        campaign("a", {"amount_off_minor": amount_off or 1}),
    )
    items = [Item(str(k), f"s{k}", q, u) for k, (q, u) in enumerate(lines_)]
    priced = price(d, items, [coupon("c")])
    view = priced.view()
    for ln in view["lines"]:
        assert ln["payable_minor"] == ln["amount_minor"] - sum(x["amount_minor"] for x in ln["discounts"]) >= 0
    assert view["total_minor"] == sum(ln["payable_minor"] for ln in view["lines"])
    assert view["discount_minor"] == view["subtotal_minor"] - view["total_minor"]


# ---- the program document -----------------------------------------------------------------------------


def fields(d: dict[str, Any]) -> list[str]:
    with pytest.raises(ProgramInvalid) as refused:
        validate(d)
    return [p["field"] for p in refused.value.details]


def test_put_refuses_discounts_off_checkout_and_points_on_it_naming_the_field() -> None:
    wrong = doc(
        {"id": "x", "name": "x", "trigger": "purchase", "effects": [{"points": 1}, {"percent_off": 5}]},
        campaign("y", {"amount_off_minor": 100}, {"points": 10}, {"multiply_points": 2}),
        campaign("z", {"percent_off": 5}, limits={"budget": {"points": 10}}),
    )
    assert fields(wrong) == [
        "campaigns[0].effects[1].percent_off",
        "campaigns[1].effects[1].points",
        "campaigns[1].effects[2].multiply_points",
        "campaigns[2].limits.budget",
    ]
    assert fields(doc(campaign("m", {"max_off_minor": 5, "amount_off_minor": 5}))) == ["campaigns[0].effects[0]"]
    ok = doc(
        MEMBER_PRICE,
        GOLD_95,
        campaign("b", {"free_units": {"buy": 1, "get": 1, "percent_off": 50}, "on_items": "i.unit_price_minor > 0"}),
        campaign("g", {"gift_items": [{"sku": "cookie"}]}, limits={"budget": {"discount_minor": 10000}}),
    )
    assert validate(ok).campaigns[3].limits.budget.discount_minor == 10000  # type: ignore[union-attr]


def test_put_checks_applies_to_and_restricted_expressions() -> None:
    d = doc(pricing={"restricted": [{"id": "r", "on_items": "i.skus == 'x'", "who": "order.amount_minor > 1"}]})
    d["coupons"]["five-off"]["applies_to"] = "i.category"
    assert fields(d) == [
        "coupons.five-off.applies_to",
        "pricing.restricted[0].on_items",
        "pricing.restricted[0].who",
    ]
    d = doc(pricing={"restricted": [{"id": "r", "on_items": "i.sku == 'x'", "who": "member.tier == 'jade'"}] * 2})
    assert fields(d) == ["pricing.restricted[1].id"]
    d["pricing"]["restricted"] = d["pricing"]["restricted"][:1]
    assert validate(d).pricing.hold_minutes == 15


def test_a_campaign_reads_its_own_uses_by_this_member() -> None:
    first = campaign("first", {"amount_off_minor": 100}, when="campaign.uses_by_member == 0")
    assert price(doc(first), [Item("1", "a", 1, 1000)]).total_minor == 900
    used = member(campaigns={"first": {"total": 1, "periods": {"campaign": 1}}})
    assert price(doc(first), [Item("1", "a", 1, 1000)], profile=used).campaigns_skipped == [
        {"campaign_id": "first", "reason": "condition not met"}
    ]


def test_put_bounds_the_work_of_the_checkouts_own_expressions() -> None:
    heavy = "order.items.exists(j, order.items.exists(k, j.sku + k.sku == i.sku))"
    rule = {"on_items": "i.sku == 'x'", "who": "member.tier == 'jade'"}
    d = doc(pricing={"restricted": [{"id": f"r{k}", **rule} for k in range(2)]})
    d["coupons"]["five-off"]["applies_to"] = heavy
    found = fields(d)
    assert found and all(f.startswith(("coupons.", "pricing.")) for f in found)
    d["coupons"]["five-off"]["applies_to"] = "i.category == 'tea'"
    assert validate(d).pricing.restricted[1].id == "r1"


def test_a_cart_no_order_could_pay_is_refused_naming_items() -> None:
    big = [Item(str(k), "gold-bar", 10**6, 10**6) for k in range(3)]  # each line 10^12, the cart 3 x 10^12
    with pytest.raises(ValidationFailed) as refused:
        checkout.check_cart(Cart(big), {})
    assert refused.value.details == [{"field": "items", "message": "the cart's subtotal is over 1000000000000"}]
