"""Wallets (issue 31 part D, API.md "The rule engine's reach"): stamps earned by campaigns, shown in the
member view and the ledger, read as `member.wallets.<id>`, spent by rewards priced in them, given back
by a cancel, taken back by refunds and expired by the points run, through the real handlers (moto).
The shipped stamp card (programs/stamps.json) is the program."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from loyalty import clock
from loyalty.runtime import store
from loyalty.usecases import programs, scheduler
from tests.handlers.conftest import Api
from tests.handlers.test_api import assert_error
from tests.support import program

P = "/programs/cafe"
M = f"{P}/members/m1"
T0 = datetime(2026, 3, 11, 4, tzinfo=UTC)
LATTES = {"sku": "latte", "category": "drinks", "amount_minor": 3000, "quantity": 2, "line_id": "l"}
CAKE = {"sku": "cake", "category": "food", "amount_minor": 2000}


@pytest.fixture
def at(api: Api, monkeypatch: pytest.MonkeyPatch) -> Callable[[datetime], None]:
    """The stamp card as shipped, m1 enrolled at T0; `at(t)` moves the handlers' clock."""
    now = [T0]
    monkeypatch.setattr(clock, "now", lambda: now[0])
    put(api, program("stamps"))
    assert api.call("enrol", "POST", f"{P}/members", {"member_id": "m1"})[0] == 201

    def move(t: datetime) -> None:
        now[0] = t

    return move


def put(api: Api, doc: dict[str, Any]) -> None:
    status, body = api.call("programs", "PUT", P, doc)
    assert status == 200, body
    programs._cache.clear()


def buy(api: Api, order_id: str, *items: dict[str, Any]) -> dict[str, Any]:
    body = {"order_id": order_id, "amount_minor": sum(i["amount_minor"] for i in items), "items": list(items)}
    status, reply = api.call("earn", "POST", f"{M}/purchases", body)
    assert status == 201, reply
    return reply


def stamps(api: Api) -> int:
    return api.call("members", "GET", M)[1]["wallets"]["stamps"]["balance"]


def ledger(api: Api) -> list[dict[str, Any]]:
    return api.call("members", "GET", f"{M}/ledger", query={"limit": "100"})[1]["entries"]


def assert_ledger_sums(api: Api) -> None:
    """Each wallet's balance, and the points balance, is the sum of its own ledger entries."""
    entries, view = ledger(api), api.call("members", "GET", M)[1]
    assert sum(e["points"] for e in entries if e.get("wallet") is None) == view["points"]["balance"]
    for wallet, shown in view["wallets"].items():
        assert sum(e["points"] for e in entries if e.get("wallet") == wallet) == shown["balance"]
        assert shown["balance"] >= 0


def redeem(api: Api, rid: str) -> tuple[int, dict[str, Any]]:
    return api.call("redeem", "POST", f"{M}/redemptions", {"redemption_id": rid, "reward_id": "free-coffee"})


def test_put_names_every_unknown_wallet_at_once(api: Api) -> None:
    doc = program("stamps")
    doc["campaigns"][0]["effects"][0]["wallet"]["id"] = "stars"
    doc["campaigns"].append(
        {
            "id": "c2",
            "name": "c2",
            "trigger": "activity",
            "when": "member.wallets.stars > 1",
            "effects": [{"points": 1}],
        }
    )
    doc["campaigns"].append(
        {
            "id": "c3",
            "name": "c3",
            "trigger": "activity",
            "effects": [{"wallet": {"id": "stamps", "amount": 1}, "on_items": "i.sku == 'x'"}],
        }
    )
    doc["rewards"][0]["cost"]["wallet"] = "stars"
    doc["rewards"].append({"id": "both", "name": "Both", "cost_points": 5, "cost": {"wallet": "stamps", "amount": 1}})
    doc["rewards"].append({"id": "none", "name": "None", "fulfilment": "goods"})
    status, body = api.call("programs", "PUT", P, doc)
    assert_error(status, body, 422, "program_invalid")
    fields = {d["field"] for d in body["error"]["details"]}
    assert {
        "campaigns[0].effects[0].wallet.id",
        "campaigns[1].when",
        "campaigns[2].effects[0].on_items",
        "rewards[0].cost.wallet",
        "rewards[1].cost_points",
        "rewards[2].cost_points",
    } <= fields, body


