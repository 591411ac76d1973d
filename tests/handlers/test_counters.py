"""Counters through the real handlers (moto), on the shipped template programs/combined.json: "5 orders
this month" (a counter of orders per month, 200 points on the fifth) and "spend over 300 three times"
(a lifetime counter of orders of 300.00 or more, a coupon on the third), each with its negative case;
the member view's `counters`, refunds taking back what their order counted, a late order counted in its
own month, a retried order counted once, and the PUT problems."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from loyalty import clock
from tests.handlers.conftest import Api
from tests.handlers.test_checkout import LATTE, confirm, now, put, setup, shop_doc  # noqa: F401
from tests.support import program

SHANGHAI = ZoneInfo("Asia/Shanghai")
P = "/programs/combined"


def local(year: int, month: int, day: int, hour: int = 12) -> datetime:
    return datetime(year, month, day, hour, tzinfo=SHANGHAI)


@pytest.fixture
def at(api: Api, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[datetime], None]]:
    """Saves the template, enrols m1 on 1 November and pins the clock (9 December); `at(t)` moves it."""
    pinned = [local(2026, 11, 1, 9)]
    monkeypatch.setattr(clock, "now", lambda: pinned[0])
    status, body = api.call("programs", "PUT", P, program("combined"))
    assert status == 200, body
    status, body = api.call("enrol", "POST", f"{P}/members", {"member_id": "m1"})
    assert status == 201, body
    pinned[0] = local(2026, 12, 9)

    def pin(when: datetime) -> None:
        pinned[0] = when

    yield pin


def buy(api: Api, order: str, amount: int = 5000, status: int = 201, **kw: Any) -> dict[str, Any]:
    body = {"order_id": order, "amount_minor": amount, **kw}
    got, result = api.call("earn", "POST", f"{P}/members/m1/purchases", body)
    assert got == status, result
    return result


def bonus(result: dict[str, Any]) -> list[str]:
    return [c["campaign_id"] for c in result["breakdown"]["campaigns"]]


def counters(api: Api) -> dict[str, int]:
    status, body = api.call("members", "GET", f"{P}/members/m1")
    assert status == 200, body
    return body["counters"]


def refund(api: Api, refund_id: str, order_id: str, amount: int) -> dict[str, Any]:
    body = {"refund_id": refund_id, "order_id": order_id, "amount_minor": amount}
    status, result = api.call("earn", "POST", f"{P}/members/m1/refunds", body)
    assert status == 201, result
    return result


def test_the_fifth_order_of_a_month_gets_200_points_once(api: Api, at: Callable) -> None:
    assert counters(api) == {"orders_month": 0, "big_orders": 0}
    given = [bonus(buy(api, f"o{k}")) for k in range(1, 7)]
    assert given == [[], [], [], [], ["fifth-order-this-month"], []]
    assert counters(api) == {"orders_month": 6, "big_orders": 0}
    status, quote = api.call("earn", "POST", f"{P}/members/m1/quotes", {"order_id": "q", "amount_minor": 5000})
    assert status == 200 and bonus(quote) == []  # the 7th would get nothing


def test_five_orders_over_two_months_are_not_five_this_month(api: Api, at: Callable) -> None:
    """The negative case: 3 late orders paid in November count there (their own month), so December's
    fifth order is the second of December, and November's fifth, posted late, gets the bonus."""
    november = local(2026, 11, 20)
    for k in range(1, 4):
        assert bonus(buy(api, f"n{k}", paid_at=november.isoformat())) == []
    assert [bonus(buy(api, f"d{k}")) for k in range(1, 3)] == [[], []]
    assert counters(api)["orders_month"] == 2  # December's
    assert bonus(buy(api, "n4", paid_at=november.isoformat())) == []
    assert bonus(buy(api, "n5", paid_at=november.isoformat())) == ["fifth-order-this-month"]
    at(local(2027, 1, 2))
    assert counters(api)["orders_month"] == 0  # a new month


def test_spending_over_300_a_third_time_gives_a_coupon(api: Api, at: Callable) -> None:
    assert bonus(buy(api, "b1", 30000)) == []
    assert bonus(buy(api, "s1", 29999)) == []  # under 300.00: not counted
    assert bonus(buy(api, "b2", 45000)) == []
    assert counters(api)["big_orders"] == 2
    third = buy(api, "b3", 30000)
    assert bonus(third) == ["third-big-order"]
    assert [c["template_id"] for c in third["coupons"]] == ["welcome-10"]
    assert "third-big-order" not in bonus(buy(api, "b4", 30000))  # the fourth: no more (the month's fifth order)
    assert counters(api)["big_orders"] == 4


def test_small_orders_never_make_a_third_big_one(api: Api, at: Callable) -> None:
    """The negative case: many orders under 300.00, and two over it, give no coupon."""
    given = [bonus(buy(api, f"s{k}", 29999)) for k in range(3)]
    given += [bonus(buy(api, "b1", 30000)), bonus(buy(api, "b2", 30000))]
    assert not any("third-big-order" in g for g in given)
    assert counters(api)["big_orders"] == 2


