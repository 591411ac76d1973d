"""Refunds by lines, and what a refund gives back (issue 30 item 2, API.md "Points held, and given
back"), through the real handlers (moto): each line's share of its money and of the points given on
it, over-refunds, the points an order was paid with, a full refund's coupons, the campaigns' figures."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from loyalty import runtime
from tests.handlers.conftest import Api
from tests.handlers.test_api import assert_error
from tests.handlers.test_checkout import LATTE, TEA, confirm, now, put, setup, shop_doc, welcome  # noqa: F401
from tests.handlers.test_checkout_figures import Stream
from tests.support import Context, load_function, program

D = "/programs/demo/members/m1"
TEA_ITEMS = {"sku": "t1", "category": "tea", "amount_minor": 3000, "quantity": 2, "line_id": "t"}
CAKE = {"sku": "c1", "category": "cake", "amount_minor": 1000}  # line "2" by its position
PER_TEA = {
    "id": "tea-x",
    "name": "tea-x",
    "trigger": "purchase",
    "effects": [{"points_per_unit": {"points": 1, "unit_minor": 10}, "on_items": "i.category == 'tea'"}],
}


def demo(api: Api, *campaigns: dict[str, Any]) -> None:
    doc = program("demo")
    doc["campaigns"] = list(campaigns)
    assert api.call("programs", "PUT", "/programs/demo", doc)[0] == 200
    assert api.call("enrol", "POST", "/programs/demo/members", {"member_id": "m1"})[0] == 201
    first = {"order_id": "o0", "amount_minor": 100}  # takes the first-order bonus out of the way
    assert api.call("earn", "POST", f"{D}/purchases", first)[0] == 201


def refund(api: Api, rid: str, order_id: str, path: str = D, **body: Any) -> tuple[int, Any]:
    return api.call("earn", "POST", f"{path}/refunds", {"refund_id": rid, "order_id": order_id, **body})


def lines(*pairs: tuple[str, int]) -> list[dict[str, Any]]:
    return [{"line_id": line_id, "quantity": q} for line_id, q in pairs]


def ledger(api: Api, path: str = D) -> list[dict[str, Any]]:
    entries, query = [], {"limit": "100"}
    while True:
        page = api.call("members", "GET", f"{path}/ledger", query=query)[1]
        entries += page["entries"]
        if not page.get("next_cursor"):
            return entries
        query = {"limit": "100", "cursor": page["next_cursor"]}


def ledger_sum(api: Api, path: str = D) -> int:
    return sum(e["points"] for e in ledger(api, path))


def balance(api: Api, path: str = D) -> int:
    return int(api.call("members", "GET", path)[1]["points"]["balance"])


def test_lines_refund_their_share_and_the_points_given_on_them(api: Api) -> None:
    demo(api, PER_TEA)
    order = {"order_id": "o1", "amount_minor": 5000, "items": [TEA_ITEMS, CAKE]}
    status, bought = api.call("earn", "POST", f"{D}/purchases", order)
    assert status == 201 and bought["points_earned"] == 50 + 300, bought  # 1 a 1.00, 1 a 0.10 of tea
    start = balance(api)

    # one tea of two: half the tea line's 30.00, its 150 tea points, 15 of the 50 base (15.00 of 50.00)
    status, one = refund(api, "r1", "o1", items=lines(("t", 1)))
    assert status == 201, one
    assert (one["amount_minor"], one["points_reversed"]) == (1500, 15 + 150)
    # the cake: its 10.00, 10 more base points (25 of 50 over 25.00), no tea points
    status, cake = refund(api, "r2", "o1", items=lines(("2", 1)))
    assert (status, cake["amount_minor"], cake["points_reversed"]) == (201, 1000, 10)
    # two more teas than are left: 409 naming the line, nothing written
    before = api.items()
    assert_error(*refund(api, "r3", "o1", items=lines(("2", 0 + 1))), 409, "limit_reached", "items[0]")
    assert_error(*refund(api, "r3", "o1", items=lines(("t", 1), ("2", 1))), 409, "limit_reached", "items[1]")
    assert_error(*refund(api, "r3", "o1", items=lines(("t", 2))), 409, "limit_reached", "items[0]")
    assert_error(*refund(api, "r3", "o1", items=lines(("x", 1))), 422, "validation_error", "items[0].line_id")
    assert api.items() == before
    # the last tea, then what is left by amount (5.00 not itemised): everything back, exactly
    status, last = refund(api, "r4", "o1", items=lines(("t", 1)))
    assert (status, last["amount_minor"], last["points_reversed"]) == (201, 1500, 15 + 150)
    status, rest = refund(api, "r5", "o1", amount_minor=1000)
    assert (status, rest["points_reversed"]) == (201, 50 - 40)
    assert balance(api) == start - 350 == ledger_sum(api)
    assert refund(api, "r4", "o1", items=lines(("t", 1))) == (200, last)  # a repeat answers the same


def test_a_refund_by_amount_takes_points_on_items_in_proportion_and_lines_after_it_add_theirs(api: Api) -> None:
    demo(api, PER_TEA)
    order = {"order_id": "o1", "amount_minor": 5000, "items": [TEA_ITEMS, CAKE]}
    assert api.call("earn", "POST", f"{D}/purchases", order)[0] == 201
    status, part = refund(api, "r1", "o1", amount_minor=1000)  # a fifth: 10 base, 60 of the tea points
    assert (status, part["points_reversed"]) == (201, 10 + 60)
    # half the tea: half of the 24.00 the fifth left of it; 18.00 of its 30.00 back in all: 180 of its
    # 300 points, 60 already
    status, tea = refund(api, "r2", "o1", items=lines(("t", 1)))
    assert (status, tea["amount_minor"]) == (201, 1200)
    assert tea["points_reversed"] == 12 + 120  # base: 22 of 50 over 22.00 refunded, 10 already


def test_a_refund_names_an_amount_or_lines_exactly(api: Api) -> None:
    demo(api)
    order = {"order_id": "o1", "amount_minor": 5000, "items": [TEA_ITEMS, CAKE]}
    assert api.call("earn", "POST", f"{D}/purchases", order)[0] == 201
    assert refund(api, "r1", "o1", amount_minor=100, items=lines(("t", 1)))[0] == 422
    assert refund(api, "r1", "o1")[0] == 422
    assert_error(*refund(api, "r1", "o1", items=lines(("t", 1), ("t", 1))), 422, "validation_error", "items[1].line_id")
    assert_error(*refund(api, "r1", "o1", items=[]), 422, "validation_error", "items")
    twice = {"order_id": "o2", "amount_minor": 5000, "items": [{**CAKE, "line_id": "a"}, {**CAKE, "line_id": "a"}]}
    status, body = api.call("earn", "POST", f"{D}/purchases", twice)
    assert_error(status, body, 422, "validation_error", "items[1].line_id")
    assert body["error"]["details"] == [{"field": "items[1].line_id", "message": "'a' names another line too"}]


def test_a_line_refunds_exactly_its_amount_over_odd_units(api: Api) -> None:
    demo(api)
    odd = {"sku": "s", "amount_minor": 1000, "quantity": 3}
    order = {"order_id": "o1", "amount_minor": 1000, "items": [odd]}
    assert api.call("earn", "POST", f"{D}/purchases", order)[0] == 201
    amounts = [refund(api, f"r{k}", "o1", items=lines(("1", 1)))[1]["amount_minor"] for k in range(3)]
    assert amounts == [333, 333, 334] and sum(amounts) == 1000


def test_a_checkouts_points_come_back_in_proportion_and_a_full_refund_settles_its_coupons(
    api: Api,
    now: list[datetime],  # noqa: F811
) -> None:
    gift = {"id": "gift", "name": "gift", "trigger": "purchase", "effects": [{"coupons": ["cake-5"]}]}
    setup(api, shop_doc(gift))
    cpn = welcome(api)
    status, priced = put(api, "c1", {"items": [LATTE, TEA], "coupon_ids": [cpn], "points_to_use": 500})
    assert status == 200 and priced["points_used"] == 500, priced
    status, done = confirm(api, "c1", "order-1", priced["total_minor"])
    assert status == 201, done
    [given] = [c["coupon_id"] for c in done["coupons"] if c["template_id"] == "cake-5"]
    order = runtime.store().get_ref("shop", "order", "order-1")
    assert order is not None and sum(order["points_paid"].values()) == 500 and order["coupons_used"] == [cpn]
    paid = {ln["line_id"]: ln["payable_minor"] for ln in priced["lines"]}
    total = priced["total_minor"]

    status, one = refund(api, "r1", "order-1", path="/programs/shop/members/m1", items=lines(("1", 1)))
    assert status == 201, one
    assert one["amount_minor"] == paid["1"] // 2
    assert (one["points_restored"], one["points_lapsed"]) == (500 * one["amount_minor"] // total, 0)
    assert (one["coupons_restored"], one["coupons_revoked"]) == ([], [])  # not a full refund yet

    status, rest = refund(api, "r2", "order-1", path="/programs/shop/members/m1", items=lines(("1", 1), ("2", 1)))
    assert status == 201, rest
    assert one["points_restored"] + rest["points_restored"] == 500  # all of it, never more
    assert rest["coupons_restored"] == [cpn] and rest["coupons_revoked"] == [given]
    now[0] += timedelta(seconds=1)  # a revoked coupon ends when revoked
    wallet = {c["coupon_id"]: c for c in api.call("members", "GET", "/programs/shop/members/m1/coupons")[1]["coupons"]}
    assert wallet[cpn]["status"] == "available" and wallet[cpn].get("used_order_id") is None
    assert wallet[given]["status"] == "expired"  # revoked: it shows as expired
    restored = sorted(e["points"] for e in ledger(api, "/programs/shop/members/m1") if e["type"] == "restore")
    assert restored == sorted([one["points_restored"], rest["points_restored"]])
    assert balance(api, "/programs/shop/members/m1") == ledger_sum(api, "/programs/shop/members/m1")
    assert_error(
        *refund(api, "r3", "order-1", path="/programs/shop/members/m1", items=lines(("2", 1))),
        409,
        "limit_reached",
        "items[0]",
    )


def test_points_paid_from_a_bucket_expired_since_are_lapsed(api: Api, now: list[datetime]) -> None:  # noqa: F811
    setup(api, shop_doc())
    status, priced = put(api, "c1", {"items": [TEA], "points_to_use": 300})
    assert status == 200 and priced["points_used"] == 300
    assert confirm(api, "c1", "order-1", priced["total_minor"])[0] == 201
    now[0] += timedelta(days=400)  # past every bucket the points came from (12 months rolling)
    status, back = refund(api, "r1", "order-1", path="/programs/shop/members/m1", amount_minor=priced["total_minor"])
    assert status == 201, back
    assert (back["points_restored"], back["points_lapsed"]) == (0, 300)
    assert balance(api, "/programs/shop/members/m1") == ledger_sum(api, "/programs/shop/members/m1")


def test_campaign_figures_count_the_points_refunds_took_back_and_the_coupons_revoked(api: Api) -> None:
    gift = {"id": "gift", "name": "gift", "trigger": "purchase", "effects": [{"coupons": ["welcome-10"]}]}
    gift["when"] = "order.amount_minor >= 1000"
    demo(api, PER_TEA, gift)
    count = load_function("count_health").handler
    stream = Stream()
    order = {"order_id": "o1", "amount_minor": 5000, "items": [TEA_ITEMS, CAKE]}
    assert api.call("earn", "POST", f"{D}/purchases", order)[0] == 201
    assert refund(api, "r1", "o1", items=lines(("t", 1)))[0] == 201
    status, full = refund(api, "r2", "o1", amount_minor=3500)
    assert status == 201 and len(full["coupons_revoked"]) == 1, full
    count({"Records": stream.new()}, Context())
    tea = api.call("programs", "GET", "/programs/demo/campaigns/tea-x")[1]
    assert (tea["points_given"], tea["points_reversed"]) == (300, 300)
    gifts = api.call("programs", "GET", "/programs/demo/campaigns/gift")[1]
    assert (gifts["coupons_given"], gifts["coupons_revoked"]) == (1, 1)


def test_the_readme_walk_through_of_a_checkouts_refund(api: Api, now: list[datetime]) -> None:  # noqa: F811
    """README "Refunds: what comes back": the checkout walk-through's order, returned in two pieces."""
    shop = "/programs/demo-shop"
    assert api.call("programs", "PUT", shop, program("checkout"))[0] == 200
    assert api.call("enrol", "POST", f"{shop}/members", {"member_id": "m-2001"})[0] == 201
    me = f"{shop}/members/m-2001"
    assert api.call("earn", "POST", f"{me}/purchases", {"order_id": "o-2001", "amount_minor": 150000})[0] == 201
    coffee, beans = "cpn-c135e334021dfe19024e", "cpn-0ba602fcb36d282beaad"
    cart = {
        "items": [
            {
                "line_id": "1",
                "sku": "latte",
                "category": "coffee",
                "quantity": 2,
                "unit_price_minor": 3200,
                "member_price_minor": 2800,
            },
            {"line_id": "2", "sku": "croissant", "category": "bakery", "quantity": 3, "unit_price_minor": 900},
        ],
        "store_id": "sh-01",
        "channel": "pos",
        "points_to_use": 500,
        "coupon_ids": [coffee, beans],
    }
    status, priced = api.call("checkout", "PUT", f"{me}/checkouts/c-1", cart)
    assert status == 200 and priced["total_minor"] == 6030, priced
    body = {"order_id": "o-2002", "amount_paid_minor": 6030}
    status, done = api.call("checkout", "POST", f"{me}/checkouts/c-1/confirm", body)
    assert status == 201 and (done["points_earned"], done["balance"]) == (72, 1372), done

    croissants = {"refund_id": "r-2002", "order_id": "o-2002", "items": lines(("2", 3))}
    status, back = api.call("earn", "POST", f"{me}/refunds", croissants)
    assert status == 201, back
    assert (back["amount_minor"], back["points_reversed"], back["points_restored"]) == (1580, 18, 131)
    assert back["balance"] == 1372 - 18 + 131 == 1485
    lattes = {"refund_id": "r-2003", "order_id": "o-2002", "items": lines(("1", 2))}
    status, rest = api.call("earn", "POST", f"{me}/refunds", lattes)
    assert status == 201, rest
    assert (rest["amount_minor"], rest["points_reversed"], rest["points_restored"]) == (4450, 54, 369)
    assert rest["coupons_restored"] == [coffee] and rest["balance"] == 1800  # as before the order
    wallet = {c["coupon_id"]: c["status"] for c in api.call("members", "GET", f"{me}/coupons")[1]["coupons"]}
    assert wallet[coffee] == "available"


