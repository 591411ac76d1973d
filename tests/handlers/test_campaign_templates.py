"""The shipped template programs/campaigns.json through the real handlers (moto): each of its campaigns
is one case of issue 16's "Why", run end to end, with the case where it does not apply.

Tiers grow on growth value (1 per 1.00 spent, 1 per check-in): gold at 1000 (1.2x), jade at 5000.
The template dates nothing (a window is absolute): the tests give its two dated cases the windows an
operator would (`WINDOWS`) and pin the clock (`at`), so they hold whatever day the tests run."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from loyalty import clock
from tests.handlers.conftest import Api
from tests.handlers.test_budgets import run_kind
from tests.support import program

SHANGHAI = ZoneInfo("Asia/Shanghai")
P = "/programs/tea"
TEA = {"sku": "longjing", "category": "tea", "amount_minor": 2000}
CAKE = {"sku": "mooncake", "category": "cake", "amount_minor": 3000}
BABY = {"sku": "bottle", "category": "baby", "amount_minor": 4000}
WINDOWS = {  # the tea week of 7-13 December, the Jing'an store open since 1 December (Shanghai time)
    "tea-week": {"from": "2026-12-07T00:00:00", "until": "2026-12-14T00:00:00"},
    "jingan-first-order": {"from": "2026-12-01T00:00:00"},
}


def local(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=SHANGHAI)


@pytest.fixture
def at(api: Api, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[datetime], None]]:
    """Saves the template and pins the handlers' clock (at first inside tea week); `at(t)` moves it."""
    now = [local(2026, 12, 9, 12)]
    monkeypatch.setattr(clock, "now", lambda: now[0])

    def pin(when: datetime) -> None:
        now[0] = when

    document = program("campaigns")
    for campaign in document["campaigns"]:
        if campaign["id"] in WINDOWS:
            campaign["active"] = WINDOWS[campaign["id"]]
    status, body = api.call("programs", "PUT", P, document)
    assert status == 200, body
    yield pin


def enrol(api: Api, member: str) -> None:
    status, body = api.call("enrol", "POST", f"{P}/members", {"member_id": member})
    assert status == 201, body


def buy(api: Api, member: str, order: str, amount: int, items: list[dict[str, Any]], **kw: Any) -> dict[str, Any]:
    body = {"order_id": order, "amount_minor": amount, "items": items, **kw}
    status, result = api.call("earn", "POST", f"{P}/members/{member}/purchases", body)
    assert status == 201, result
    return result


def check_in(api: Api, member: str, activity: str, when: datetime) -> dict[str, Any]:
    body = {"activity_id": activity, "type": "check_in", "at": when.isoformat()}
    status, result = api.call("earn", "POST", f"{P}/members/{member}/activities", body)
    assert status == 201, result
    return result


def view(api: Api, member: str) -> dict[str, Any]:
    status, body = api.call("members", "GET", f"{P}/members/{member}")
    assert status == 200, body
    return body


def wallet(api: Api, member: str) -> list[dict[str, Any]]:
    status, body = api.call("members", "GET", f"{P}/members/{member}/coupons")
    assert status == 200, body
    return body["coupons"]


def gave(campaign_id: str, **what: Any) -> dict[str, Any]:
    """A breakdown.campaigns entry: what the campaign gave, nothing else."""
    empty = {"points": 0, "coupons": [], "growth": 0, "tags": [], "untags": [], "multiplier": None}
    return {"campaign_id": campaign_id, **empty, **what}


def test_tea_week_triples_the_tea_lines_of_gold_members_inside_its_week(api: Api, at: Callable) -> None:
    enrol(api, "m1")
    enrol(api, "m2")
    # 1000.00 of tea grows m1 to gold, but the order is judged on the tier before it: no tea week
    # (the move up gives its bonus).
    upgrade = buy(api, "m1", "o1", 100000, [{**TEA, "amount_minor": 100000}])
    assert (upgrade["tier"], upgrade["tier_changed"]) == ("gold", True)
    assert upgrade["breakdown"]["campaigns"] == [gave("tier-up-bonus", points=200)]

    order = [TEA, CAKE]  # 50.00: 20.00 of tea, 30.00 of cake
    bought = buy(api, "m1", "o2", 5000, order)
    # The tea line earns 3x instead of gold's 1.2x (stacking "max"): 60 - 24 = 36 more; 60 for the order.
    assert bought["breakdown"]["campaigns"] == [gave("tea-week", points=36)]
    assert bought["points_earned"] == 60 + 36
    assert buy(api, "m1", "o3", 3000, [CAKE])["breakdown"]["campaigns"] == []  # no tea in the order
    assert buy(api, "m2", "o4", 5000, order)["breakdown"]["campaigns"] == []  # not gold

    at(local(2026, 12, 14))  # the window ends at midnight, Shanghai time, on the Monday after
    late = buy(api, "m1", "o5", 5000, order)
    assert (late["breakdown"]["campaigns"], late["points_earned"]) == ([], 60)