def test_a_refund_takes_back_what_its_order_counted(api: Api, at: Callable) -> None:
    buy(api, "b1", 30000)
    buy(api, "b2", 30000)
    refund(api, "r1", "b2", 10000)  # a part: the order still counts
    assert counters(api) == {"orders_month": 2, "big_orders": 2}
    refund(api, "r2", "b2", 20000)  # the rest: it counts no more
    assert counters(api) == {"orders_month": 1, "big_orders": 1}
    # So the next order over 300.00 is the second, not the third.
    assert bonus(buy(api, "b3", 30000)) == []
    repeat = {"refund_id": "r2", "order_id": "b2", "amount_minor": 20000}
    assert api.call("earn", "POST", f"{P}/members/m1/refunds", repeat)[0] == 200  # a repeat: nothing taken twice
    assert counters(api) == {"orders_month": 2, "big_orders": 2}


def test_a_retried_order_counts_once(api: Api, at: Callable) -> None:
    first = buy(api, "o1")
    again = api.call("earn", "POST", f"{P}/members/m1/purchases", {"order_id": "o1", "amount_minor": 5000})
    assert again == (200, first)
    assert counters(api)["orders_month"] == 1


def test_put_names_each_counter_problem(api: Api, at: Callable) -> None:
    doc = program("combined")
    doc["counters"] += [
        {"id": "x", "counts": "visits", "period": "month"},
        {"id": "orders_month", "counts": "units", "period": "day"},
    ]
    doc["campaigns"][0]["when"] = "member.counters.orders_week == 4"
    status, body = api.call("programs", "PUT", P, doc)
    assert status == 422 and body["error"]["code"] == "program_invalid", body
    fields = {d["field"] for d in body["error"]["details"]}
    assert fields == {"counters[2].counts", "counters[3].id", "campaigns[0].when"}, body


def test_activities_count_by_type_and_a_campaign_reads_them(api: Api, at: Callable) -> None:
    doc = program("combined")
    doc["counters"].append({"id": "check_ins", "counts": "activities", "period": "week", "activity_type": "check_in"})
    third = {
        "id": "third-check-in",
        "name": "3rd check-in of a week",
        "trigger": "activity",
        "effects": [{"points": 7}],
    }
    doc["campaigns"].append({**third, "when": "member.counters.check_ins == 2"})
    assert api.call("programs", "PUT", P, doc)[0] == 200
    at(local(2026, 12, 11))
    given = []
    for k, (day, kind) in enumerate(
        [(7, "check_in"), (8, "share"), (8, "check_in"), (9, "check_in"), (10, "check_in")]
    ):
        body = {"activity_id": f"a{k}", "type": kind, "at": local(2026, 12, day, 9).isoformat()}
        status, result = api.call("earn", "POST", f"{P}/members/m1/activities", body)
        assert status == 201, result
        given.append([c["campaign_id"] for c in result["campaigns"]])
    assert given == [[], [], [], ["third-check-in"], []]
    assert counters(api)["check_ins"] == 4


def test_a_checkout_reads_the_counter_its_confirm_counts_and_a_line_refund_takes_back(
    api: Api,
    now: list[datetime],  # noqa: F811 - the checkout function loaded, the clock pinned
) -> None:
    doc = shop_doc(
        {
            "id": "third-coffee",
            "name": "10% off once 2 coffees were bought this month",
            "trigger": "checkout",
            "when": "member.counters.coffee_units >= 2",
            "effects": [{"percent_off": 10}],
        }
    )
    doc["counters"] = [
        {"id": "coffee_units", "counts": "units", "period": "month", "on_items": "i.category == 'coffee'"}
    ]
    setup(api, doc)
    shop = "/programs/shop/members/m1"

    def offered(cid: str) -> list[str]:
        status, priced = put(api, cid, {"items": [LATTE]})
        assert status == 200, priced
        return [c["campaign_id"] for c in priced["campaigns"]]

    assert "third-coffee" not in offered("c1")
    total = put(api, "c1", {"items": [LATTE]})[1]["total_minor"]
    assert confirm(api, "c1", "o1", total)[0] == 201
    assert api.call("members", "GET", shop)[1]["counters"] == {"coffee_units": 2}
    assert "third-coffee" in offered("c2")
    refund = {"refund_id": "r1", "order_id": "o1", "items": [{"line_id": "1", "quantity": 1}]}
    status, body = api.call("earn", "POST", f"{shop}/refunds", refund)
    assert status == 201, body
    assert api.call("members", "GET", shop)[1]["counters"] == {"coffee_units": 1}
    assert "third-coffee" not in offered("c3")


def test_a_refunds_campaigns_read_the_count_before_the_refund(api: Api, at: Callable) -> None:
    doc = program("combined")
    sorry = {
        "id": "sorry",
        "name": "a refund of one of 2 orders",
        "trigger": "refund",
        "effects": [{"tag": "refunder"}],
    }
    doc["campaigns"].append({**sorry, "when": "member.counters.orders_month == 2"})
    assert api.call("programs", "PUT", P, doc)[0] == 200
    buy(api, "o1")
    buy(api, "o2")
    assert [c["campaign_id"] for c in refund(api, "r1", "o2", 5000)["campaigns"]] == ["sorry"]
    assert counters(api)["orders_month"] == 1
    buy(api, "o3")
    buy(api, "o4")  # 3 orders counted: the refund reads 3
    assert refund(api, "r2", "o4", 5000)["campaigns"] == []