def test_a_stamp_per_drink_shows_in_the_view_the_ledger_and_the_breakdown(api: Api, at: Callable) -> None:
    reply = buy(api, "o1", LATTES, CAKE)
    assert reply["breakdown"]["campaigns"] == [
        {"campaign_id": "stamp-per-drink", "points": 0, "coupons": [], "growth": 0, "tags": [], "untags": []}
        | {"multiplier": None, "wallets": {"stamps": 2}}
    ]
    assert reply["points_earned"] == 50 and reply["balance"] == 50  # points are not stamps
    view = api.call("members", "GET", M)[1]
    assert view["wallets"] == {
        "stamps": {"balance": 2, "owed": 0, "expiring": [{"amount": 2, "expires_on": "2026-09-30"}]}
    }
    [stamp] = [e for e in ledger(api) if e.get("wallet")]
    assert stamp | {"entry_id": "-", "at": "-"} == {
        "entry_id": "-",
        "at": "-",
        "type": "bonus",
        "points": 2,
        "balance_after": 2,
        "ref": "order:o1",
        "reason": "campaign:stamp-per-drink",
        "wallet": "stamps",
        "actor": None,
        "agent": None,
    }
    assert [e for e in ledger(api) if e["type"] == "earn" and "wallet" in e] == []  # points: no `wallet`
    buy(api, "o2", CAKE)  # the negative case: no drink, no stamp
    assert stamps(api) == 2
    assert_ledger_sums(api)


def test_the_tenth_stamp_reads_the_balance_before_the_event(api: Api, at: Callable) -> None:
    doc = program("stamps")
    doc["coupons"]["bonus"] = {"name": "On the tenth", "kind": "gift", "valid_days": 30}
    doc["campaigns"].append(
        {
            "id": "tenth",
            "name": "A coupon on the tenth stamp",
            "trigger": "purchase",
            "when": "member.wallets.stamps == 9",
            "effects": [{"coupons": ["bonus"]}],
        }
    )
    put(api, doc)
    one = {**LATTES, "quantity": 1}
    for n in range(9):
        assert buy(api, f"o{n}", one)["breakdown"]["campaigns"][-1]["campaign_id"] == "stamp-per-drink"
    tenth = buy(api, "o9", one)
    assert [c["campaign_id"] for c in tenth["breakdown"]["campaigns"]] == ["stamp-per-drink", "tenth"]
    assert stamps(api) == 10
    assert [c["campaign_id"] for c in buy(api, "o10", one)["breakdown"]["campaigns"]] == ["stamp-per-drink"]


def test_a_reward_priced_in_stamps_spends_them_and_a_cancel_gives_them_back(api: Api, at: Callable) -> None:
    buy(api, "o1", {**LATTES, "quantity": 9})
    status, body = redeem(api, "r0")  # nine stamps: one short
    assert_error(status, body, 409, "insufficient_points")
    assert body["error"]["details"] == [{"field": "reward_id", "wallet": "stamps", "needed": 10, "available": 9}]
    buy(api, "o2", {**LATTES, "quantity": 3})
    status, reply = redeem(api, "r1")
    assert status == 201, reply
    assert (reply["points_spent"], reply["wallet_spent"], reply["wallets"]) == (
        0,
        {"stamps": 10},
        {"stamps": {"balance": 2}},
    )
    assert reply["balance"] == 60 and [c["template_id"] for c in reply["coupons"]] == ["free-coffee"]
    assert redeem(api, "r1") == (200, reply)  # exactly once
    assert stamps(api) == 2
    status, undone = api.call("redeem", "POST", f"{M}/redemptions/r1/cancel", {})
    assert status == 200, undone
    assert undone["wallet_restored"] == {"stamps": 10} and undone["points_restored"] == 0
    assert stamps(api) == 12
    [restore] = [e for e in ledger(api) if e["type"] == "restore"]
    assert (restore["wallet"], restore["points"], restore["balance_after"]) == ("stamps", 10, 12)
    assert_ledger_sums(api)


