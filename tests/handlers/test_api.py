"""The contract's routes through the real handlers (moto): results, repeats, and the error shape."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from loyalty.runtime import store
from loyalty.usecases import programs, scheduler
from tests.handlers.conftest import Api
from tests.support import program

M = "/programs/demo/members/m1"


def enrol(api: Api, member: str = "m1", **extra: object) -> dict:
    status, body = api.call("enrol", "POST", "/programs/demo/members", {"member_id": member, **extra})
    assert status == 201, body
    return body


def buy(api: Api, order: str, amount: int, member: str = "m1", **extra: object) -> tuple[int, dict]:
    return api.call(
        "earn",
        "POST",
        f"/programs/demo/members/{member}/purchases",
        {"order_id": order, "amount_minor": amount, **extra},
    )


def ledger(api: Api, member: str = "m1") -> list[dict]:
    status, body = api.call("members", "GET", f"/programs/demo/members/{member}/ledger", query={"limit": "100"})
    assert status == 200
    return body["entries"]


def assert_error(status: int, body: dict, expected_status: int, code: str, field: str | None = None) -> None:
    assert status == expected_status, body
    assert set(body) == {"error"} and body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and "Traceback" not in body["error"]["message"]
    if field is not None:
        assert field in [d.get("field") for d in body["error"]["details"]], body


# ---- programs ------------------------------------------------------------------------------------


def test_program_put_get_and_versions(api: Api) -> None:
    status, saved = api.call("programs", "PUT", "/programs/p1", program("demo"))
    assert (status, saved["version"]) == (200, 1)
    status, saved = api.call("programs", "PUT", "/programs/p1", program("points-only"))
    assert (status, saved["version"]) == (200, 2)
    status, doc = api.call("programs", "GET", "/programs/p1")
    assert status == 200 and doc["version"] == 2 and doc["name"] == "Points only" and doc["program_id"] == "p1"


def test_program_invalid_lists_every_problem_and_writes_nothing(api: Api) -> None:
    doc = program("demo")
    doc["tiers"]["levels"][2]["threshold"] = 50  # below gold
    doc["rewards"][0]["grant"]["coupons"] = ["nope"]
    doc["lifecycle"]["recall"]["after_days"] = 10  # before the churn warning
    status, body = api.call("programs", "PUT", "/programs/p1", doc)
    assert_error(status, body, 422, "program_invalid")
    fields = {d["field"] for d in body["error"]["details"]}
    assert {"tiers.levels[2].threshold", "rewards[0].grant.coupons[0]", "lifecycle.recall.after_days"} <= fields
    assert api.items() == 0


def test_unknown_program_is_404(api: Api) -> None:
    assert_error(*api.call("programs", "GET", "/programs/nope"), 404, "not_found")
    status, body = api.call("enrol", "POST", "/programs/nope/members", {"member_id": "m1"})
    assert_error(status, body, 404, "not_found")


# ---- enrolment -----------------------------------------------------------------------------------


def test_enrol_grants_the_welcome_pack_once(api: Api, demo: str) -> None:
    first = enrol(api)
    assert first["points"]["balance"] == 100 and first["tier"]["id"] == "star" and first["lifecycle_stage"] == "new"
    status, again = api.call("enrol", "POST", "/programs/demo/members", {"member_id": "m1"})
    assert status == 200 and again["points"]["balance"] == 100
    assert [e["type"] for e in ledger(api)] == ["welcome"]
    status, wallet = api.call("members", "GET", f"{M}/coupons")
    assert status == 200 and [c["template_id"] for c in wallet["coupons"]] == ["welcome-10"]


def test_migrated_member_keeps_enrolled_at_and_gets_no_welcome(api: Api, demo: str) -> None:
    body = enrol(api, enrolled_at="2020-01-02T03:04:05+08:00", birthday="1990-05-17")
    assert body["enrolled_at"].startswith("2020-01-01T19:04:05") and body["points"]["balance"] == 0
    assert ledger(api) == []


def test_self_enrolment_needs_a_token(api: Api, demo: str) -> None:
    status, body = api.call("enrol", "POST", "/programs/demo/me", {"birthday": "05-17"})
    assert_error(status, body, 401, "unauthorized")
    status, body = api.call("enrol", "POST", "/programs/demo/me", {"birthday": "05-17"}, sub="u-7")
    assert status == 201 and body["member_id"] == "u-7" and body["birthday"] == "05-17"
    status, me = api.call("members", "GET", "/programs/demo/me", sub="u-7")
    assert status == 200 and me["member_id"] == "u-7"


# ---- earning -------------------------------------------------------------------------------------


def test_purchase_earns_bonus_upgrades_and_repeats_without_effect(api: Api, demo: str) -> None:
    enrol(api)
    status, first = buy(api, "o1", 150000)
    assert status == 201
    assert first["points_earned"] == 1500 + 200  # 1 point per 1.00, plus the first-order bonus
    assert (first["tier"], first["tier_changed"]) == ("gold", True)
    assert [c["source"] for c in first["coupons"]] == ["upgrade:gold:o1"]
    status, again = buy(api, "o1", 150000)
    assert status == 200 and again == first
    status, body = buy(api, "o1", 150001)
    assert_error(status, body, 409, "idempotency_conflict", "order_id")
    entries = ledger(api)
    assert [e["type"] for e in entries] == ["bonus", "earn", "welcome"]
    assert entries[0]["balance_after"] == sum(e["points"] for e in entries) == 1800


def test_gold_multiplier_applies_after_the_upgrade(api: Api, demo: str) -> None:
    enrol(api)
    buy(api, "o1", 100000)
    status, second = buy(api, "o2", 1999)
    assert status == 201 and second["points_earned"] == 23  # floor(1999 * 1.2 / 100)
    assert second["breakdown"]["multiplier"] == "1.2"


def test_refund_reverses_in_proportion_and_leaves_qualification(api: Api, demo: str) -> None:
    enrol(api)
    buy(api, "o1", 150000)
    status, refund = api.call(
        "earn", "POST", f"{M}/refunds", {"refund_id": "r1", "order_id": "o1", "amount_minor": 75000}
    )
    assert status == 201 and refund["points_reversed"] == 850  # half of 1700
    status, view = api.call("members", "GET", M)
    assert view["points"]["balance"] == 100 + 1700 - 850
    assert view["tier"]["progress"]["value"] == 75000
    status, body = api.call(
        "earn", "POST", f"{M}/refunds", {"refund_id": "r2", "order_id": "o1", "amount_minor": 75001}
    )
    assert_error(status, body, 422, "validation_error", "amount_minor")
    status, again = api.call(
        "earn", "POST", f"{M}/refunds", {"refund_id": "r1", "order_id": "o1", "amount_minor": 75000}
    )
    assert status == 200 and again == refund
    status, body = api.call("earn", "POST", f"{M}/refunds", {"refund_id": "r3", "order_id": "nope", "amount_minor": 1})
    assert_error(status, body, 404, "not_found", "order_id")


def test_activities_are_capped_per_day(api: Api, demo: str) -> None:
    enrol(api)
    status, body = api.call(
        "earn", "POST", "/programs/demo/me/activities", {"activity_id": "a1", "type": "check_in"}, sub="m1"
    )
    assert (status, body["points_earned"]) == (201, 5)
    status, body = api.call(
        "earn", "POST", "/programs/demo/me/activities", {"activity_id": "a2", "type": "check_in"}, sub="m1"
    )
    assert_error(status, body, 409, "limit_reached")
    status, body = api.call(
        "earn", "POST", "/programs/demo/me/activities", {"activity_id": "a1", "type": "check_in"}, sub="m1"
    )
    assert status == 200 and body["points_earned"] == 5  # the retry of a1 still answers its first result
    status, body = api.call(
        "earn", "POST", "/programs/demo/me/activities", {"activity_id": "a3", "type": "dance"}, sub="m1"
    )
    assert_error(status, body, 422, "validation_error", "type")
    status, body = api.call(
        "earn",
        "POST",
        "/programs/demo/me/activities",
        {"activity_id": "a4", "type": "share", "at": "2026-01-01T00:00:00Z"},
        sub="m1",
    )
    assert_error(status, body, 422, "validation_error", "at")  # a member cannot date its own activity


# ---- reads ---------------------------------------------------------------------------------------


def test_ledger_pages_with_a_cursor(api: Api, demo: str) -> None:
    enrol(api)
    for i in range(5):
        buy(api, f"o{i}", 1000)
    seen, cursor = [], None
    while True:
        query = {"limit": "2"} | ({"cursor": cursor} if cursor else {})
        status, page = api.call("members", "GET", f"{M}/ledger", query=query)
        assert status == 200 and len(page["entries"]) <= 2
        seen += page["entries"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert [e["entry_id"] for e in seen] == sorted((e["entry_id"] for e in seen), reverse=True)
    assert len(seen) == 7  # welcome, five earns, first-order bonus
    # A page that ends the list has no cursor, even when it is full (no cursor to an empty page).
    status, page = api.call("members", "GET", f"{M}/ledger", query={"limit": "7"})
    assert (len(page["entries"]), page["next_cursor"]) == (7, None)
    status, page = api.call("members", "GET", f"{M}/ledger", query={"limit": "6"})
    assert len(page["entries"]) == 6 and page["next_cursor"]
    rest = api.call("members", "GET", f"{M}/ledger", query={"cursor": page["next_cursor"]})[1]
    assert [e["type"] for e in rest["entries"]] == ["welcome"] and rest["next_cursor"] is None
    status, body = api.call("members", "GET", f"{M}/ledger", query={"cursor": "not-a-cursor"})
    assert_error(status, body, 422, "validation_error", "cursor")


def test_wallet_filters_by_status(api: Api, demo: str) -> None:
    enrol(api)
    status, body = api.call("members", "GET", f"{M}/coupons", query={"status": "available"})
    assert status == 200 and len(body["coupons"]) == 1
    status, body = api.call("members", "GET", f"{M}/coupons", query={"status": "used"})
    assert status == 200 and body["coupons"] == []
    status, body = api.call("members", "GET", f"{M}/coupons", query={"status": "lost"})
    assert_error(status, body, 422, "validation_error", "status")


def test_unknown_member_is_404_on_every_read(api: Api, demo: str) -> None:
    for path in (
        "/programs/demo/members/ghost",
        "/programs/demo/members/ghost/ledger",
        "/programs/demo/members/ghost/coupons",
    ):
        assert_error(*api.call("members", "GET", path), 404, "not_found")


# ---- bad input: a clear 4xx naming the field, and nothing written ---------------------------------

BAD_PURCHASES = [
    ({"order_id": "o1"}, "amount_minor"),
    ({"order_id": "o1", "amount_minor": "12"}, "amount_minor"),
    ({"order_id": "o1", "amount_minor": 12.5}, "amount_minor"),
    ({"order_id": "o1", "amount_minor": -1}, "amount_minor"),
    ({"order_id": "o1", "amount_minor": 0}, "amount_minor"),
    ({"order_id": "o1", "amount_minor": 10**12 + 1}, "amount_minor"),
    ({"order_id": "o 1", "amount_minor": 100}, "order_id"),
    ({"order_id": "x" * 65, "amount_minor": 100}, "order_id"),
    ({"order_id": "o1", "amount_minor": 100, "paid_at": "yesterday"}, "paid_at"),
    ({"order_id": "o1", "amount_minor": 100, "paid_at": "2026-01-01T00:00:00"}, "paid_at"),  # no offset
    ({"order_id": "o1", "amount_minor": 100, "paid_at": "2999-01-01T00:00:00Z"}, "paid_at"),  # future
    ({"order_id": "o1", "amount_minor": 100, "items": [{"sku": "a"}]}, "items[0].amount_minor"),
    ({"order_id": "o1", "amount_minor": 100, "points": 1000000}, "points"),
    ({"order_id": None, "amount_minor": 100}, "order_id"),
]


@pytest.mark.parametrize(("body", "field"), BAD_PURCHASES)
def test_bad_purchase_is_422_naming_the_field(api: Api, demo: str, body: dict, field: str) -> None:
    enrol(api)
    before = api.items()
    status, reply = api.call("earn", "POST", f"{M}/purchases", body)
    assert_error(status, reply, 422, "validation_error", field)
    assert api.items() == before


@pytest.mark.parametrize("raw", ["{", "not json", "[]", "123", '"x"', "null", ""])
def test_malformed_bodies_are_4xx(api: Api, demo: str, raw: str) -> None:
    enrol(api)
    before = api.items()
    status, reply = api.call("earn", "POST", f"{M}/purchases", raw_body=raw)
    assert status in (400, 422) and reply["error"]["code"] == "validation_error", reply
    assert api.items() == before


def test_bad_path_ids_are_422(api: Api, demo: str) -> None:
    status, body = api.call("members", "GET", "/programs/demo/members/bad%20id")
    assert_error(status, body, 422, "validation_error", "member_id")


def test_limit_out_of_range(api: Api, demo: str) -> None:
    enrol(api)
    status, body = api.call("members", "GET", f"{M}/ledger", query={"limit": "0"})
    assert_error(status, body, 422, "validation_error", "limit")


# ---- docs ----------------------------------------------------------------------------------------


def test_openapi_lists_every_contract_route(api: Api) -> None:
    status, doc = api.call("docs", "GET", "/openapi.json")
    assert status == 200 and doc["openapi"].startswith("3.")
    expected = {
        ("put", "/programs/{program_id}"),
        ("get", "/programs/{program_id}"),
        ("post", "/programs/{program_id}/members"),
        ("post", "/programs/{program_id}/me"),
        ("get", "/programs/{program_id}/members/{member_id}"),
        ("get", "/programs/{program_id}/me"),
        ("get", "/programs/{program_id}/members/{member_id}/ledger"),
        ("get", "/programs/{program_id}/me/ledger"),
        ("get", "/programs/{program_id}/members/{member_id}/coupons"),
        ("get", "/programs/{program_id}/me/coupons"),
        ("post", "/programs/{program_id}/members/{member_id}/purchases"),
        ("post", "/programs/{program_id}/members/{member_id}/refunds"),
        ("post", "/programs/{program_id}/members/{member_id}/activities"),
        ("post", "/programs/{program_id}/me/activities"),
    }
    served = {(m, p) for p, ops in doc["paths"].items() for m in ops}
    assert expected <= served
    status, html = api.call("docs", "GET", "/docs")
    assert status == 200 and "swagger" in str(html).lower()


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        ("[" * 100000 + "]" * 100000, 400),  # deeper than json can parse without recursing away
        ('{"a":' * 5000 + "1" + "}" * 5000, 400),
        ('{"order_id": "o1", "amount_minor": 1, "store_id": "' + "x" * (1024 * 1024) + '"}', 413),
        ('{"order_id": "o1", "amount_minor": 1e400}', 422),
        ('{"order_id": "\\ud800", "amount_minor": 1}', 422),
    ],
)
def test_hostile_bodies_are_refused_cleanly(api: Api, demo: str, raw: str, status: int) -> None:
    enrol(api)
    before = api.items()
    got, reply = api.call("earn", "POST", f"{M}/purchases", raw_body=raw)
    assert_error(got, reply, status, "validation_error")
    assert api.items() == before
    got, reply = api.call("programs", "PUT", "/programs/demo", raw_body=raw)
    assert got in (400, 413, 422), reply


@pytest.mark.parametrize(
    ("kind", "body"),
    [
        ("purchases", {"order_id": "o1", "amount_minor": 100}),
        ("refunds", {"refund_id": "r1", "order_id": "o1", "amount_minor": 100}),
        ("activities", {"activity_id": "a1", "type": "check_in"}),
    ],
)
def test_writes_for_an_unknown_member_are_404(api: Api, demo: str, kind: str, body: dict) -> None:
    status, reply = api.call("earn", "POST", f"/programs/demo/members/ghost/{kind}", body)
    assert_error(status, reply, 404, "not_found", "member_id")
    assert api.items() == 3  # the program (current, version 1, registry entry), nothing else


# ---- program history and the per-day health series ---------------------------------------------------


def test_every_saved_version_is_listed_newest_first_and_readable(api: Api) -> None:
    doc = program("demo")
    for name in ("one", "two", "three"):
        assert api.call("programs", "PUT", "/programs/hist", {**doc, "name": name})[0] == 200
    status, page = api.call("programs", "GET", "/programs/hist/versions", query={"limit": "2"})
    assert status == 200, page
    assert [v["version"] for v in page["versions"]] == [3, 2] and page["next_cursor"]
    rest = api.call("programs", "GET", "/programs/hist/versions", query={"cursor": page["next_cursor"]})[1]
    assert [v["version"] for v in rest["versions"]] == [1] and rest["next_cursor"] is None
    status, first = api.call("programs", "GET", "/programs/hist/versions/1")
    assert status == 200 and first["document"]["name"] == "one" and first["version"] == 1
    assert_error(*api.call("programs", "GET", "/programs/hist/versions/9"), 404, "not_found", "version")
    assert_error(*api.call("programs", "GET", "/programs/nope/versions"), 404, "not_found", "program_id")
    assert_error(*api.call("programs", "GET", "/programs/nope/versions/1"), 404, "not_found", "program_id")
    bad = api.call("programs", "GET", "/programs/hist/versions", query={"cursor": "bm9wZQ"})
    assert_error(*bad, 422, "validation_error", "cursor")


def test_the_health_series_has_a_row_per_day(api: Api, demo: str) -> None:
    status, series = api.call(
        "programs", "GET", "/programs/demo/health/days", query={"from": "2026-11-01", "to": "2026-11-03"}
    )
    assert status == 200, series
    assert [d["day"] for d in series["days"]] == ["2026-11-01", "2026-11-02", "2026-11-03"]
    assert series["from"] == "2026-11-01" and all(d["members"] == 0 for d in series["days"])
    bad = api.call("programs", "GET", "/programs/demo/health/days", query={"from": "2026-11-04", "to": "2026-11-03"})
    assert_error(*bad, 422, "validation_error", "from")


def test_a_coupon_not_yet_valid_is_available_but_not_usable_now(api: Api, demo: str) -> None:
    """A benefits run for a later time (a replayed or early schedule) gives coupons valid from then:
    their status is one of the contract's three (`available`, in `?status=available`), `usable_now`
    false until `valid_from`; `?status=scheduled` is no status of the contract (422 naming it)."""
    enrol(api)
    assert api.call("earn", "POST", f"{M}/purchases", {"order_id": "o1", "amount_minor": 120000})[0] == 201  # gold
    programs._cache.clear()
    for item in scheduler.plan(datetime.now(UTC) + timedelta(days=40), ["benefits"]):
        scheduler.work(store(), item, lambda: 900)
    now = datetime.now(UTC).isoformat()
    status, wallet = api.call("members", "GET", f"{M}/coupons")
    assert status == 200, wallet
    later = [c for c in wallet["coupons"] if c["valid_from"] > now]
    assert later and {(c["status"], c["usable_now"]) for c in later} == {("available", False)}, wallet
    assert {c["usable_now"] for c in wallet["coupons"] if c["valid_from"] <= now} == {True}, wallet
    available = api.call("members", "GET", f"{M}/coupons", query={"status": "available"})[1]["coupons"]
    assert {c["coupon_id"] for c in available} == {c["coupon_id"] for c in wallet["coupons"]}
    assert_error(
        *api.call("members", "GET", f"{M}/coupons", query={"status": "scheduled"}), 422, "validation_error", "status"
    )
    status, body = api.call(
        "redeem",
        "POST",
        f"{M}/coupons/{later[0]['coupon_id']}/use",
        {"order_id": "o-early", "order_amount_minor": 100000},
    )
    assert (
        status == 409 and body["error"]["code"] == "coupon_unavailable" and "not valid yet" in body["error"]["message"]
    ), body
