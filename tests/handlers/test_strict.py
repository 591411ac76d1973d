"""Issue 27, item 7: input the contract refuses, refused (and never a 5xx)."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from tests.handlers.conftest import Api
from tests.handlers.test_api import assert_error, enrol
from tests.support import program

M = "/programs/demo/members/m1"


def test_a_token_subject_with_a_trailing_newline_is_401(api: Api, demo: str) -> None:
    status, body = api.call("enrol", "POST", "/programs/demo/me", {}, sub="bob\n")
    assert_error(status, body, 401, "unauthorized")


# Every time field of every request body: ISO-8601 text with an offset, never a Unix time.
TIMES = [
    ("earn", "purchases", {"order_id": "o1", "amount_minor": 100}, "paid_at"),
    ("earn", "refunds", {"refund_id": "r1", "order_id": "o1", "amount_minor": 100}, "refunded_at"),
    ("earn", "activities", {"activity_id": "a1", "type": "check_in"}, "at"),
    ("evaluate_tier", "tier-evaluations", {}, "at"),
    (
        "purchase_paid_card",
        "paid-cards",
        {"payment_id": "p1", "plan_id": "plus-quarter", "amount_paid_minor": 4500},
        "paid_at",
    ),
]


@pytest.mark.parametrize("value", [1796523533, "1796523533", 0, 1796523533.5, "2026-12-06T10:00:00"])
@pytest.mark.parametrize(("fn", "route", "body", "field"), TIMES, ids=[f"{t[1]}.{t[3]}" for t in TIMES])
def test_times_are_iso_text_with_an_offset(
    api: Api, demo: str, fn: str, route: str, body: dict[str, Any], field: str, value: object
) -> None:
    enrol(api)
    status, answer = api.call(fn, "POST", f"{M}/{route}", {**body, field: value})
    assert_error(status, answer, 422, "validation_error", field)


@pytest.mark.parametrize("value", [1796523533, "1796523533"])
def test_the_enrolment_time_is_iso_text(api: Api, demo: str, value: object) -> None:
    status, body = api.call("enrol", "POST", "/programs/demo/members", {"member_id": "m1", "enrolled_at": value})
    assert_error(status, body, 422, "validation_error", "enrolled_at")


@pytest.mark.parametrize("rates", ["0.0", "0", "101", "30.5", "-5"])
def test_roi_rates_are_whole_percents_from_1_to_100(api: Api, demo: str, rates: str) -> None:
    status, body = api.call("programs", "GET", "/programs/demo/paid-cards/roi", query={"rates": rates})
    assert_error(status, body, 422, "validation_error", "rates[0]")


def test_roi_rates_in_range_are_read(api: Api, demo: str) -> None:
    status, body = api.call("programs", "GET", "/programs/demo/paid-cards/roi", query={"rates": "1"})
    assert status == 200 and [r["redemption_rate_percent"] for r in body["plans"][0]["rows"]] == [1], body


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ('{"order_id": "o1", "amount_minor": 100, "order_id": "o2"}', "order_id"),
        ('{"order_id": "o1", "amount_minor": 100, "items": [{"sku": "a", "amount_minor": 1, "sku": "b"}]}', "sku"),
    ],
)
def test_a_duplicate_key_is_a_400_naming_it(api: Api, demo: str, raw: str, key: str) -> None:
    enrol(api)
    status, body = api.call("earn", "POST", f"{M}/purchases", raw_body=raw)
    assert_error(status, body, 400, "validation_error", key)
    assert key in body["error"]["message"]


@pytest.mark.parametrize("text", ["Demo \\ud800", "Demo \\udc00 x", "\\uD83D"])
def test_a_lone_surrogate_is_a_422_naming_its_field_never_stored(api: Api, text: str) -> None:
    """A lone surrogate escape is JSON but not Unicode: stored as UTF-8 it could not be encoded."""
    doc = json.dumps(program("demo")).replace('"Demo Coffee"', f'"{text}"')
    status, body = api.call("programs", "PUT", "/programs/p1", raw_body=doc)
    assert_error(status, body, 422, "validation_error", "name")
    assert api.items() == 0


def test_a_surrogate_pair_is_text(api: Api) -> None:
    doc = json.dumps(program("demo")).replace('"Demo Coffee"', '"Demo \\ud83d\\ude00"')
    status, body = api.call("programs", "PUT", "/programs/p1", raw_body=doc)
    assert status == 200, body
    assert api.call("programs", "GET", "/programs/p1")[1]["name"] == "Demo \U0001f600"


@pytest.mark.parametrize("char", ["\x00", "\x07", "\n", "\x7f", "\x85"])
def test_control_characters_in_names_are_refused(api: Api, char: str) -> None:
    doc = program("demo")
    doc["name"] = f"Demo{char}Coffee"
    doc["tiers"]["levels"][1]["name"] = f"Gold{char}"
    doc["coupons"]["welcome-10"]["name"] = f"{char}10 off"
    doc["rewards"][0]["name"] = f"5{char}off"
    status, body = api.call("programs", "PUT", "/programs/p1", doc)
    assert_error(status, body, 422, "program_invalid")
    fields = {d["field"] for d in body["error"]["details"]}
    assert {"name", "tiers.levels[1].name", "coupons.welcome-10.name", "rewards[0].name"} <= fields, fields


def test_names_may_be_any_printable_text(api: Api) -> None:
    doc = program("demo")
    doc["name"] = "Demo 咖啡 ☕ \u200d café"
    status, body = api.call("programs", "PUT", "/programs/p1", doc)
    assert status == 200, body


@pytest.mark.parametrize("field", ["reason", "actor"])
def test_control_characters_in_an_adjustment_are_refused(api: Api, demo: str, field: str) -> None:
    enrol(api)
    body = {"adjustment_id": "a1", "points": 5, "reason": "goodwill", field: "goodwill\x00"}
    status, answer = api.call("enrol", "POST", f"{M}/adjustments", body)
    assert_error(status, answer, 422, "validation_error", field)


def test_the_program_limit_counts_utf8_bytes(api: Api) -> None:
    """A CJK-heavy program just under 400,000 bytes of UTF-8 is saved (escaped it would be ~700 KB)."""
    doc = program("demo")
    name = "会员积分优惠券" * 14 + "礼"  # 99 characters, 297 bytes
    for i in range(1080):
        doc["coupons"][f"extra-{i:04d}"] = {"name": name, "kind": "gift", "valid_days": 30}
    size = len(json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode())
    assert 380_000 < size < 400_000 < len(json.dumps(doc, separators=(",", ":")))
    status, saved = api.call("programs", "PUT", "/programs/cjk", doc)
    assert status == 200, saved
    status, body = api.call("programs", "GET", "/programs/cjk")
    assert status == 200 and body["coupons"]["extra-0000"]["name"] == name


# ---- found by schemathesis's positive/negative data checks (issue 27 item 8) ------------------------


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("expected_average_order_minor",), False, "expected_average_order_minor"),
        (("coupons", "welcome-10", "value_minor"), 1000.0, "coupons.welcome-10.value_minor"),
        (("points", "earn", "unit_minor"), True, "points.earn.unit_minor"),
    ],
)
def test_a_program_takes_integers_as_integers(api: Api, path: tuple[str, ...], value: object, field: str) -> None:
    doc = program("demo")
    place = doc
    for key in path[:-1]:
        place = place[key]
    place[path[-1]] = value
    status, body = api.call("programs", "PUT", "/programs/p1", doc)
    assert_error(status, body, 422, "program_invalid", field)


# An acceptance run: decimals sent as JSON strings were stored and echoed as strings.
DECIMALS = [
    ("demo", ("tiers", "levels", 1, "earn_multiplier"), "tiers.levels[1].earn_multiplier"),
    ("demo", ("points", "multipliers", 0, "factor"), "points.multipliers[0].factor"),
    ("demo", ("paid_cards", 0, "earn_multiplier"), "paid_cards[0].earn_multiplier"),
    ("demo", ("lifecycle", "churn_warning", "earn_multiplier"), "lifecycle.churn_warning.earn_multiplier"),
    ("demo", ("lifecycle", "birthday", "earn_multiplier"), "lifecycle.birthday.earn_multiplier"),
    ("campaigns", ("campaigns", 0, "effects", 0, "multiply_points"), "campaigns[0].effects[0].multiply_points"),
]


@pytest.mark.parametrize(("name", "path", "field"), DECIMALS, ids=[d[2] for d in DECIMALS])
@pytest.mark.parametrize("value", ["1.2", "2", "1.25"])
def test_a_program_takes_decimals_as_numbers_not_strings(
    api: Api, name: str, path: tuple[str | int, ...], field: str, value: str
) -> None:
    doc = program(name)
    place: Any = doc
    for key in path[:-1]:
        place = place[key]
    place[path[-1]] = value
    status, body = api.call("programs", "PUT", "/programs/p5", doc)
    assert_error(status, body, 422, "program_invalid", field)
    assert api.call("programs", "GET", "/programs/p5")[0] == 404  # nothing stored
    place[path[-1]] = float(value) if "." in value else int(value)  # the same as a number: accepted
    status, body = api.call("programs", "PUT", "/programs/p5", doc)
    assert status == 200, body
    status, body = api.call("programs", "GET", "/programs/p5")
    stored: Any = body
    for key in path:
        stored = stored[key]
    assert status == 200 and stored == place[path[-1]] and not isinstance(stored, str)


def test_a_percent_encoded_id_in_the_path_is_the_id(api: Api, demo: str) -> None:
    enrol(api, "shop:42")
    status, body = api.call("members", "GET", "/programs/demo/members/shop%3A42")
    assert status == 200 and body["member_id"] == "shop:42", body


def test_the_document_states_what_is_enforced(api: Api) -> None:
    status, doc = api.call("docs", "GET", "/openapi.json")
    assert status == 200
    schemas = doc["components"]["schemas"]
    assert schemas["Adjust"]["properties"]["points"]["not"] == {"const": 0}
    assert [b["required"] for b in schemas["Redeem"]["oneOf"]] == [["reward_id"], ["deduction"]]
    effect = jsonschema.Draft202012Validator({"components": doc["components"], **schemas["Program.Effect"]})
    assert effect.is_valid({"points": 5, "coupons": None}) and effect.is_valid({"multiply_points": 2, "on_items": "x"})
    wrong = [{}, {"tag": "a", "untag": "b"}, {"points": 5, "on_items": "x"}]
    wrong.append({"multiply_points": 2, "growth": 1, "on_items": "x"})  # the first oneOf let it through
    assert not any(map(effect.is_valid, wrong))
    assert schemas["Program"]["properties"]["coupons"]["additionalProperties"] is False  # keys are ids
    assert schemas["Program.Multiplier"]["properties"]["factor"]["type"] == "number"  # a string is refused
    assert schemas["Adjust"]["properties"]["reason"]["pattern"] == "^[^\\x00-\\x1f\\x7f-\\x9f]*$"
    assert "366 days" in json.dumps(doc["paths"]["/programs/{program_id}/health"])
    [cursor] = [
        p for p in doc["paths"]["/programs/{program_id}/me/ledger"]["get"]["parameters"] if p["name"] == "cursor"
    ]
    assert "pattern" in json.dumps(cursor)


# Found by an acceptance run: times at the edges of the calendar were 500s (OverflowError, year 0).
EXTREMES = ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+00:00", "1899-12-31T23:59:59+00:00"]


@pytest.mark.parametrize("value", EXTREMES)
@pytest.mark.parametrize(("fn", "route", "body", "field"), TIMES, ids=[f"{t[1]}.{t[3]}" for t in TIMES])
def test_times_outside_the_engines_years_are_422s(
    api: Api, demo: str, fn: str, route: str, body: dict[str, Any], field: str, value: str
) -> None:
    enrol(api)
    status, answer = api.call(fn, "POST", f"{M}/{route}", {**body, field: value})
    assert_error(status, answer, 422, "validation_error", field)


@pytest.mark.parametrize("value", EXTREMES)
def test_an_enrolment_time_outside_the_engines_years_is_a_422(api: Api, demo: str, value: str) -> None:
    status, body = api.call("enrol", "POST", "/programs/demo/members", {"member_id": "m1", "enrolled_at": value})
    assert_error(status, body, 422, "validation_error", "enrolled_at")


def test_health_days_outside_the_engines_years_are_422s(api: Api, demo: str) -> None:
    query = {"from": "9999-12-30", "to": "9999-12-31"}
    status, body = api.call("programs", "GET", "/programs/demo/health", query=query)
    assert status == 422 and body["error"]["code"] == "validation_error", body


@pytest.mark.parametrize("birthday", ["02-30", "2023-02-29", "04-31"])
def test_a_birthday_that_does_not_exist_is_a_422(api: Api, demo: str, birthday: str) -> None:
    status, body = api.call("enrol", "POST", "/programs/demo/members", {"member_id": "m1", "birthday": birthday})
    assert_error(status, body, 422, "validation_error", "birthday")
    assert api.call("enrol", "POST", "/programs/demo/members", {"member_id": "m1", "birthday": "02-29"})[0] == 201


def test_an_activity_before_the_enrolment_is_a_422_as_a_purchase_is(api: Api, demo: str) -> None:
    enrol(api)
    body = {"activity_id": "a1", "type": "check_in", "at": "1970-01-01T00:00:00+00:00"}
    status, answer = api.call("earn", "POST", f"{M}/activities", body)
    assert_error(status, answer, 422, "validation_error", "at")


def test_a_profile_change_is_documented_as_it_is_enforced(api: Api) -> None:
    """`{}` and nulls are refused: the document says so (no null, at least one property)."""
    schema = api.call("docs", "GET", "/openapi.json")[1]["components"]["schemas"]["ProfileChange"]
    assert schema.get("minProperties") == 1
    assert "null" not in json.dumps(schema["properties"])


def test_an_integer_longer_than_python_converts_is_a_400_not_a_500(api: Api, demo: str) -> None:
    """Found by a hostile run: 4,301 digits crashed every body route (int() refuses them: a 500)."""
    enrol(api)
    raw = '{"adjustment_id": "d1", "points": ' + "9" * 4301 + ', "reason": "r"}'
    status, body = api.call("enrol", "POST", f"{M}/adjustments", raw_body=raw)
    assert_error(status, body, 400, "validation_error", "body")
    raw = '{"adjustment_id": "d1", "points": ' + "9" * 4300 + ', "reason": "r"}'
    assert_error(*api.call("enrol", "POST", f"{M}/adjustments", raw_body=raw), 422, "validation_error", "points")
