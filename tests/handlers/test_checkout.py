"""Checkouts through the real handlers (moto): issue 29's bad input, the contract's statuses, its
walk-through with every number checked by hand, limits, budgets and gifts (API.md "Checkout")."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from loyalty import clock, runtime
from tests.handlers.conftest import Api
from tests.handlers.test_api import assert_error
from tests.support import load_function, program

T0 = datetime(2026, 12, 3, 4, tzinfo=UTC)  # noon in Shanghai, a Thursday (no member day)
P = "/programs/shop"
M = f"{P}/members/m1"
LATTE = {"line_id": "1", "sku": "latte", "category": "coffee", "quantity": 2, "unit_price_minor": 3200}
TEA = {"line_id": "2", "sku": "longjing", "category": "tea", "quantity": 1, "unit_price_minor": 5000}


def campaign(cid: str, *effects: dict[str, Any], **kw: Any) -> dict[str, Any]:
    return {"id": cid, "name": cid, "trigger": "checkout", "effects": list(effects), **kw}


def shop_doc(*campaigns: dict[str, Any]) -> dict[str, Any]:
    d = program("demo")
    d["points"]["value"] = {"points": 100, "worth_minor": 100, "max_order_share_percent": 50}
    d["coupons"]["tea-10"] = {
        "name": "10% off tea",
        "kind": "percent_off",
        "percent_off": 10,
        "min_spend_minor": 1000,
        "valid_days": 7,
        "applies_to": "i.category == 'tea'",
    }
    d["coupons"]["cake-5"] = {
        "name": "5 off cake",
        "kind": "amount_off",
        "value_minor": 500,
        "valid_days": 7,
        "applies_to": "i.category == 'cake'",
    }
    for template in ("tea-10", "cake-5"):
        d["rewards"].append({"id": template, "name": template, "cost_points": 10, "grant": {"coupons": [template]}})
    d["campaigns"] = [
        campaign("members", {"member_price": True}),
        campaign("gold-95", {"percent_off": 5}, when="member.tier == 'gold'"),
        *campaigns,
    ]
    d["pricing"] = {
        "restricted": [
            {
                "id": "jade",
                "on_items": "i.sku == 'jade-cup'",
                "who": "member.tier == 'diamond'",
                "until": "2026-12-10T00:00:00",
            }
        ]
    }
    return d


@pytest.fixture
def now(api: Api, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[datetime]]:
    """The handlers' clock, pinned at T0 (`now[0] = ...` moves it); the checkout function loaded."""
    pinned = [T0]
    monkeypatch.setattr(clock, "now", lambda: pinned[0])
    api.handlers["checkout"] = load_function("checkout").handler
    yield pinned


def setup(api: Api, doc: dict[str, Any], members: tuple[str, ...] = ("m1",)) -> None:
    status, body = api.call("programs", "PUT", P, doc)
    assert status == 200, body
    for m in members:
        assert api.call("enrol", "POST", f"{P}/members", {"member_id": m})[0] == 201
        # 1,000.00 makes the member gold (and gives it points to pay with)
        status, body = api.call(
            "earn", "POST", f"{P}/members/{m}/purchases", {"order_id": f"o0-{m}", "amount_minor": 100000}
        )
        assert status == 201 and body["tier"] == "gold", body


@pytest.fixture
def shop(api: Api, now: list[datetime]) -> Api:
    setup(api, shop_doc(), ("m1", "m2"))
    return api


def coupon_of(api: Api, template: str, member: str = "m1") -> str:
    """A fresh coupon of the template for the member (the program's reward of 10 points gives it)."""
    rid = f"r-{template}-{len(api.call('members', 'GET', f'{P}/members/{member}/coupons')[1]['coupons'])}"
    status, body = api.call(
        "redeem", "POST", f"{P}/members/{member}/redemptions", {"redemption_id": rid, "reward_id": template}
    )
    assert status == 201, body
    return body["coupons"][0]["coupon_id"]


