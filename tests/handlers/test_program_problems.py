"""Every problem of a program in one 422 (issue 28.4): schema errors and cross-field problems together,
unknown keys naming the valid ones, no pydantic prefixes, CEL syntax errors placed and in words."""

from __future__ import annotations

from tests.handlers.conftest import Api
from tests.handlers.test_campaigns import put, rule


def test_one_put_lists_every_problem_of_the_program(api: Api) -> None:
    status, body = put(
        api,
        rule("a"),
        rule("a", effects=[{"points": 1, "growth": 1}]),  # a duplicate id, and an effect with two keys
        rule("b", effects=[{"point": 5}], limits={"budget": {"points": -1}}),
        rule("c", when="order.amount_minor >="),
    )
    assert status == 422 and body["error"]["code"] == "program_invalid", body
    by_field = {d["field"]: d["message"] for d in body["error"]["details"]}
    assert set(by_field) == {
        "campaigns[1].id",
        "campaigns[1].effects[0]",
        "campaigns[2].effects[0].point",
        "campaigns[2].limits.budget.points",
        "campaigns[3].when",
    }
    assert by_field["campaigns[1].id"] == "duplicate id 'a'"
    assert by_field["campaigns[1].effects[0]"].startswith("an effect has exactly one of points, multiply_points")
    assert by_field["campaigns[2].effects[0].point"].startswith("unknown key 'point'; the keys here are points,")
    assert by_field["campaigns[3].when"].startswith("syntax error at column 22: the expression ends where a value")
    assert "Value error" not in str(body) and "Extra inputs" not in str(body)


def test_a_request_bodys_validator_message_has_no_pydantic_prefix(api: Api) -> None:
    assert put(api)[0] == 200
    api.call("enrol", "POST", "/programs/demo/members", {"member_id": "m1"})
    order = {"order_id": "o1", "amount_minor": 100, "items": [{"sku": "t", "amount_minor": 200}]}
    status, body = api.call("earn", "POST", "/programs/demo/members/m1/purchases", order)
    assert status == 422 and body["error"]["details"] == [
        {"field": "items", "message": "the items sum to 200, more than amount_minor (100)"}
    ]


def test_the_document_get_answers_can_be_put_back(api: Api, demo: str) -> None:
    """Read, edit, save: GET's `program_id` (this program's) and `version` (the one read) come back with
    the document and are not its problems; another program's id is."""
    status, doc = api.call("programs", "GET", "/programs/demo")
    assert status == 200 and {"program_id", "version"} <= set(doc)
    doc["name"] = "Demo, renamed"
    status, saved = api.call("programs", "PUT", "/programs/demo", doc)
    assert status == 200, saved
    assert api.call("programs", "GET", "/programs/demo")[1]["name"] == "Demo, renamed"
    status, body = api.call("programs", "PUT", "/programs/demo", {**doc, "program_id": "another"})
    assert status == 422 and [d["field"] for d in body["error"]["details"]] == ["program_id"], body
    put_body = api.call("docs", "GET", "/openapi.json")[1]["components"]["schemas"]["ProgramSent"]
    assert {"program_id", "version"} <= set(put_body["properties"])


def test_a_broken_counter_or_wallet_hides_no_other_problem_and_invents_none(api: Api) -> None:
    from tests.support import program

    doc = program("demo")
    doc["counters"] = [
        {"id": "x2", "counts": "units", "period": "day", "activity_type": "check_in"},  # not for units
        {"id": "y", "counts": "orderz", "period": "day"},
    ]
    doc["wallets"] = {"stamps": {"name": "Stamps", "expiry": {"policy": "bogus"}}}
    free = {"id": "free", "name": "free", "cost": {"wallet": "stamps", "amount": 3}, "grant": {"coupons": ["off-5"]}}
    doc["rewards"].append(free)
    status, body = api.call("programs", "PUT", "/programs/demo", doc)
    assert status == 422, body
    fields = {d["field"] for d in body["error"]["details"]}
    assert {"counters[0].activity_type", "counters[1].counts", "wallets.stamps.expiry.policy"} <= fields, fields
    assert not any(f.startswith("rewards[") for f in fields), fields  # the wallet is there, only malformed
