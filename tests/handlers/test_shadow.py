"""Shadow runs (issue 34): a draft evaluated beside the live program on every purchase, nothing given;
the figures go through the stream (moto's, fed to the real health counter) into the run's counters."""

from __future__ import annotations

import copy
from typing import Any

from tests.handlers.conftest import Api
from tests.handlers.test_api import assert_error
from tests.handlers.test_checkout_figures import Stream
from tests.support import Context, load_function, program

D = "/programs/demo/drafts/next"
UNTIL = {"until": "2099-01-01T00:00:00Z"}
CAMPAIGNS = [
    {
        "id": "big",
        "name": "big orders",
        "trigger": "purchase",
        "when": "order.amount_minor >= 5000",
        "effects": [{"points": 200}, {"coupons": ["off-5"]}],
    },
    {"id": "up", "name": "upgraded", "trigger": "tier_changed", "effects": [{"points": 100}]},
]
ORDERS = [("m1", 1000), ("m1", 6000), ("m2", 120000), ("m3", 500), ("m2", 7000)]


def live_program() -> dict[str, Any]:
    doc = program("demo")
    doc["campaigns"] += copy.deepcopy(CAMPAIGNS)
    return doc


def run(api: Api, draft: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The live program, a shadow of `draft`, the orders bought; the report once the stream is counted."""
    assert api.call("programs", "PUT", "/programs/demo", live_program())[0] == 200
    stream = Stream()
    assert api.call("programs", "PUT", D, draft)[0] == 200
    status, started = api.call("programs", "POST", f"{D}/shadow", UNTIL)
    assert (status, started["draft_id"], started["revision"]) == (200, "next", 1), started
    for mid in sorted({mid for mid, _ in ORDERS}):
        assert api.call("enrol", "POST", "/programs/demo/members", {"member_id": mid})[0] == 201
    answers = []
    for k, (mid, amount) in enumerate(ORDERS):
        status, body = api.call(
            "earn", "POST", f"/programs/demo/members/{mid}/purchases", {"order_id": f"o{k}", "amount_minor": amount}
        )
        assert status == 201, body
        answers.append(body)
    load_function("count_health").handler({"Records": stream.new()}, Context())
    status, report = api.call("programs", "GET", f"{D}/shadow")
    assert status == 200, report
    return report, answers


def test_a_shadow_of_the_live_program_reports_exactly_the_live_figures(api: Api) -> None:
    report, answers = run(api, live_program())
    assert report["events"] == len(ORDERS)
    total = report["total"]
    assert total["draft"] == total["live"]
    assert total["live"]["points"] == sum(a["points_earned"] for a in answers)
    assert total["live"]["coupons"] == sum(len(a["coupons"]) for a in answers)
    assert total["live"]["members_reached"] == 3  # every member earned something
    value = live_program()["points"]["value"]
    assert total["live"]["cost_minor"] == total["live"]["points"] * value["worth_minor"] // value["points"]
    by_id = {c["campaign_id"]: c for c in report["campaigns"]}
    assert set(by_id) == {"big", "up"} and all(c["draft"] == c["live"] for c in report["campaigns"])
    assert by_id["big"]["live"] | {"cost_minor": 0} == {
        "points": 600,
        "coupons": 3,
        "discount_minor": 0,
        "members_reached": 2,  # m1 once, m2 twice: counted once
        "cost_minor": 0,
    }
    assert by_id["up"]["live"]["points"] == 100 and by_id["up"]["live"]["members_reached"] == 1


def test_the_draft_gives_nothing_and_its_figures_differ(api: Api) -> None:
    draft = live_program()
    draft["campaigns"][1]["effects"] = [{"points": 500}]  # no coupon, more points
    draft["campaigns"].append({"id": "all", "name": "every order", "trigger": "purchase", "effects": [{"points": 7}]})
    report, answers = run(api, draft)
    live, shadowed = report["total"]["live"], report["total"]["draft"]
    assert live["points"] == sum(a["points_earned"] for a in answers)
    assert shadowed["points"] == live["points"] + 3 * 300 + 7 * len(ORDERS)
    assert (shadowed["coupons"], live["coupons"]) == (live["coupons"] - 3, live["coupons"])
    by_id = {c["campaign_id"]: c for c in report["campaigns"]}
    assert by_id["all"]["live"]["points"] == 0 and by_id["all"]["draft"] == {
        "points": 35,
        "coupons": 0,
        "discount_minor": 0,
        "members_reached": 3,
        "cost_minor": 35 * 100 // 100,
    }
    # Nothing the draft would give was given: the answers and the wallets are the live program's.
    assert all("all" not in [c["campaign_id"] for c in a["breakdown"]["campaigns"]] for a in answers)
    status, wallet = api.call("members", "GET", "/programs/demo/members/m1/coupons")
    assert status == 200 and [c["template_id"] for c in wallet["coupons"]].count("off-5") == 1, wallet
    status, m1 = api.call("members", "GET", "/programs/demo/members/m1")
    held = m1["points"]["balance"] + sum(p["points"] for p in m1["points"]["pending"])
    welcome = live_program()["lifecycle"]["welcome"]["points"]
    assert held == welcome + answers[0]["points_earned"] + answers[1]["points_earned"], m1


def test_a_shadow_needs_a_draft_and_a_future_end(api: Api, demo: str) -> None:
    assert_error(*api.call("programs", "POST", f"{D}/shadow", UNTIL), 404, "not_found", "draft_id")
    assert_error(*api.call("programs", "GET", f"{D}/shadow"), 404, "not_found", "draft_id")
    assert api.call("programs", "PUT", D, program("demo"))[0] == 200
    past = {"until": "2020-01-01T00:00:00Z"}
    assert_error(*api.call("programs", "POST", f"{D}/shadow", past), 422, "validation_error", "until")
    status, report = api.call("programs", "GET", f"{D}/shadow")  # not started: nothing counted
    assert (status, report["events"], report["campaigns"]) == (200, 0, []), report


def test_activities_are_shadowed_too_on_the_server_and_the_members_routes(api: Api) -> None:
    assert api.call("programs", "PUT", "/programs/demo", live_program())[0] == 200
    stream = Stream()
    draft = live_program()
    draft["points"]["activities"]["check_in"]["points"] = 8  # the live program gives 5
    assert api.call("programs", "PUT", D, draft)[0] == 200
    assert api.call("programs", "POST", f"{D}/shadow", UNTIL)[0] == 200
    assert api.call("enrol", "POST", "/programs/demo/members", {"member_id": "m1"})[0] == 201
    body = {"activity_id": "a1", "type": "check_in"}
    assert api.call("earn", "POST", "/programs/demo/members/m1/activities", body)[0] == 201
    assert api.call("enrol", "POST", "/programs/demo/me", {}, sub="m2")[0] == 201
    status, answer = api.call("earn", "POST", "/programs/demo/me/activities", {**body, "activity_id": "a2"}, sub="m2")
    assert status == 201, answer
    load_function("count_health").handler({"Records": stream.new()}, Context())
    report = api.call("programs", "GET", f"{D}/shadow")[1]
    assert report["events"] == 2
    assert (report["total"]["live"]["points"], report["total"]["draft"]["points"]) == (10, 16)


def test_until_is_iso_text_not_a_unix_time(api: Api) -> None:
    for until in (4102444800, "4102444800", 4102444800.5):
        status, body = api.call("programs", "POST", "/programs/demo/drafts/d1/shadow", {"until": until})
        assert status == 422 and body["error"]["details"][0]["field"] == "until", (until, body)


def test_a_shadow_of_an_unknown_program_names_the_program(api: Api) -> None:
    status, body = api.call("programs", "POST", "/programs/nope/drafts/d1/shadow", UNTIL)
    assert status == 404 and body["error"]["details"][0]["field"] == "program_id", body