def welcome(api: Api, member: str = "m1") -> str:
    wallet = api.call("members", "GET", f"{P}/members/{member}/coupons")[1]["coupons"]
    return next(c["coupon_id"] for c in wallet if c["template_id"] == "welcome-10")


def put(api: Api, cid: str, body: dict[str, Any], member: str = "m1") -> tuple[int, Any]:
    return api.call("checkout", "PUT", f"{P}/members/{member}/checkouts/{cid}", body)


def confirm(api: Api, cid: str, order_id: str, paid: int, member: str = "m1") -> tuple[int, Any]:
    body = {"order_id": order_id, "amount_paid_minor": paid}
    return api.call("checkout", "POST", f"{P}/members/{member}/checkouts/{cid}/confirm", body)


def cancel(api: Api, cid: str) -> tuple[int, Any]:
    return api.call("checkout", "POST", f"{M}/checkouts/{cid}/cancel", {})


def view(api: Api, member: str = "m1") -> dict[str, Any]:
    status, body = api.call("members", "GET", f"{P}/members/{member}")
    assert status == 200, body
    return body


def held(api: Api) -> int:
    return view(api)["points"]["held"]


def usable(api: Api, coupon_id: str, order_id: str) -> tuple[int, Any]:
    """Uses the coupon on an order of 100.00 (a test of whether anything holds it), its lines in every
    category the tests' coupons apply to (`applies_to` needs the lines at the till)."""
    lines = [
        {"sku": f"probe-{c}", "category": c, "amount_minor": 2000} for c in ("coffee", "tea", "cake", "bakery", "beans")
    ]
    body = {"order_id": order_id, "order_amount_minor": 10000, "items": lines}
    return api.call("redeem", "POST", f"{M}/coupons/{coupon_id}/use", body)


def nothing_held(api: Api, coupon_id: str) -> None:
    assert held(api) == 0
    status, body = usable(api, coupon_id, f"probe-{coupon_id}")
    assert status == 200, body


# ---- bad input: a 4xx naming the field, nothing held ------------------------------------------------


def lines(n: int) -> list[dict[str, Any]]:
    return [{"line_id": str(k), "sku": "latte", "quantity": 1, "unit_price_minor": 100} for k in range(n)]


BAD: list[tuple[str, dict[str, Any], int, str, str]] = [
    (
        "member price over the unit price",
        {"items": [{**TEA, "member_price_minor": 5001}]},
        422,
        "validation_error",
        "items[0].member_price_minor",
    ),
    ("duplicate line_id", {"items": [LATTE, {**TEA, "line_id": "1"}]}, 422, "validation_error", "items[1].line_id"),
    ("more than 100 lines", {"items": lines(101)}, 422, "validation_error", "items"),
    ("quantity 0", {"items": [{**TEA, "quantity": 0}]}, 422, "validation_error", "items[0].quantity"),
    (
        "unit price over 10^12",
        {"items": [{**TEA, "unit_price_minor": 10**12 + 1}]},
        422,
        "validation_error",
        "items[0].unit_price_minor",
    ),
    (
        "a line over 10^12",
        {"items": [{**TEA, "unit_price_minor": 10**11, "quantity": 11}]},
        422,
        "validation_error",
        "items[0].quantity",
    ),
    ("an unknown field", {"items": [TEA], "coupon": "x"}, 422, "validation_error", "coupon"),
    ("an unknown field on a line", {"items": [{**TEA, "price": 1}]}, 422, "validation_error", "items[0].price"),
    ("an unknown coupon", {"items": [TEA], "coupon_ids": ["nope"]}, 422, "validation_error", "coupon_ids[0]"),
    (
        "a restricted line",
        {"items": [TEA, {**TEA, "line_id": "3", "sku": "jade-cup"}]},
        409,
        "not_eligible",
        "items[1]",
    ),
]


