"""What a member cannot do to the program through its own routes (issue 27, items 4-6): mint points
with activity types the program does not let it report, take the server's (or another member's) client
ids, farm welcome packs by erasure and self-enrolment."""

from __future__ import annotations

from collections import Counter
from typing import Any

from tests.handlers.conftest import Api
from tests.handlers.test_cost import calls, measure  # noqa: F401 - calls is a fixture
from tests.support import program

SERVER = "/programs/demo/members"
ME = "/programs/demo/me"


def assert_forbidden(status: int, body: dict[str, Any], field: str) -> None:
    assert status == 403 and body["error"]["code"] == "forbidden"
    assert [d["field"] for d in body["error"]["details"]] == [field]


def enrol(api: Api, member_id: str) -> None:
    assert api.call("enrol", "POST", SERVER, {"member_id": member_id})[0] == 201


def balance(api: Api, member_id: str) -> int:
    return int(api.call("members", "GET", f"{SERVER}/{member_id}")[1]["points"]["balance"])


# ---- 4. self-reported activities -------------------------------------------------------------------


def test_a_member_reports_only_self_report_types(api: Api, demo: str) -> None:
    enrol(api, "alice")
    before = balance(api, "alice")
    status, body = api.call("earn", "POST", f"{ME}/activities", {"activity_id": "s1", "type": "share"}, sub="alice")
    assert_forbidden(status, body, "type")
    assert balance(api, "alice") == before  # nothing credited
    status, body = api.call("earn", "POST", f"{ME}/activities", {"activity_id": "c1", "type": "check_in"}, sub="alice")
    assert (status, body["points_earned"]) == (201, 5)
    # The server reports every type.
    status, body = api.call("earn", "POST", f"{SERVER}/alice/activities", {"activity_id": "s1", "type": "share"})
    assert (status, body["points_earned"]) == (201, 10)


def test_self_report_defaults_to_false(api: Api) -> None:
    doc = program("demo")
    doc["points"]["activities"] = {"check_in": {"points": 5}}
    assert api.call("programs", "PUT", "/programs/demo", doc)[0] == 200
    enrol(api, "alice")
    status, body = api.call("earn", "POST", f"{ME}/activities", {"activity_id": "c1", "type": "check_in"}, sub="alice")
    assert_forbidden(status, body, "type")
    status, doc_back = api.call("programs", "GET", "/programs/demo")
    assert status == 200 and "self_report" not in doc_back["points"]["activities"]["check_in"]


# ---- 5. a member's own client ids ------------------------------------------------------------------


def test_a_members_ids_do_not_take_the_servers(api: Api, demo: str) -> None:
    enrol(api, "alice")
    enrol(api, "bob")
    mine = {"activity_id": "share-bob-2026-12-06", "type": "check_in"}
    assert api.call("earn", "POST", f"{ME}/activities", mine, sub="alice")[0] == 201
    server = {"activity_id": "share-bob-2026-12-06", "type": "share"}
    status, body = api.call("earn", "POST", f"{SERVER}/bob/activities", server)
    assert (status, body["points_earned"]) == (201, 10)
    # Nor another member's: bob's own id of the same name is his.
    status, body = api.call("earn", "POST", f"{ME}/activities", mine, sub="bob")
    assert (status, body["points_earned"]) == (201, 5)
    # A repeat by the same member answers its first result, with no second effect.
    before = balance(api, "alice")
    status, body = api.call("earn", "POST", f"{ME}/activities", mine, sub="alice")
    assert (status, body["points_earned"]) == (200, 5)
    assert balance(api, "alice") == before
    status, body = api.call("earn", "POST", f"{ME}/activities", {**mine, "type": "other"}, sub="alice")
    assert status == 409 and body["error"]["code"] == "idempotency_conflict"