def test_a_full_refund_gives_back_a_coupon_used_on_the_order_at_a_till_and_it_can_be_used_again(api: Api) -> None:
    """Found by the acceptance run: only a checkout's coupons came back. The till's use names the order
    (a marker the refund reads with the order's reference: still one read on a refund without coupons)."""
    assert api.call("programs", "PUT", "/programs/till", program("demo"))[0] == 200
    assert api.call("enrol", "POST", "/programs/till/members", {"member_id": "t1"})[0] == 201
    base = "/programs/till/members/t1"
    coupon = api.call("members", "GET", f"{base}/coupons")[1]["coupons"][0]["coupon_id"]
    use = {"order_id": "oq3", "order_amount_minor": 6000}
    assert api.call("redeem", "POST", f"{base}/coupons/{coupon}/use", use)[0] == 200
    assert api.call("earn", "POST", f"{base}/purchases", {"order_id": "oq3", "amount_minor": 5000})[0] == 201
    half = {"refund_id": "rq2", "order_id": "oq3", "amount_minor": 2500}
    assert api.call("earn", "POST", f"{base}/refunds", half)[1]["coupons_restored"] == []  # not in full yet
    rest = {"refund_id": "rq3", "order_id": "oq3", "amount_minor": 2500}
    status, back = api.call("earn", "POST", f"{base}/refunds", rest)
    assert status == 201 and back["coupons_restored"] == [coupon], back
    again = {"order_id": "oq4", "order_amount_minor": 6000}
    assert api.call("redeem", "POST", f"{base}/coupons/{coupon}/use", again)[0] == 200