def test_the_new_store_gives_50_points_on_each_members_first_order_there(api: Api, at: Callable) -> None:
    at(local(2026, 11, 30, 20))
    enrol(api, "m1")
    enrol(api, "m2")
    assert buy(api, "m1", "o0", 3000, [CAKE], store_id="jingan")["breakdown"]["campaigns"] == []  # before it opened

    at(local(2026, 12, 9, 12))
    assert buy(api, "m1", "o1", 3000, [CAKE], store_id="xuhui")["breakdown"]["campaigns"] == []  # another store
    first = buy(api, "m1", "o2", 3000, [CAKE], store_id="jingan")  # not m1's first order: its first there
    assert first["breakdown"]["campaigns"] == [gave("jingan-first-order", points=50)]
    assert first["points_earned"] == 30 + 50
    assert buy(api, "m1", "o3", 3000, [CAKE], store_id="jingan")["breakdown"]["campaigns"] == []  # once a member
    assert buy(api, "m2", "o4", 3000, [CAKE], store_id="jingan")["points_earned"] == 30 + 50  # m2's very first
    assert view(api, "m1")["points"]["balance"] == 30 * 4 + 50


def test_the_fifth_check_in_in_a_row_gives_a_tea_coupon_once(api: Api, at: Callable) -> None:
    day = local(2026, 12, 10, 9)  # check-ins on the 10th to the 14th: not the member day
    at(day - timedelta(hours=1))  # enrolled before the first check-in
    enrol(api, "m1")
    enrol(api, "m2")
    at(day + timedelta(days=5))
    runs = [check_in(api, "m1", f"a{i}", day + timedelta(days=i)) for i in range(5)]
    assert [r["streak_days"] for r in runs] == [1, 2, 3, 4, 5]
    assert [[c["template_id"] for c in r["coupons"]] for r in runs] == [[], [], [], [], ["tea-5"]]
    assert runs[-1]["coupons"][0]["source"].startswith("campaign:check-in-streak:")
    assert check_in(api, "m1", "a5", day + timedelta(days=5))["coupons"] == []  # the 6th in a row

    # A late check-in for a day inside the run takes that day's place in it (streak 5 again): the
    # template's limit of once a day keeps it from giving the coupon twice.
    late = check_in(api, "m1", "a4-late", day + timedelta(days=4))
    assert (late["streak_days"], late["coupons"]) == (5, [])
    assert [c["template_id"] for c in wallet(api, "m1")] == ["tea-5"]

    # Five check-ins with a day missed: the run starts again, no coupon.
    gaps = [check_in(api, "m2", f"b{i}", day + timedelta(days=i)) for i in (0, 1, 3, 4, 5)]
    assert [r["streak_days"] for r in gaps] == [1, 2, 1, 2, 3]
    assert all(r["coupons"] == [] for r in gaps) and wallet(api, "m2") == []


def test_a_check_in_on_the_member_day_counts_double_growth(api: Api, at: Callable) -> None:
    at(local(2026, 12, 7, 9))
    enrol(api, "m1")
    assert check_in(api, "m1", "a1", local(2026, 12, 7, 9))["growth"] == 1  # the 7th: the check-in's own 1
    at(local(2026, 12, 8, 9))
    member_day = check_in(api, "m1", "a2", local(2026, 12, 8, 9))
    assert (member_day["growth"], member_day["points_earned"]) == (2, 5)  # 1 more growth, no more points
    at(local(2026, 12, 9, 9))
    assert check_in(api, "m1", "a3", local(2026, 12, 9, 9))["growth"] == 1
    member = view(api, "m1")
    assert member["growth"] == 4
    assert member["tier"]["progress"] == {"metric": "growth", "value": 4, "next_tier": "gold", "needed": 996}