def test_a_members_redemption_ids_do_not_take_the_servers(api: Api, demo: str) -> None:
    for mid in ("alice", "bob"):
        enrol(api, mid)
        assert api.call("earn", "POST", f"{SERVER}/{mid}/purchases", {"order_id": f"o-{mid}", "amount_minor": 200000})
    redeem = {"redemption_id": "red-bob-1", "reward_id": "coupon-5"}
    assert api.call("redeem", "POST", f"{ME}/redemptions", redeem, sub="alice")[0] == 201
    status, body = api.call("redeem", "POST", f"{SERVER}/bob/redemptions", redeem)
    assert (status, body["points_spent"]) == (201, 500)
    status, again = api.call("redeem", "POST", f"{ME}/redemptions", redeem, sub="alice")
    assert status == 200 and again["points_spent"] == 500


def test_a_members_own_id_and_the_servers_for_that_member_are_two_writes(api: Api, demo: str) -> None:
    """The same id for the same member, once by the member and once by the server: two redemptions, two
    coupons (their ids derive from what issued them, a member's own write named apart)."""
    enrol(api, "alice")
    assert api.call("earn", "POST", f"{SERVER}/alice/purchases", {"order_id": "o-1", "amount_minor": 200000})[0] == 201
    redeem = {"redemption_id": "r-1", "reward_id": "coupon-5"}
    status, mine = api.call("redeem", "POST", f"{ME}/redemptions", redeem, sub="alice")
    assert status == 201, mine
    status, theirs = api.call("redeem", "POST", f"{SERVER}/alice/redemptions", redeem)
    assert status == 201, theirs
    assert {c["coupon_id"] for c in mine["coupons"]}.isdisjoint(c["coupon_id"] for c in theirs["coupons"])
    wallet = api.call("members", "GET", f"{SERVER}/alice/coupons")[1]["coupons"]
    assert sum(c["template_id"] == mine["coupons"][0]["template_id"] for c in wallet) >= 2


def test_erasure_moves_a_members_own_references(api: Api, demo: str) -> None:
    from tests.handlers.test_erasure import everything

    enrol(api, "alice")
    mine = {"activity_id": "c1", "type": "check_in"}
    assert api.call("earn", "POST", f"{ME}/activities", mine, sub="alice")[0] == 201
    assert api.call("enrol", "DELETE", f"{SERVER}/alice")[0] == 200
    naming = [i["pk"] for i in everything(api) if "alice" in str(i)]
    assert naming == ["ERASED#demo#alice"]  # the reference's key no longer names her
    refs = [i for i in everything(api) if i["pk"].startswith("REF#demo#activity#")]
    assert len(refs) == 1 and refs[0]["member_id"].startswith("erased-") and refs[0]["member_id"] in refs[0]["pk"]
    # Enrolled again, alice's id c1 is free for the new member.
    enrol(api, "alice")
    status, body = api.call("earn", "POST", f"{ME}/activities", mine, sub="alice")
    assert (status, body["points_earned"]) == (201, 5)


# ---- 6. welcome packs ------------------------------------------------------------------------------


def test_no_second_welcome_after_erasure(api: Api, demo: str) -> None:
    status, first = api.call("enrol", "POST", ME, {}, sub="alice")
    assert status == 201 and first["points"]["balance"] == 100
    assert api.call("enrol", "DELETE", f"{SERVER}/alice")[0] == 200
    status, again = api.call("enrol", "POST", ME, {}, sub="alice")
    assert status == 201 and again["points"]["balance"] == 0
    assert api.call("members", "GET", f"{ME}/coupons", sub="alice")[1]["coupons"] == []
    assert api.call("members", "GET", f"{ME}/ledger", sub="alice")[1]["entries"] == []
    # No first-order bonus either: the returning member earns the order's base points only.
    status, order = api.call("earn", "POST", f"{SERVER}/alice/purchases", {"order_id": "o1", "amount_minor": 1000})
    assert status == 201 and order["points_earned"] == 10 and order["breakdown"]["first_order_bonus"] == 0
    # The table keeps no readable trace of the id: the marker is a keyed hash.
    from tests.handlers.test_erasure import everything

    assert api.call("enrol", "DELETE", f"{SERVER}/alice")[0] == 200
    assert [i["pk"] for i in everything(api) if "alice" in str(i)] == ["ERASED#demo#alice"]


