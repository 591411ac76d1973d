"""Inputs the contract allows that DynamoDB's limits would turn into a 500 (issue 14, section 4): each
is refused up front with a 4xx in the contract's error shape that states the limit."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from loyalty.member import Profile
from loyalty.program import BASE_ITEMS, Program
from loyalty.rules import due
from loyalty.rules.posting import Change
from loyalty.runtime import store
from loyalty.schemas import CardPurchase, Enrol
from loyalty.store import MemberWrite, TooLarge
from loyalty.usecases import cards, members, pipeline, programs, scheduler, sweeps
from tests.handlers.conftest import Api
from tests.handlers.test_api import assert_error
from tests.support import program

# What the store writes for a program version (store.put_program): the document as compact JSON.
PROGRAM_LIMIT = 400_000


def stored_bytes(doc: dict[str, Any]) -> int:
    return len(json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode())  # UTF-8, not escaped


def with_templates(count: int) -> dict[str, Any]:
    doc = program("demo")
    for i in range(count):
        doc["coupons"][f"extra-{i:05d}"] = {
            "name": f"Extra {i}",
            "kind": "amount_off",
            "value_minor": 100,
            "valid_days": 30,
        }
    return doc


def padded_to(size: int) -> dict[str, Any]:
    """A valid program whose stored document is exactly `size` bytes (templates, then one padded name)."""
    doc = program("demo")
    template = {"name": "Extra", "kind": "gift", "valid_days": 30}
    each = len(json.dumps({"extra-00000": template}, separators=(",", ":"))) - 1  # key, value and a comma
    for i in range((size - 140 - stored_bytes(doc)) // each):  # ~140 left: the padding template, ~50 + its name
        doc["coupons"][f"extra-{i:05d}"] = template
    doc["coupons"]["pad"] = {"name": "p", "kind": "gift", "valid_days": 1}
    while size - stored_bytes(doc) > 99:  # a name is at most 100 characters
        doc["coupons"][f"more-{len(doc['coupons'])}"] = template
    doc["coupons"]["pad"]["name"] = "p" * (1 + size - stored_bytes(doc))
    assert stored_bytes(doc) == size and len(doc["coupons"]["pad"]["name"]) <= 100
    return doc


# ---- programs over DynamoDB's 400 KB item limit ------------------------------------------------------


def test_a_valid_program_over_the_item_limit_is_refused_with_the_limit_and_writes_nothing(api: Api) -> None:
    doc = with_templates(5000)
    assert stored_bytes(doc) > PROGRAM_LIMIT
    status, body = api.call("programs", "PUT", "/programs/big", doc)
    assert_error(status, body, 422, "program_invalid", "coupons")
    [detail] = body["error"]["details"]
    assert detail["limit_bytes"] == PROGRAM_LIMIT and detail["bytes"] == stored_bytes(doc)
    assert "400000" in body["error"]["message"].replace(",", "")
    assert api.items() == 0
    # The same id still takes a program that fits, as version 1.
    status, saved = api.call("programs", "PUT", "/programs/big", program("demo"))
    assert (status, saved["version"]) == (200, 1)


def test_a_program_of_exactly_the_limit_is_saved_and_one_byte_more_is_refused(api: Api) -> None:
    status, saved = api.call("programs", "PUT", "/programs/edge", padded_to(PROGRAM_LIMIT))
    assert (status, saved["version"]) == (200, 1), saved
    status, body = api.call("programs", "GET", "/programs/edge")
    assert status == 200 and len(body["coupons"]) > 3000
    status, body = api.call("programs", "PUT", "/programs/edge", padded_to(PROGRAM_LIMIT + 1))
    assert_error(status, body, 422, "program_invalid", "coupons")


def test_an_invalid_program_over_the_limit_lists_its_problems(api: Api) -> None:
    doc = with_templates(5000)
    doc["rewards"][0]["grant"]["coupons"] = ["nope"]
    status, body = api.call("programs", "PUT", "/programs/big", doc)
    assert_error(status, body, 422, "program_invalid", "rewards[0].grant.coupons[0]")


# ---- redemptions: what one transaction can hold -------------------------------------------------------


def shop() -> dict[str, Any]:
    doc = program("demo")
    doc["coupons"]["b"] = {"name": "B", "kind": "gift", "valid_days": 30}
    doc["rewards"] = [
        {"id": "one", "name": "One", "cost_points": 1, "grant": {"coupons": ["welcome-10"]}, "stock": 1000},
        {"id": "pair", "name": "Pair", "cost_points": 1, "grant": {"coupons": ["welcome-10", "b"]}},
        {"id": "mug", "name": "Mug", "cost_points": 1, "fulfilment": "goods"},
        # A budget is one more item in the redemption's transaction: one coupon less fits.
        {
            "id": "capped",
            "name": "Capped",
            "cost_points": 1,
            "grant": {"coupons": ["welcome-10"], "budget": 1000},
            "stock": 1000,
        },
    ]
    return doc


def rich_member(api: Api, pid: str) -> int:
    assert api.call("programs", "PUT", f"/programs/{pid}", shop())[0] == 200
    assert api.call("enrol", "POST", f"/programs/{pid}/members", {"member_id": "m1"})[0] == 201
    status, body = api.call(
        "earn", "POST", f"/programs/{pid}/members/m1/purchases", {"order_id": "o1", "amount_minor": 100000}
    )
    assert status == 201, body
    return body["balance"]


def redeem(api: Api, pid: str, rid: str, reward: str, quantity: int) -> tuple[int, Any]:
    body = {"redemption_id": rid, "reward_id": reward, "quantity": quantity}
    return api.call("redeem", "POST", f"/programs/{pid}/members/m1/redemptions", body)


def test_a_redemption_issues_at_most_87_coupons_and_one_more_is_a_422_naming_quantity(api: Api) -> None:
    balance = rich_member(api, "shop")
    for reward, most in (("one", 87), ("pair", 43), ("capped", 86)):
        status, body = redeem(api, "shop", f"over-{reward}", reward, most + 1)
        assert_error(status, body, 422, "validation_error", "quantity")
        [detail] = body["error"]["details"]
        assert detail["max"] == most and str(most) in detail["message"]
    status, member = api.call("members", "GET", "/programs/shop/members/m1")
    assert member["points"]["balance"] == balance  # nothing changed
    for reward, most in (("one", 87), ("pair", 43), ("mug", 100), ("capped", 86)):
        status, body = redeem(api, "shop", f"max-{reward}", reward, most)
        assert status == 201, body
        assert len(body["coupons"]) == most * {"one": 1, "pair": 2, "mug": 0, "capped": 1}[reward]
    # The refusal stays a refusal for that id: it was never written.
    assert redeem(api, "shop", "over-one", "one", 88)[0] == 422


def test_the_openapi_document_states_the_quantity_rule(api: Api) -> None:
    status, doc = api.call("docs", "GET", "/openapi.json")
    assert status == 200
    quantity = doc["components"]["schemas"]["Redeem"]["properties"]["quantity"]
    assert quantity["maximum"] == 100 and "87" in quantity["description"]
    put = doc["paths"]["/programs/{program_id}"]["put"]
    assert "400,000 bytes" in put["description"] and "100 items" in put["description"]


def test_the_base_items_are_what_the_store_writes_besides_what_a_write_issues() -> None:
    at = datetime(2026, 1, 5, tzinfo=UTC)
    change = Change.start(
        Program.model_validate(program("demo")), Profile(program_id="p", member_id="m", enrolled_at=at), at
    )
    # profile + reference + audit + stock shard + expiry entry, and one DUE item per scheduled kind
    assert 5 + len(due.days(change)) == BASE_ITEMS


# ---- every other write: refused at PUT when one write could not hold what it issues -------------------


def levels(*coupons: int, points: int = 0) -> dict[str, Any]:
    doc = program("demo")
    doc["tiers"]["levels"] = [{"id": "l0", "name": "L0", "threshold": 0}] + [
        {"id": f"l{i}", "name": f"L{i}", "threshold": 1000 * i, "on_upgrade": {"coupons": ["welcome-10"] * n}}
        for i, n in enumerate(coupons, start=1)
    ]
    doc["tiers"]["levels"][-1]["on_upgrade"]["points"] = points
    return doc


def test_upgrade_gifts_of_every_level_at_once_must_fit_one_transaction(api: Api) -> None:
    status, body = api.call("programs", "PUT", "/programs/up", levels(20, 20, 20, 20, 20))
    assert_error(status, body, 422, "program_invalid", "tiers.levels[5].on_upgrade")
    assert "100" in body["error"]["details"][0]["message"]
    # The most that fits: one purchase crosses every level and gets every gift, in one transaction.
    assert api.call("programs", "PUT", "/programs/up", levels(20, 20, 20, 19, 1, points=5))[0] == 200
    assert api.call("enrol", "POST", "/programs/up/members", {"member_id": "m1"})[0] == 201
    order = {"order_id": "o1", "amount_minor": 100000}
    status, body = api.call("earn", "POST", "/programs/up/members/m1/purchases", order)
    assert status == 201, body
    assert body["tier"] == "l5" and len(body["coupons"]) == 80


def plan(plan_id: str, coupons: int, period: int = 3) -> dict[str, Any]:
    return {
        "id": plan_id,
        "name": plan_id,
        "kind": "identity",
        "price_minor": 4500,
        "period_months": period,
        "cycle_months": 1,
        "every_cycle": {"coupons": ["welcome-10"] * coupons},
    }


def test_a_card_payment_with_all_its_cycles_and_notices_must_fit_one_transaction(api: Api) -> None:
    doc = program("demo")
    doc["paid_cards"] = [plan("long", 1, period=60)]  # 60 coupons (under 80) and 60 cycle notices
    status, body = api.call("programs", "PUT", "/programs/cards", doc)
    assert_error(status, body, 422, "program_invalid", "paid_cards[0].every_cycle")
    doc["paid_cards"] = [plan(f"c{i}", 6) for i in range(12)]  # each fits; a cycle of all twelve does not
    status, body = api.call("programs", "PUT", "/programs/cards", doc)
    assert_error(status, body, 422, "program_invalid", "paid_cards")
    doc["paid_cards"] = [plan("long", 1, period=40)]  # 40 cycles: a run that comes late for all of them fits
    assert api.call("programs", "PUT", "/programs/cards", doc)[0] == 200
    paid = datetime(2022, 1, 1, tzinfo=UTC)
    members.enrol(store(), "cards", Enrol(member_id="m1"), paid)
    card = CardPurchase(payment_id="pay", plan_id="long", amount_paid_minor=4500, paid_at=paid)
    assert len(cards.purchase(store(), "cards", "m1", card, paid).result.coupons) == 1  # the first cycle
    # (A payment confirmed that late is refused: rules/cards.check_paid_at.) No run for 4 years, then one:
    # every other cycle at once, and the end, in one write.
    assert sweeps.settle(store(), programs.load(store(), "cards"), "cards", "m1", datetime(2026, 1, 5, 4, tzinfo=UTC))
    wallet = api.call("members", "GET", "/programs/cards/members/m1/coupons")[1]["coupons"]
    assert len([c for c in wallet if c["source"].startswith("card:")]) == 40
    assert api.call("members", "GET", "/programs/cards/members/m1")[1]["paid_cards"] == []


def test_the_store_refuses_a_transaction_over_100_items_without_writing(api: Api) -> None:
    assert api.call("programs", "PUT", "/programs/demo", program("demo"))[0] == 200
    t0 = datetime(2026, 1, 5, 4, tzinfo=UTC)
    members.enrol(store(), "demo", Enrol(member_id="m1"), t0)
    before = api.items()
    profile = pipeline.existing(store(), "demo", "m1")
    change = Change.start(programs.load(store(), "demo"), profile, t0)
    change.give_coupons(["welcome-10"] * 100, t0, "test")
    with pytest.raises(TooLarge) as raised:
        store().commit(MemberWrite(change=change, expected_version=profile.version), "demo")
    assert raised.value.limit == 100 and raised.value.size > 100
    assert api.items() == before


def test_a_sweep_too_big_for_one_transaction_settles_each_kind_in_its_own(api: Api) -> None:
    doc = program("demo")
    doc["tiers"]["levels"][0]["every_month"] = {"coupons": ["welcome-10"] * 20}
    doc["lifecycle"]["birthday"] = {"coupons": ["welcome-10"] * 20}
    doc["lifecycle"]["churn_warning"]["coupons"] = ["welcome-10"] * 20
    doc["paid_cards"] = [plan("a", 20), plan("b", 20)]
    assert api.call("programs", "PUT", "/programs/big", doc)[0] == 200
    t0 = datetime(2026, 1, 5, 4, tzinfo=UTC)
    members.enrol(store(), "big", Enrol(member_id="m1", birthday="02-10"), t0)
    for plan_id in ("a", "b"):
        cards.purchase(
            store(), "big", "m1", CardPurchase(payment_id=plan_id, plan_id=plan_id, amount_paid_minor=4500), t0
        )
    held = len(store().coupons("big", "m1"))
    # On Feb 6 all at once: February's tier and birthday gifts (40), the churn warning (20) and a cycle
    # of both cards (40 and 2 notices), over 100 items with the profile and the due index.
    run = datetime(2026, 2, 6, 4, tzinfo=UTC)
    settled = 0
    for item in scheduler.plan(run, ["benefits", "churn", "cards"]):
        stats, _ = scheduler.work(store(), item, lambda: 900)
        settled += stats.get("members_settled", 0)
        assert "members_too_large" not in stats
    assert settled == 1
    sources = [c.source for c in store().coupons("big", "m1")]
    assert len(sources) == held + 100
    assert pipeline.existing(store(), "big", "m1").lifecycle_stage == "at_risk"
    for item in scheduler.plan(run, ["benefits", "churn", "cards"]):  # a repeat changes nothing
        assert scheduler.work(store(), item, lambda: 900)[0].get("members_settled", 0) == 0
