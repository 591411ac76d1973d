"""Growth value as the tier metric, through the real handlers (moto), on the shipped template
programs/growth.json: 1 growth per 1.00 spent, check_in 1, share 2, review 10; v2 at 1000 (gift: 100
points and a coupon), v3 at 5000."""

from __future__ import annotations

from typing import Any

from tests.handlers.conftest import Api
from tests.handlers.test_api import assert_error
from tests.handlers.test_refund_upgrade import M, buy, refund
from tests.support import program


def setup(api: Api) -> None:
    status, saved = api.call("programs", "PUT", "/programs/demo", program("growth"))
    assert status == 200, saved
    assert api.call("enrol", "POST", "/programs/demo/members", {"member_id": "m1"})[0] == 201


def act(api: Api, activity_id: str, type_: str) -> dict[str, Any]:
    status, body = api.call("earn", "POST", f"{M}/activities", {"activity_id": activity_id, "type": type_})
    assert status == 201, body
    return body


def view(api: Api) -> dict[str, Any]:
    status, body = api.call("members", "GET", M)
    assert status == 200, body
    return body


def test_a_purchase_and_an_activity_grow_the_member_to_the_next_tier(api: Api) -> None:
    setup(api)
    bought = buy(api, "o1", 99550)
    assert (bought["growth"], bought["tier"], bought["tier_changed"]) == (995, "v1", False)
    member = view(api)
    assert member["growth"] == 995
    assert member["tier"]["progress"] == {"metric": "growth", "value": 995, "next_tier": "v2", "needed": 5}

    checked_in = act(api, "a1", "check_in")
    assert (checked_in["growth"], checked_in["tier"], checked_in["tier_changed"]) == (1, "v1", False)
    assert checked_in["points_earned"] == 5 and checked_in["coupons"] == []

    reviewed = act(api, "a2", "review")  # 1006: past v2, at once
    assert (reviewed["growth"], reviewed["tier"], reviewed["tier_changed"]) == (10, "v2", True)
    assert reviewed["points_earned"] == 20 + 100  # the review's points and the upgrade gift's
    assert [c["template_id"] for c in reviewed["coupons"]] == ["off-20"]
    assert reviewed["coupons"][0]["source"] == "upgrade:v2:activity:a2"
    member = view(api)
    assert member["tier"]["id"] == "v2" and member["growth"] == 1006
    assert member["tier"]["progress"] == {"metric": "growth", "value": 1006, "next_tier": "v3", "needed": 3994}

    # A repeat replays the first result and grows nothing.
    again = api.call("earn", "POST", f"{M}/activities", {"activity_id": "a2", "type": "review"})
    assert again == (200, reviewed)
    assert view(api)["growth"] == 1006


def test_a_refund_takes_its_growth_back_and_undoes_the_upgrade(api: Api) -> None:
    setup(api)
    bought = buy(api, "o1", 120000)
    assert (bought["growth"], bought["tier"]) == (1200, "v2")
    [gift] = [c["coupon_id"] for c in bought["coupons"]]

    first = refund(api, "r1", "o1", 10000)  # 100 back: 1100, still v2
    assert (first["growth_reversed"], first["tier"], first["tier_changed"]) == (100, "v2", False)
    second = refund(api, "r2", "o1", 30000)  # 300 back: 800, under v2's 1000
    assert (second["growth_reversed"], second["tier"], second["tier_changed"]) == (300, "v1", True)
    assert second["coupons_revoked"] == [gift]
    member = view(api)
    assert member["growth"] == 800 and member["tier"]["id"] == "v1"

    rest = refund(api, "r3", "o1", 80000)  # the rest: all of the order's growth is gone
    assert rest["growth_reversed"] == 800
    assert view(api)["growth"] == 0


def test_growth_from_activities_keeps_the_tier_a_refund_would_have_cost(api: Api) -> None:
    setup(api)
    assert buy(api, "o1", 100000)["tier"] == "v2"  # exactly 1000
    act(api, "a1", "review")
    act(api, "a2", "review")  # 1020
    result = refund(api, "r1", "o1", 1500)  # 15 back: 1005
    assert (result["growth_reversed"], result["tier"], result["tier_changed"]) == (15, "v2", False)
    assert view(api)["growth"] == 1005


def test_an_activity_in_a_spend_program_gives_no_growth_and_keeps_the_tier(api: Api) -> None:
    assert api.call("programs", "PUT", "/programs/demo", program("demo"))[0] == 200
    assert api.call("enrol", "POST", "/programs/demo/members", {"member_id": "m1"})[0] == 201
    body = act(api, "a1", "share")
    assert (body["growth"], body["tier"], body["tier_changed"]) == (0, "star", False)
    member = view(api)
    assert member["growth"] is None and member["tier"]["progress"]["metric"] == "spend"


def test_metric_growth_without_a_growth_section_is_refused_naming_it(api: Api) -> None:
    doc = program("growth")
    del doc["tiers"]["growth"]
    status, body = api.call("programs", "PUT", "/programs/demo", doc)
    assert_error(status, body, 422, "program_invalid", "tiers.growth")
    doc = program("growth")
    doc["tiers"]["growth"]["activities"]["like"] = 3
    status, body = api.call("programs", "PUT", "/programs/demo", doc)
    assert_error(status, body, 422, "program_invalid", "tiers.growth.activities.like")
    assert api.call("programs", "GET", "/programs/demo")[0] == 404