def test_a_new_member_still_gets_the_welcome(api: Api, demo: str) -> None:
    assert api.call("enrol", "POST", ME, {}, sub="alice")[0] == 201
    assert api.call("enrol", "DELETE", f"{SERVER}/alice")[0] == 200
    status, bob = api.call("enrol", "POST", ME, {}, sub="bob")
    assert status == 201 and bob["points"]["balance"] == 100


def test_a_program_may_refuse_self_enrolment(api: Api) -> None:
    doc = {**program("demo"), "enrolment": {"self_service": False}}
    assert api.call("programs", "PUT", "/programs/demo", doc)[0] == 200
    status, body = api.call("enrol", "POST", ME, {}, sub="alice")
    assert status == 403 and body["error"]["code"] == "forbidden"
    assert api.call("members", "GET", ME, sub="alice")[0] == 404
    assert api.call("enrol", "POST", SERVER, {"member_id": "alice"})[0] == 201  # the server still enrols
    doc["enrolment"] = {"self_service": True}
    assert api.call("programs", "PUT", "/programs/demo", doc)[0] == 200
    assert api.call("enrol", "POST", ME, {}, sub="bob")[0] == 201


def test_the_member_key_outlives_versions_and_is_made_for_older_programs(api: Api, demo: str) -> None:
    config = {"pk": {"S": "PROGRAM#demo"}, "sk": {"S": "CONFIG"}}

    def member_key() -> str | None:
        item = api.client.get_item(TableName="LoyaltyTable", Key=config)["Item"]
        return item["member_key"]["S"] if "member_key" in item else None

    first = member_key()
    assert first is not None and len(first) == 64
    assert api.call("programs", "PUT", "/programs/demo", program("demo"))[0] == 200
    assert member_key() == first  # a later version keeps the key, or FORMER markers would be lost
    # A program saved before programs had a key gets one when first needed, and keeps it.
    api.client.update_item(TableName="LoyaltyTable", Key=config, UpdateExpression="REMOVE member_key")
    from loyalty.usecases import programs

    programs._cache.clear()
    assert api.call("enrol", "POST", ME, {}, sub="alice")[0] == 201
    made = member_key()
    assert made is not None and made != first
    assert api.call("enrol", "DELETE", f"{SERVER}/alice")[0] == 200
    assert api.call("programs", "PUT", "/programs/demo", program("demo"))[0] == 200
    assert member_key() == made
    status, again = api.call("enrol", "POST", ME, {}, sub="alice")
    assert status == 201 and again["points"]["balance"] == 0


def test_round_trips_of_enrolments(api: Api, demo: str, calls: Counter[str]) -> None:  # noqa: F811 - the fixture
    api.call("members", "GET", f"{SERVER}/nobody")  # warms the program cache
    # The FORMER check rides in the enrolment's own transaction: nothing more for a new member.
    assert measure(calls, api, "enrol", "POST", ME, {}, sub="alice") == {"TransactWriteItems": 1}
    assert api.call("enrol", "DELETE", f"{SERVER}/alice")[0] == 200
    # A returning member: the transaction that finds the marker, then the one without the pack.
    assert measure(calls, api, "enrol", "POST", ME, {}, sub="alice") == {"TransactWriteItems": 2}
    # A member's own activity: as the server's, 1 read + 1 transaction.
    check_in = {"activity_id": "c1", "type": "check_in"}
    assert measure(calls, api, "earn", "POST", f"{ME}/activities", check_in, sub="alice") == {
        "GetItem": 1,
        "TransactWriteItems": 1,
    }