@pytest.mark.parametrize(("case", "body", "status", "code", "field"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_names_the_field_and_holds_nothing(
    shop: Api, case: str, body: dict[str, Any], status: int, code: str, field: str
) -> None:
    cpn = welcome(shop)
    body = {**body, "coupon_ids": body.get("coupon_ids", [cpn]), "points_to_use": 100}
    assert_error(*put(shop, "c1", body), status, code, field)
    assert shop.call("checkout", "GET", f"{M}/checkouts/c1")[0] == 404  # nothing written
    nothing_held(shop, cpn)


def test_a_coupon_of_another_member_is_unknown_here(shop: Api) -> None:
    theirs = welcome(shop, "m2")
    assert_error(*put(shop, "c1", {"items": [TEA], "coupon_ids": [theirs]}), 422, "validation_error", "coupon_ids[0]")
    assert (
        shop.call("checkout", "PUT", f"{P}/members/m2/checkouts/c1", {"items": [TEA], "coupon_ids": [theirs]})[0] == 200
    )


def test_points_over_the_cap_or_the_balance(shop: Api) -> None:
    cpn = welcome(shop)
    cheap = {**TEA, "unit_price_minor": 2000}
    status, priced = shop.call("checkout", "PUT", f"{M}/checkouts/c0/preview", {"items": [cheap]})
    assert status == 200 and priced["points_usable_max"] == 950  # 50% of 19.00 (gold's 5% off), 1 point a fen
    status, body = put(shop, "c1", {"items": [cheap], "coupon_ids": [cpn], "points_to_use": 951})
    assert_error(status, body, 422, "validation_error", "points_to_use")
    assert body["error"]["details"][0]["max"] == 950
    balance = view(shop)["points"]["balance"]
    big = {**TEA, "unit_price_minor": 10**9}
    assert_error(
        *put(shop, "c1", {"items": [big], "coupon_ids": [cpn], "points_to_use": balance + 1}),
        409,
        "insufficient_points",
    )
    nothing_held(shop, cpn)


def test_points_held_by_another_checkout_are_not_free(shop: Api) -> None:
    balance = view(shop)["points"]["balance"]
    big = {**TEA, "unit_price_minor": 10**9}
    assert put(shop, "c1", {"items": [big], "points_to_use": balance - 10})[0] == 200
    assert held(shop) == balance - 10
    assert_error(*put(shop, "c2", {"items": [big], "points_to_use": 11}), 409, "insufficient_points")
    assert put(shop, "c2", {"items": [big], "points_to_use": 10})[0] == 200
    # nor can a redemption or a deduction take them
    redeem = {"redemption_id": "r1", "reward_id": "tea-10"}
    assert_error(*shop.call("redeem", "POST", f"{M}/redemptions", redeem), 409, "insufficient_points", "reward_id")
    deduct = {"redemption_id": "r2", "deduction": {"order_id": "d1", "order_amount_minor": 10**6, "points": 1}}
    refused = shop.call("redeem", "POST", f"{M}/redemptions", deduct)
    assert_error(*refused, 409, "insufficient_points", "deduction.points")
    assert cancel(shop, "c2")[0] == 200
    assert shop.call("redeem", "POST", f"{M}/redemptions", redeem)[0] == 201


def test_unknown_member_is_404(shop: Api) -> None:
    assert_error(*put(shop, "c1", {"items": [TEA]}, member="ghost"), 404, "not_found")
    ghost = f"{P}/members/ghost/checkouts/c1"
    assert_error(*shop.call("checkout", "GET", ghost), 404, "not_found")
    assert_error(*shop.call("checkout", "PUT", f"{ghost}/preview", {"items": [TEA]}), 404, "not_found")
    assert_error(*shop.call("checkout", "POST", f"{ghost}/cancel", {}), 404, "not_found")
    assert_error(*confirm(shop, "c1", "o1", 1, member="ghost"), 404, "not_found")
    assert_error(*shop.call("checkout", "PUT", f"{P}/me/checkouts/c1", {"items": [TEA]}, sub="ghost"), 404, "not_found")
    assert_error(
        *shop.call("checkout", "PUT", "/programs/nope/me/checkouts/c1", {"items": [TEA]}, sub="m1"), 404, "not_found"
    )


def test_early_access_is_open_after_until(shop: Api, now: list[datetime]) -> None:
    jade = {**TEA, "sku": "jade-cup"}
    assert_error(*put(shop, "c1", {"items": [jade]}), 409, "not_eligible", "items[0]")
    now[0] = datetime(2026, 12, 9, 16, tzinfo=UTC)  # 10 December, midnight in Shanghai
    assert put(shop, "c1", {"items": [jade]})[0] == 200


# ---- statuses -----------------------------------------------------------------------------------------


def test_get_shows_expired_and_nothing_held_without_any_write(shop: Api, now: list[datetime]) -> None:
    cpn = welcome(shop)
    status, opened = put(shop, "c1", {"items": [LATTE], "coupon_ids": [cpn], "points_to_use": 100})
    assert status == 200 and opened["status"] == "open" and opened["coupons"][0]["applied"], opened
    assert held(shop) == 100
    assert_error(*usable(shop, cpn, "o-held"), 409, "coupon_unavailable")
    now[0] = T0 + timedelta(minutes=15)
    status, got = shop.call("checkout", "GET", f"{M}/checkouts/c1")
    assert status == 200 and got["status"] == "expired"
    nothing_held(shop, cpn)  # the coupon is used here: a write after the expiry, which drops the hold
    assert shop.call("checkout", "GET", f"{M}/checkouts/c1")[1]["status"] == "expired"
    assert_error(*confirm(shop, "c1", "o1", opened["total_minor"]), 409, "checkout_expired")
    assert held(shop) == 0


def test_a_put_replaces_the_holds(shop: Api) -> None:
    cpn = welcome(shop)
    assert put(shop, "c1", {"items": [LATTE], "coupon_ids": [cpn], "points_to_use": 300})[0] == 200
    assert held(shop) == 300
    status, body = put(shop, "c1", {"items": [LATTE], "points_to_use": 200})
    assert status == 200 and body["coupons"] == [] and held(shop) == 200
    assert usable(shop, cpn, "o-free")[0] == 200  # the coupon dropped from the cart is free again


def test_closed_checkouts(shop: Api) -> None:
    assert put(shop, "c1", {"items": [LATTE], "points_to_use": 100})[0] == 200
    assert cancel(shop, "c1") == (200, {"checkout_id": "c1", "status": "cancelled"})
    assert held(shop) == 0
    assert cancel(shop, "c1") == (200, {"checkout_id": "c1", "status": "cancelled"})
    assert_error(*put(shop, "c1", {"items": [LATTE]}), 409, "checkout_closed")
    assert_error(*confirm(shop, "c1", "o1", 1), 409, "checkout_closed")
    assert shop.call("checkout", "GET", f"{M}/checkouts/c1")[1]["status"] == "cancelled"

    status, opened = put(shop, "c2", {"items": [LATTE]})
    assert status == 200
    status, done = confirm(shop, "c2", "o2", opened["total_minor"])
    assert status == 201, done
    assert confirm(shop, "c2", "o2", opened["total_minor"]) == (200, done)  # a repeat: the same body
    assert_error(*cancel(shop, "c2"), 409, "checkout_closed")
    assert_error(*put(shop, "c2", {"items": [LATTE]}), 409, "checkout_closed")
    got = shop.call("checkout", "GET", f"{M}/checkouts/c2")[1]
    assert got["status"] == "confirmed" and got["order_id"] == "o2"


def test_confirm_with_a_wrong_amount_is_changed_with_the_new_pricing(shop: Api) -> None:
    status, opened = put(shop, "c1", {"items": [LATTE], "points_to_use": 100})
    assert status == 200
    before = shop.items()
    status, body = confirm(shop, "c1", "o1", opened["total_minor"] + 1)
    assert_error(status, body, 409, "checkout_changed", "amount_paid_minor")
    detail = body["error"]["details"][0]
    assert detail["total_minor"] == opened["total_minor"] and detail["checkout"]["lines"] == opened["lines"]
    assert shop.items() == before and held(shop) == 100  # nothing written


def test_an_order_id_used_by_a_plain_purchase_first_is_a_conflict(shop: Api) -> None:
    status, opened = put(shop, "c1", {"items": [LATTE]})
    assert status == 200
    assert shop.call("earn", "POST", f"{M}/purchases", {"order_id": "o1", "amount_minor": 500})[0] == 201
    assert_error(*confirm(shop, "c1", "o1", opened["total_minor"]), 409, "idempotency_conflict")
    assert shop.call("checkout", "GET", f"{M}/checkouts/c1")[1]["status"] == "open"


def test_previews_hold_nothing(shop: Api) -> None:
    cpn = welcome(shop)
    body = {"items": [LATTE], "coupon_ids": [cpn], "points_to_use": 100}
    before = shop.items()
    status, server = shop.call("checkout", "PUT", f"{M}/checkouts/c1/preview", body)
    assert status == 200 and server["status"] == "preview" and server["expires_at"] is None
    status, mine = shop.call("checkout", "PUT", f"{P}/me/checkouts/c1", body, sub="m1")
    assert status == 200 and mine == server
    assert shop.items() == before and shop.call("checkout", "GET", f"{M}/checkouts/c1")[0] == 404
    nothing_held(shop, cpn)


# ---- the issue's walk-through ------------------------------------------------------------------------


def test_the_walk_through(shop: Api) -> None:
    """A gold member: a latte at a member price and a tea; gold's 5% off; a tea coupon that applies and
    a cake one that does not; 5.00 in points; confirm; then a refund of the tea's line."""
    tea10, cake5 = coupon_of(shop, "tea-10"), coupon_of(shop, "cake-5")
    before = view(shop)["points"]["balance"]  # after the two coupons' 10 points each
    cart = {
        "items": [{**LATTE, "member_price_minor": 2800}, TEA],
        "coupon_ids": [tea10, cake5],
        "points_to_use": 500,
    }
    status, c = put(shop, "c1", cart)
    assert status == 200, c
    # member price: the latte 2 x (3200 - 2800) = 800 off -> 5600; the tea 5000
    # gold-95: 5% of what is left, rounded down: 280 -> 5320, 250 -> 4750
    # tea-10: 10% of the tea's 4750 (over its min spend of 10.00) = 475 -> 4275; cake-5: no cake
    # points: 500 points = 5.00 over 5320 + 4275 = 9595: 277.2 and 222.8 rounded down, the odd 1 on the
    # latte (it costs most): 278 -> 5042, 222 -> 4053
    assert [(ln["line_id"], ln["discounts"], ln["payable_minor"]) for ln in c["lines"]] == [
        (
            "1",
            [
                {"source": "member_price", "amount_minor": 800},
                {"source": "campaign:gold-95", "amount_minor": 280},
                {"source": "points", "amount_minor": 278},
            ],
            5042,
        ),
        (
            "2",
            [
                {"source": "campaign:gold-95", "amount_minor": 250},
                {"source": f"coupon:{tea10}", "amount_minor": 475},
                {"source": "points", "amount_minor": 222},
            ],
            4053,
        ),
    ]
    assert (c["subtotal_minor"], c["total_minor"], c["discount_minor"]) == (11400, 9095, 11400 - 9095)
    assert c["discount_minor"] == 800 + 530 + 475 + 500
    assert (c["points_used"], c["points_value_minor"]) == (500, 500)
    assert c["points_usable_max"] == min(before, (5320 + 4275) // 2)  # 50% of what is left to pay
    assert c["coupons"] == [
        {"coupon_id": tea10, "applied": True, "discount_minor": 475},
        {"coupon_id": cake5, "applied": False, "reason": "no line it applies to"},
    ]
    assert c["campaigns"] == [{"campaign_id": "gold-95", "discount_minor": 530}]
    assert c["points_to_earn"] == 9095 * 12 // 1000 == 109  # 1 point a 1.00 paid in money, gold x1.2, rounded once
    assert held(shop) == 500
    assert_error(*usable(shop, tea10, "o-x"), 409, "coupon_unavailable")
    assert usable(shop, cake5, "o-y")[0] == 200  # not applied, so not held

    status, done = confirm(shop, "c1", "order-1", 9095)
    assert status == 201, done
    assert done["points_earned"] == c["points_to_earn"] and done["order_id"] == "order-1"
    assert done["checkout"]["status"] == "confirmed" and done["checkout"]["lines"] == c["lines"]
    after = view(shop)["points"]
    assert (after["balance"], after["held"]) == (before - 500 + 109, 0)
    wallet = {x["coupon_id"]: x["status"] for x in shop.call("members", "GET", f"{M}/coupons")[1]["coupons"]}
    assert wallet[tea10] == "used"
    ledger = shop.call("members", "GET", f"{M}/ledger")[1]["entries"]
    assert any(e["type"] == "redeem" and e["points"] == -500 and e["ref"] == "checkout:c1" for e in ledger), ledger

    # a refund of the tea line (40.53 of 90.95): 109 x 4053 / 9095 = 48.6 points back, rounded down
    refund = {"refund_id": "rf1", "order_id": "order-1", "amount_minor": 4053}
    status, back = shop.call("earn", "POST", f"{M}/refunds", refund)
    assert status == 201, back
    assert back["points_reversed"] == 109 * 4053 // 9095 == 48
    # and the points it was paid with come back in proportion (issue 30): 500 x 4053 / 9095 = 222.8
    assert (back["points_restored"], back["points_lapsed"]) == (500 * 4053 // 9095, 0) == (222, 0)
    assert back["balance"] == before - 500 + 109 - 48 + 222


# ---- limits, budgets, gifts, the program's checks ----------------------------------------------------


def test_a_per_member_limit_counts_confirmed_checkouts(api: Api, now: list[datetime]) -> None:
    once = campaign("first-5", {"amount_off_minor": 500}, limits={"per_member": {"count": 1, "per": "campaign"}})
    setup(api, shop_doc(once))
    status, first = put(api, "c1", {"items": [LATTE]})
    assert status == 200 and {"campaign_id": "first-5", "discount_minor": 500} in first["campaigns"]
    status, again = put(api, "c2", {"items": [LATTE]})  # not confirmed yet: c1 does not count
    assert {"campaign_id": "first-5", "discount_minor": 500} in again["campaigns"]
    assert confirm(api, "c1", "o1", first["total_minor"])[0] == 201
    status, later = put(api, "c3", {"items": [LATTE]})
    assert {"campaign_id": "first-5", "reason": "limit reached"} in later["campaigns_skipped"]
    status, body = confirm(api, "c2", "o2", again["total_minor"])
    assert_error(status, body, 409, "checkout_changed")
    assert body["error"]["details"][0]["total_minor"] == again["total_minor"] + 500


def test_a_discount_budget_caps_the_money_off(api: Api, now: list[datetime]) -> None:
    capped = campaign("ten-off", {"amount_off_minor": 1000}, limits={"budget": {"discount_minor": 1500}})
    setup(api, shop_doc(capped))
    status, first = put(api, "c1", {"items": [TEA]})
    assert {"campaign_id": "ten-off", "discount_minor": 1000} in first["campaigns"]
    assert confirm(api, "c1", "o1", first["total_minor"])[0] == 201
    status, second = put(api, "c2", {"items": [TEA]})
    assert {"campaign_id": "ten-off", "discount_minor": 500} in second["campaigns"]  # what is left
    assert confirm(api, "c2", "o2", second["total_minor"])[0] == 201
    status, third = put(api, "c3", {"items": [TEA]})
    assert status == 200 and {"campaign_id": "ten-off", "reason": "budget spent"} in third["campaigns_skipped"]


def test_gifts_are_answered_and_recorded_on_the_order(api: Api, now: list[datetime]) -> None:
    cookie = campaign(
        "cookie", {"gift_items": [{"sku": "cookie", "quantity": 1}]}, when="order.items.exists(i, i.sku == 'latte')"
    )
    setup(api, shop_doc(cookie))
    status, priced = put(api, "c1", {"items": [LATTE]})
    assert status == 200 and priced["gifts"] == [{"sku": "cookie", "quantity": 1, "campaign_id": "cookie"}]
    status, done = confirm(api, "c1", "o1", priced["total_minor"])
    assert status == 201 and done["checkout"]["gifts"] == priced["gifts"]
    order = runtime.store().get_ref("shop", "order", "o1")  # test-only inspection: what a refund reads
    assert order is not None and order["gifts"] == priced["gifts"] and order["checkout_id"] == "c1"
    status, none = put(api, "c2", {"items": [TEA]})
    assert none["gifts"] == [] and {"campaign_id": "cookie", "reason": "condition not met"} in none["campaigns_skipped"]


@pytest.mark.parametrize(
    ("trigger", "effect", "field"),
    [
        ("purchase", {"percent_off": 5}, "campaigns[2].effects[0]"),
        ("purchase", {"gift_items": [{"sku": "cookie", "quantity": 1}]}, "campaigns[2].effects[0]"),
        ("checkout", {"points": 10}, "campaigns[2].effects[0]"),
    ],
)
def test_effects_must_fit_the_trigger(api: Api, now: list[datetime], trigger: str, effect: dict, field: str) -> None:
    doc = shop_doc({"id": "x", "name": "x", "trigger": trigger, "effects": [effect]})
    status, body = api.call("programs", "PUT", P, doc)
    assert status == 422, body
    assert any(d["field"].startswith(field) for d in body["error"]["details"]), body


def test_a_coupon_another_open_checkout_holds_is_listed_not_applied(shop: Api) -> None:
    cpn = welcome(shop)
    assert put(shop, "c1", {"items": [LATTE], "coupon_ids": [cpn]})[1]["coupons"][0]["applied"]
    status, other = put(shop, "c2", {"items": [LATTE], "coupon_ids": [cpn]})
    assert status == 200 and other["coupons"] == [
        {"coupon_id": cpn, "applied": False, "reason": "held by another open checkout"}
    ]
    assert cancel(shop, "c1")[0] == 200
    assert put(shop, "c2", {"items": [LATTE], "coupon_ids": [cpn]})[1]["coupons"][0]["applied"]
    assert cancel(shop, "c2")[0] == 200
    nothing_held(shop, cpn)  # a cancel frees the coupon


def test_unknown_checkouts_and_bodies(shop: Api) -> None:
    assert_error(*shop.call("checkout", "GET", f"{M}/checkouts/nope"), 404, "not_found", "checkout_id")
    assert_error(*cancel(shop, "nope"), 404, "not_found", "checkout_id")
    assert_error(*confirm(shop, "nope", "o1", 1), 404, "not_found", "checkout_id")
    _, opened = put(shop, "c1", {"items": [LATTE]})
    body = {"order_id": "o1", "amount_paid_minor": opened["total_minor"], "tip": 1}
    assert_error(*shop.call("checkout", "POST", f"{M}/checkouts/c1/confirm", body), 422, "validation_error", "tip")
    twice = {"items": [LATTE], "coupon_ids": [welcome(shop)] * 2}
    assert_error(*put(shop, "c1", twice), 422, "validation_error", "coupon_ids[1]")


def test_a_cart_paid_in_full_by_discounts_settles_as_an_order_of_zero(api: Api, now: list[datetime]) -> None:
    setup(api, shop_doc(campaign("free-tea", {"amount_off_minor": 10000, "on_items": "i.category == 'tea'"})))
    status, priced = put(api, "c1", {"items": [TEA]})
    assert status == 200 and priced["total_minor"] == 0 and priced["discount_minor"] == 5000
    assert priced["points_to_earn"] == 0 and priced["points_usable_max"] == 0
    status, done = confirm(api, "c1", "o1", 0)
    assert status == 201 and done["points_earned"] == 0, done
    assert confirm(api, "c1", "o1", 0) == (200, done)


def test_a_first_order_of_zero_earns_no_first_order_bonus_and_counts(api: Api, now: list[datetime]) -> None:
    setup(api, shop_doc(campaign("free-tea", {"amount_off_minor": 10000, "on_items": "i.category == 'tea'"})), ())
    assert api.call("enrol", "POST", f"{P}/members", {"member_id": "m1"})[0] == 201
    assert put(api, "c1", {"items": [TEA]})[0] == 200
    status, done = confirm(api, "c1", "o1", 0)
    assert status == 201 and done["points_earned"] == 0 and done["breakdown"]["first_order_bonus"] == 0, done
    # it counted as the first order: the next one earns no bonus either
    status, body = api.call("earn", "POST", f"{M}/purchases", {"order_id": "o2", "amount_minor": 1000})
    assert status == 201 and body["breakdown"]["first_order_bonus"] == 0, body


def test_points_over_a_cap_that_fell_since_the_put_are_a_changed_checkout(api: Api, now: list[datetime]) -> None:
    """A member who turned gold since the PUT pays 5% less, so 50% of it is fewer points than it held:
    the confirm is `checkout_changed` with the pricing of as many points as fit, not a 422 on a field
    its body does not have."""
    status, _ = api.call("programs", "PUT", P, shop_doc())
    assert status == 200 and api.call("enrol", "POST", f"{P}/members", {"member_id": "m1"})[0] == 201
    grant = {"adjustment_id": "a1", "points": 20000, "reason": "points to pay with"}
    assert api.call("enrol", "POST", f"{P}/members/m1/adjustments", grant)[0] == 201
    line = {**TEA, "unit_price_minor": 20000}
    status, opened = put(api, "c1", {"items": [line], "points_to_use": 10000})
    assert status == 200 and opened["points_usable_max"] >= 10000 and opened["total_minor"] == 10000, opened
    gold = {"order_id": "o-gold", "amount_minor": 100000}
    assert api.call("earn", "POST", f"{P}/members/m1/purchases", gold)[1]["tier"] == "gold"
    before = api.items()
    status, body = confirm(api, "c1", "o1", 10000)
    assert_error(status, body, 409, "checkout_changed", "amount_paid_minor")
    again = body["error"]["details"][0]["checkout"]
    assert again["points_used"] == again["points_usable_max"] == 9500 and again["total_minor"] == 9500, again
    assert api.items() == before
    status, done = confirm(api, "c1", "o1", 9500)  # paying the new total settles it with the points that fit
    assert status == 201 and done["checkout"]["points_used"] == 9500, done
    assert view(api)["points"]["held"] == 0


def test_a_confirm_whose_held_points_were_taken_back_is_refused(shop: Api) -> None:
    big = {**TEA, "unit_price_minor": 10**6}
    status, opened = put(shop, "c1", {"items": [big], "points_to_use": 1000})
    assert status == 200 and held(shop) == 1000
    refund = {"refund_id": "rf0", "order_id": "o0-m1", "amount_minor": 100000}  # the order that gave them
    assert shop.call("earn", "POST", f"{M}/refunds", refund)[0] == 201
    before = shop.items()
    assert_error(*confirm(shop, "c1", "o1", opened["total_minor"]), 409, "insufficient_points", "points_to_use")
    assert shop.items() == before


def test_a_cart_of_100_lines_is_priced_and_settled(shop: Api) -> None:
    status, opened = put(shop, "c1", {"items": lines(100), "points_to_use": 33})
    assert status == 200 and len(opened["lines"]) == 100, opened
    assert sum(ln["payable_minor"] for ln in opened["lines"]) == opened["total_minor"] == 100 * 95 - 33
    status, done = confirm(shop, "c1", "o1", opened["total_minor"])
    assert status == 201 and done["checkout"]["lines"] == opened["lines"], done