def test_a_refund_dated_before_its_order_is_refused_naming_refunded_at(api: Api, now: list[datetime]) -> None:  # noqa: F811
    """Issue 30 acceptance: a refund cannot happen before the order was paid (beyond the clocks'
    drift, clock.FUTURE_SLACK, within which it counts as at the order's time); nothing is written."""
    demo(api)
    paid = now[0] + timedelta(hours=2)
    now[0] = paid + timedelta(hours=1)
    order = {"order_id": "o1", "amount_minor": 5000, "paid_at": paid.isoformat()}
    assert api.call("earn", "POST", f"{D}/purchases", order)[0] == 201
    before = balance(api)
    early = (paid - timedelta(hours=1)).isoformat()
    status, body = refund(api, "r1", "o1", amount_minor=1000, refunded_at=early)
    assert_error(status, body, 422, "validation_error", "refunded_at")
    assert balance(api) == before
    drift = (paid - timedelta(minutes=2)).isoformat()  # a till's clock two minutes behind the order system's
    assert refund(api, "r2", "o1", amount_minor=1000, refunded_at=drift)[0] == 201
    assert refund(api, "r3", "o1", amount_minor=1000, refunded_at=paid.isoformat())[0] == 201


def test_health_counts_a_coupon_a_refund_gives_back_as_no_longer_used(api: Api) -> None:
    """Issue 30 acceptance: the coupon's use leaves health's `coupons_used` (on the refund's day, as
    the refund's money leaves member GMV on its day) and its use again counts again."""
    stream = Stream()
    assert api.call("programs", "PUT", "/programs/till", program("demo"))[0] == 200
    assert api.call("enrol", "POST", "/programs/till/members", {"member_id": "t1"})[0] == 201
    base = "/programs/till/members/t1"
    coupon = api.call("members", "GET", f"{base}/coupons")[1]["coupons"][0]["coupon_id"]
    count = load_function("count_health").handler

    def used() -> int:
        count({"Records": stream.new()}, Context())
        days = api.call("programs", "GET", "/programs/till/health/days")[1]["days"]
        return sum(d["coupons_used"] for d in days)

    assert (
        api.call("redeem", "POST", f"{base}/coupons/{coupon}/use", {"order_id": "o1", "order_amount_minor": 6000})[0]
        == 200
    )
    assert api.call("earn", "POST", f"{base}/purchases", {"order_id": "o1", "amount_minor": 5000})[0] == 201
    assert used() == 1
    full = {"refund_id": "r1", "order_id": "o1", "amount_minor": 5000}
    assert api.call("earn", "POST", f"{base}/refunds", full)[1]["coupons_restored"] == [coupon]
    assert used() == 0
    assert (
        api.call("redeem", "POST", f"{base}/coupons/{coupon}/use", {"order_id": "o2", "order_amount_minor": 6000})[0]
        == 200
    )
    assert used() == 1
