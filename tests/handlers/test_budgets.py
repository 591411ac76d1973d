"""Budgets on periodic benefits (moto): once a month's budget is spent, members are settled without it."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from loyalty.runtime import store
from loyalty.schemas import Enrol, Purchase
from loyalty.usecases import earning, members, programs, scheduler
from tests.handlers.conftest import Api
from tests.handlers.test_cost import calls, measure  # noqa: F401 - calls is a fixture
from tests.support import program


def test_a_spent_budget_stops_issuing_atomically(api: Api) -> None:
    doc = program("demo")
    doc["tiers"]["levels"][1]["every_month"]["budget"] = 2  # gold's monthly coupon: two members a month
    doc["lifecycle"].pop("birthday")
    programs.save(store(), "demo", doc)
    t0 = datetime(2026, 1, 5, 4, tzinfo=UTC)
    for i in range(5):
        members.enrol(store(), "demo", Enrol(member_id=f"m{i}"), t0)
        earning.purchase(store(), "demo", f"m{i}", Purchase(order_id=f"o{i}", amount_minor=100000), t0)  # gold

    def run(at: datetime) -> int:
        settled = 0
        for item in scheduler.plan(at, ["benefits"]):
            stats, _ = scheduler.work(store(), item, lambda: 900)
            settled += stats.get("members_settled", 0)
        return settled

    def monthly(month: str) -> int:
        wallets = [store().coupons("demo", f"m{i}") for i in range(5)]
        return sum(1 for wallet in wallets for c in wallet if c.source == f"tier:gold:{month}")

    assert run(t0) == 5  # the day they joined: January settled, two of five got January's coupon
    assert monthly("2026-01") == 2
    assert run(datetime(2026, 2, 1, 4, tzinfo=UTC)) == 5  # every member settled for February...
    assert monthly("2026-02") == 2  # ...but only two got the budgeted coupon
    assert run(datetime(2026, 2, 1, 4, tzinfo=UTC)) == 0  # a repeat changes nothing
    assert run(datetime(2026, 3, 1, 4, tzinfo=UTC)) == 5
    assert monthly("2026-03") == 2  # a new month, a new budget


# ---- every grant site, not only the periodic ones (issue 14, section 3) ----------------------------


def run_kind(kind: str, at: datetime) -> int:
    settled = 0
    for item in scheduler.plan(at, [kind]):
        stats, _ = scheduler.work(store(), item, lambda: 900)
        settled += stats.get("members_settled", 0)
    return settled


def wallet(api: Api, member: str) -> list[dict]:
    status, body = api.call("members", "GET", f"/programs/demo/members/{member}/coupons")
    assert status == 200, body
    return body["coupons"]


def put(api: Api, doc: dict) -> None:
    status, body = api.call("programs", "PUT", "/programs/demo", doc)
    assert status == 200, body


def test_a_welcome_budget_caps_the_packs_and_every_member_is_enrolled(api: Api) -> None:
    doc = program("demo")
    doc["lifecycle"]["welcome"]["budget"] = 2
    put(api, doc)
    for i in range(4):
        status, view = api.call("enrol", "POST", "/programs/demo/members", {"member_id": f"m{i}"})
        assert status == 201, view
    balances = [api.call("members", "GET", f"/programs/demo/members/m{i}")[1]["points"]["balance"] for i in range(4)]
    assert balances == [100, 100, 0, 0]  # points and coupons of the pack go together
    assert [len(wallet(api, f"m{i}")) for i in range(4)] == [1, 1, 0, 0]
    status, _ = api.call("enrol", "POST", "/programs/demo/members", {"member_id": "m3"})
    assert status == 200  # a repeat is still the same member, and still no pack
    # Self-enrolment takes the same budget.
    status, me = api.call("enrol", "POST", "/programs/demo/me", {}, sub="u-1")
    assert status == 201 and me["points"]["balance"] == 0


def test_the_welcome_budget_is_monthly(api: Api) -> None:
    doc = program("demo")
    doc["lifecycle"]["welcome"]["budget"] = 1
    programs.save(store(), "demo", doc)
    jan, feb = datetime(2026, 1, 31, 4, tzinfo=UTC), datetime(2026, 2, 1, 4, tzinfo=UTC)  # Shanghai months
    got = [members.enrol(store(), "demo", Enrol(member_id=f"m{i}"), at).result for i, at in enumerate([jan, jan, feb])]
    assert [v.points.balance for v in got] == [100, 0, 100]


def test_an_upgrade_budget_skips_the_gift_not_the_upgrade(api: Api) -> None:
    doc = program("demo")
    doc["tiers"]["levels"][1]["on_upgrade"]["budget"] = 1
    doc["tiers"]["levels"][1]["on_upgrade"]["points"] = 50
    put(api, doc)
    replies = []
    for i in range(2):
        api.call("enrol", "POST", "/programs/demo/members", {"member_id": f"m{i}"})
        status, reply = api.call(
            "earn", "POST", f"/programs/demo/members/m{i}/purchases", {"order_id": f"o{i}", "amount_minor": 100000}
        )
        assert status == 201, reply
        replies.append(reply)
    assert [r["tier"] for r in replies] == ["gold", "gold"]
    assert [len(r["coupons"]) for r in replies] == [1, 0]
    assert replies[0]["points_earned"] == replies[1]["points_earned"] + 50
    sources = [c["source"] for c in wallet(api, "m1")]
    assert not any(s.startswith("upgrade:") for s in sources), sources


def test_an_upgrade_found_by_a_tier_evaluation_takes_the_same_budget(api: Api) -> None:
    doc = program("demo")
    doc["tiers"]["levels"][1]["on_upgrade"]["budget"] = 1
    put(api, doc)
    for i in range(2):
        api.call("enrol", "POST", "/programs/demo/members", {"member_id": f"m{i}"})
        api.call("earn", "POST", f"/programs/demo/members/m{i}/purchases", {"order_id": f"o{i}", "amount_minor": 60000})
    doc["tiers"]["levels"][1]["threshold"] = 50000  # both now qualify for gold, found at evaluation
    put(api, doc)
    for i in range(2):
        status, reply = api.call("evaluate_tier", "POST", f"/programs/demo/members/m{i}/tier-evaluations", {})
        assert status == 200 and reply["to"] == "gold", reply
    upgrade_coupons = [c for i in range(2) for c in wallet(api, f"m{i}") if c["source"].startswith("upgrade:")]
    assert len(upgrade_coupons) == 1


def test_churn_warning_recall_and_birthday_budgets(api: Api) -> None:
    doc = program("demo")
    doc["lifecycle"]["welcome"] = {"points": 100}
    doc["lifecycle"]["churn_warning"]["budget"] = 1
    doc["lifecycle"]["recall"]["budget"] = 2
    doc["lifecycle"]["birthday"]["budget"] = 1
    doc["tiers"]["levels"][1].pop("every_month")
    programs.save(store(), "demo", doc)
    t0 = datetime(2026, 1, 5, 4, tzinfo=UTC)
    for i in range(3):
        members.enrol(store(), "demo", Enrol(member_id=f"m{i}", birthday="1990-01-20"), t0)
    assert run_kind("benefits", t0) == 3  # January is everyone's birthday month
    birthday = [c for i in range(3) for c in wallet(api, f"m{i}") if c["source"].startswith("birthday:")]
    assert len(birthday) == 1
    assert run_kind("churn", datetime(2026, 2, 6, 4, tzinfo=UTC)) == 3  # 32 days idle: the warning
    stages = [api.call("members", "GET", f"/programs/demo/members/m{i}")[1]["lifecycle_stage"] for i in range(3)]
    assert stages == ["at_risk"] * 3  # every member moves on; only the coupons are capped
    warned = [c for i in range(3) for c in wallet(api, f"m{i}") if c["source"].startswith("churn_warning:")]
    assert len(warned) == 1
    assert run_kind("churn", datetime(2026, 4, 6, 4, tzinfo=UTC)) == 3  # 91 days idle: the recall
    recalled = [c for i in range(3) for c in wallet(api, f"m{i}") if c["source"].startswith("recall:")]
    assert len(recalled) == 2


def test_card_pack_and_cycle_budgets(api: Api) -> None:
    doc = program("paid-card")
    doc["paid_cards"][0]["on_purchase"]["budget"] = 1
    doc["paid_cards"][0]["every_cycle"]["budget"] = 1
    put(api, doc)
    replies = []
    for i in range(2):
        api.call("enrol", "POST", "/programs/demo/members", {"member_id": f"m{i}"})
        pay = {"payment_id": f"p{i}", "plan_id": "plus-quarter", "amount_paid_minor": 4500}
        status, reply = api.call("purchase_paid_card", "POST", f"/programs/demo/members/m{i}/paid-cards", pay)
        assert status == 201, reply
        replies.append(reply)
    assert all(r["card"]["plan_id"] == "plus-quarter" for r in replies)  # both cards bought
    assert [len(r["coupons"]) for r in replies] == [1 + 3, 0]  # pack and first cycle: one member each
    refund = api.call(
        "purchase_paid_card", "POST", "/programs/demo/members/m1/paid-cards/plus-quarter/refund", {"refund_id": "r1"}
    )
    assert refund[0] == 201 and refund[1]["refund_minor"] == 4500 and refund[1]["coupons_revoked"] == []


def test_a_reward_budget_refuses_the_redemption_with_nothing_changed(api: Api) -> None:
    doc = program("points-only")
    doc["rewards"][0]["grant"]["budget"] = 3
    put(api, doc)
    api.call("enrol", "POST", "/programs/demo/members", {"member_id": "m1"})
    api.call("earn", "POST", "/programs/demo/members/m1/purchases", {"order_id": "o1", "amount_minor": 1000000})
    path = "/programs/demo/members/m1/redemptions"
    status, first = api.call("redeem", "POST", path, {"redemption_id": "r1", "reward_id": "coffee", "quantity": 2})
    assert status == 201 and len(first["coupons"]) == 2
    status, refused = api.call("redeem", "POST", path, {"redemption_id": "r2", "reward_id": "coffee", "quantity": 2})
    assert status == 409 and refused["error"]["code"] == "limit_reached", refused
    assert refused["error"]["details"][0]["field"] == "reward_id"
    balance = api.call("members", "GET", "/programs/demo/members/m1")[1]["points"]["balance"]
    assert balance == first["balance"]
    status, last = api.call("redeem", "POST", path, {"redemption_id": "r3", "reward_id": "coffee"})
    assert status == 201 and len(last["coupons"]) == 1  # the one left


def test_a_budget_costs_no_round_trip(api: Api, calls: Counter[str]) -> None:  # noqa: F811
    doc = program("demo")
    doc["lifecycle"]["welcome"]["budget"] = 1
    doc["tiers"]["levels"][1]["on_upgrade"]["budget"] = 1
    put(api, doc)
    api.call("members", "GET", "/programs/demo/members/nobody")  # warms the program cache
    enrol = ("enrol", "POST", "/programs/demo/members")
    assert measure(calls, api, *enrol, {"member_id": "m1"}) == {"TransactWriteItems": 1}  # the item joins it
    # Spent: the cancelled transaction names the budget, and the retry goes without the pack at once.
    assert measure(calls, api, *enrol, {"member_id": "m2"}) == {"TransactWriteItems": 2}
    buy = {"order_id": "o1", "amount_minor": 120000}
    path = "/programs/demo/members/m1/purchases"
    assert measure(calls, api, "earn", "POST", path, buy) == {"GetItem": 1, "TransactWriteItems": 1}