def test_refunds_take_back_the_stamps_of_the_lines_refunded(api: Api, at: Callable) -> None:
    buy(api, "o1", LATTES, CAKE)
    refund = {"refund_id": "f1", "order_id": "o1", "items": [{"line_id": "2", "quantity": 1}]}  # the cake
    status, reply = api.call("earn", "POST", f"{M}/refunds", refund)
    assert status == 201, reply
    assert reply.get("wallets_reversed", {}) == {} and stamps(api) == 2
    refund = {"refund_id": "f2", "order_id": "o1", "items": [{"line_id": "l", "quantity": 1}]}  # one latte
    status, reply = api.call("earn", "POST", f"{M}/refunds", refund)
    assert (status, reply.get("wallets_reversed", {})) == (201, {"stamps": 1})
    assert stamps(api) == 1
    status, reply = api.call(
        "earn", "POST", f"{M}/refunds", {"refund_id": "f3", "order_id": "o1", "amount_minor": 1500}
    )
    assert (status, reply.get("wallets_reversed", {})) == (201, {"stamps": 1})  # the rest of the money: the rest
    assert stamps(api) == 0
    assert_ledger_sums(api)


def test_a_refund_never_takes_a_wallet_below_zero_and_a_cancel_settles_what_it_could_not(
    api: Api, at: Callable
) -> None:
    buy(api, "o1", {**LATTES, "quantity": 10})
    assert redeem(api, "r1")[0] == 201
    refund = {"refund_id": "f1", "order_id": "o1", "amount_minor": 3000}
    status, reply = api.call("earn", "POST", f"{M}/refunds", refund)
    assert status == 201, reply
    assert (reply.get("wallets_reversed", {}), reply["wallets_unrecovered"]) == ({}, {"stamps": 10})
    assert api.call("members", "GET", M)[1]["wallets"]["stamps"] == {"balance": 0, "owed": 10, "expiring": []}
    # buy, spend, refund, cancel: the stamps given back settle what the refund could not take
    status, undone = api.call("redeem", "POST", f"{M}/redemptions/r1/cancel", {})
    assert status == 200, undone
    assert "wallet_restored" not in undone
    assert api.call("members", "GET", M)[1]["wallets"]["stamps"] == {"balance": 0, "owed": 0, "expiring": []}
    assert_ledger_sums(api)


def run(at: datetime) -> None:
    """The points run (ExpirePointsFunction's kinds), planner and workers in process."""
    kinds = ["expire", "remind"]
    items = scheduler.plan(at, kinds)
    scheduler.record(store(), kinds, at, len(items))
    for item in items:
        scheduler.work(store(), item, lambda: 900)


def test_the_points_run_expires_stamps_by_the_wallets_own_policy(api: Api, at: Callable) -> None:
    buy(api, "o1", LATTES)  # March: stamps expire at the end of September, points a year later
    programs._cache.clear()
    run(datetime(2026, 9, 30, 12, tzinfo=UTC))
    assert stamps(api) == 2
    october = datetime(2026, 10, 1, 12, tzinfo=UTC)
    run(october)
    assert stamps(api) == 0
    expired = [e for e in ledger(api) if e["type"] == "expire"]
    assert [(e["wallet"], e["points"], e["balance_after"]) for e in expired] == [("stamps", -2, 0)]
    assert api.call("members", "GET", M)[1]["points"]["balance"] == 30
    before = ledger(api)
    run(october)  # the same time again: nothing changes
    assert ledger(api) == before
    assert_ledger_sums(api)


def test_an_order_without_drinks_gets_no_stamp_and_is_no_application(api: Api, at: Callable[[datetime], None]) -> None:
    done = buy(api, "o-cake", CAKE)
    assert done["breakdown"]["campaigns"] == [] and stamps(api) == 0  # the stamp campaign gave nothing
    status, quote = api.call("earn", "POST", f"{M}/quotes", {"order_id": "q", "amount_minor": 2000, "items": [CAKE]})
    assert status == 200 and quote["breakdown"]["campaigns"] == [], quote