def test_buying_baby_products_tags_the_member_and_the_monthly_sweep_sends_the_tag_s_coupon(
    api: Api, at: Callable
) -> None:
    enrol(api, "m1")
    enrol(api, "m2")
    tagged = buy(api, "m1", "o1", 6000, [BABY, TEA])
    # the tag sets off the baby club's welcome (tag_added), after the purchase's own campaigns
    assert tagged["breakdown"]["campaigns"] == [gave("baby-shopper", tags=["baby"]), gave("baby-welcome", points=100)]
    assert view(api, "m1")["tags"] == ["baby"]
    assert buy(api, "m1", "o2", 4000, [BABY])["breakdown"]["campaigns"] == []  # tagged already: applies once
    assert buy(api, "m2", "o3", 2000, [TEA])["breakdown"]["campaigns"] == []  # no baby products
    assert view(api, "m2")["tags"] == []

    def tag_coupons(member: str) -> list[str]:
        return sorted(c["source"] for c in wallet(api, member) if c["template_id"] == "baby-10")

    now = local(2026, 12, 9, 13)
    assert run_kind("benefits", now) == 1  # tagged mid-month: m1 is due at once; m2 never is
    assert tag_coupons("m1") == ["tag:baby:2026-12"]
    assert run_kind("benefits", now + timedelta(days=1)) == 0  # December is settled
    at(local(2027, 1, 1, 12))
    assert run_kind("benefits", local(2027, 1, 1, 12)) == 1  # January, once
    assert tag_coupons("m1") == ["tag:baby:2026-12", "tag:baby:2027-01"]
    assert tag_coupons("m2") == []


# ---- issue 31 (A): a birthday-day double, a tier-up bonus on upward moves only, a tag_added campaign


def test_points_are_doubled_on_the_members_birthday_only(api: Api, at: Callable) -> None:
    for member, birthday in (("m1", "1990-12-09"), ("m2", "12-10"), ("m3", None)):
        body = {"member_id": member, **({"birthday": birthday} if birthday else {})}
        assert api.call("enrol", "POST", f"{P}/members", body)[0] == 201
    order = [CAKE]  # 30.00: 30 points at the member tier's 1x
    assert buy(api, "m1", "o1", 3000, order)["breakdown"]["campaigns"] == [
        gave("birthday-double", points=30, multiplier="2")
    ]
    assert buy(api, "m2", "o2", 3000, order)["breakdown"]["campaigns"] == []  # tomorrow
    assert buy(api, "m3", "o3", 3000, order)["breakdown"]["campaigns"] == []  # no birthday: null
    at(local(2026, 12, 10, 9))
    assert buy(api, "m2", "o4", 3000, order)["breakdown"]["campaigns"] == [
        gave("birthday-double", points=30, multiplier="2")
    ]
    assert buy(api, "m1", "o5", 3000, order)["breakdown"]["campaigns"] == []


def test_a_tier_up_bonus_is_given_on_a_move_up_and_not_on_a_move_down(api: Api, at: Callable) -> None:
    enrol(api, "m1")
    # member -> jade (5000 growth) in one order: one change up, one bonus
    up = buy(api, "m1", "o1", 500000, [CAKE | {"amount_minor": 500000}])
    assert (up["tier"], up["breakdown"]["campaigns"]) == ("jade", [gave("tier-up-bonus", points=200)])
    status, back = api.call(
        "earn", "POST", f"{P}/members/m1/refunds", {"refund_id": "r1", "order_id": "o1", "amount_minor": 500000}
    )
    assert status == 201, back
    assert (back["tier"], back["tier_changed"]) == ("member", True)  # the refund undid the move: down
    assert [c["campaign_id"] for c in back["campaigns"]] == []  # no bonus going down
    assert [e["points"] for e in ledger(api, "m1") if e["ref"].startswith("tier_change:")] == [200]


def test_the_baby_tag_welcomes_a_member_once_and_other_tags_do_not(api: Api, at: Callable) -> None:
    enrol(api, "m1")
    status, body = api.call("enrol", "PUT", f"{P}/members/m1/tags", {"add": ["tea-fan"]})
    assert (status, body["tags"]) == (200, ["tea-fan"])
    assert view(api, "m1")["points"]["balance"] == 0  # another tag: no welcome
    assert api.call("enrol", "PUT", f"{P}/members/m1/tags", {"add": ["baby"]})[0] == 200  # the tags route too
    assert view(api, "m1")["points"]["balance"] == 100
    api.call("enrol", "PUT", f"{P}/members/m1/tags", {"remove": ["baby"]})
    api.call("enrol", "PUT", f"{P}/members/m1/tags", {"add": ["baby"]})
    assert view(api, "m1")["points"]["balance"] == 100  # once per member (its limit)


def ledger(api: Api, member: str) -> list[dict[str, Any]]:
    status, body = api.call("members", "GET", f"{P}/members/{member}/ledger")
    assert status == 200, body
    return body["entries"]
