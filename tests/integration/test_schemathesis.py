"""Schemathesis against the served OpenAPI document: no 5xx, and no response outside the document.

The local runtime serves every route of the template; the schema is the one clients read
(`GET /openapi.json`). A demo program with an enrolled member who has bought something exists, and half
the generated cases are pointed at them (and at the program's real activity, reward and card plan), so
the calls reach the use cases with real data instead of stopping at a 404.
"""

from __future__ import annotations

from typing import Any

import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import strategies as st
from pydantic import ValidationError
from schemathesis.checks import not_a_server_error
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from local.stack import Stack, put_program
from loyalty.program import Program
from tests.integration.conftest import Client
from tests.support import jwt, program

pytestmark = pytest.mark.integration

PROGRAM = "fuzz-demo"
MEMBER = "fuzz-member"
TOKEN = jwt(MEMBER)
# Ids the demo program knows, put in place of generated ones (body fields and path parameters).
KNOWN = {"type": "check_in", "reward_id": "coupon-5", "plan_id": "plus-quarter"}
# What no JSON schema can say, each stated in the document's descriptions instead: which activity types
# the program has, what its card plans cost and how many coupons its rewards issue, how many tags the
# member holds already, which cursors a list returned, times relative to now or to the member's
# enrolment, constraints across fields (items summing above the order, tags both added and removed, a
# health range over 366 days or ending before it starts), and that an integer is an integer literal
# (JSON Schema's `integer` takes 12.0). A schema-valid request refused for one of these alone is right;
# any other refusal of one is a finding.
BEYOND_THE_SCHEMA = (
    ("type", "unknown activity type"),
    ("amount_paid_minor", "must be the plan's price"),
    ("quantity", "in one redemption"),
    ("cursor", "not a cursor this"),
    ("items", "the items sum to"),
    ("items", "applies to some lines only"),  # a coupon use without items, of a coupon with applies_to
    ("remove", "tags both added and removed"),
    ("add", "tags per member"),
    ("from", "a range covers at most"),
    ("from", "must not be after"),
    ("*", "must not be in the future"),
    ("until", "must be in the future"),  # a shadow run's end
    ("*", "before the member's enrolment"),
    ("*", "must be in the years"),  # 2999-12-31T23:00-02:00 is 3000 in UTC: the pattern says the year only
    ("birthday", "must be a day that exists"),
    ("birthday", "must not be after today"),
    # a card payment's paid_at against the plan's refund window and the member's card (rules/cards.check_paid_at)
    ("paid_at", "the plan's refund window"),
    ("paid_at", "confirm them in order"),
    ("paid_at", "would have ended already"),
    ("program_id", "must be this program's id"),
    ("*", "Input should be a valid integer"),
    # a checkout's cart: the member's coupons by id, lines unique and within 10^12 (their index in the field)
    ("*", "of this member"),
    ("*", "sent twice"),
    ("*", "duplicate line_id"),
    ("*", "at most unit_price_minor"),
    ("*", "the line's amount is over"),
    ("points_to_use", "points on this cart"),
    # refunds by lines (issue 30): a purchase's line ids unique, a refund's lines named once and the order's
    ("*", "names another line too"),  # items[k].line_id
    ("*", "named twice"),  # items[k].line_id
    ("*", "the order has no line"),
    ("refunded_at", "before the order was paid"),  # the order's paid_at is on its reference, not in the body
    ("*", "exactly one of tier, tag, segment, stage"),  # the members list: one filter a request
    # a grant: one audience filter of four, something to give, a `when` the checker takes, the program's own ids
    ("audience", "exactly one of"),
    ("body", "a grant gives"),
    ("audience.when", ""),
    ("audience.segment", "one of"),
    ("*", "the program has no"),
    ("referral_code", "unknown referral code"),  # a code is known once its member has read it (REFCODE item)
    ("referral_code", "by its own code"),
)


def beyond_the_schema(response: Any) -> bool:
    if response.status_code not in (400, 422):
        return False
    details = response.json()["error"]["details"]
    return bool(details) and all(
        any(field in ("*", d.get("field")) and text in d.get("message", "") for field, text in BEYOND_THE_SCHEMA)
        for d in details
    )


def program_rules_only(response: Any, case: schemathesis.Case) -> bool:
    """A program refused by the document's rules across its parts alone (references to coupon templates,
    thresholds in order, CEL that compiles...): the Program model, which its schema is generated from,
    takes it, so the schema and the model agree; the rules are the PUT's description's."""
    if response.status_code != 422 or response.json()["error"]["code"] != "program_invalid":
        return False
    try:
        sent = case.body if not isinstance(case.body, dict) else dict(case.body)
        for key in ("program_id", "version") if isinstance(sent, dict) else ():  # GET's answer sent back
            sent.pop(key, None)
        Program.model_validate(sent)
    except ValidationError as invalid:  # a decimal's places, 12.0 for 12: what JSON Schema can't state
        # (a computed amount's own check says "must be an integer" of 5.0 too: a value_error, not int_type)
        return all(
            e["type"] in ("decimal_max_places", "decimal_max_digits", "int_type")
            or _whole_float(e.get("input"))
            or "must be an integer, or a CEL" in e["msg"]  # 12.0 for 12 where an amount may also be CEL
            for e in invalid.errors()
        )
    return True


def _whole_float(value: Any) -> bool:
    """12.0: an integer to JSON Schema, a float to the strict model."""
    return isinstance(value, float) and value.is_integer()


def positive_data_accepted(ctx: Any, response: Any, case: schemathesis.Case) -> bool | None:
    """schemathesis's positive_data_acceptance, but for the refusals no schema can foresee (above)."""
    if beyond_the_schema(response) or program_rules_only(response, case):
        return None
    return positive_data_acceptance(ctx, response, case)


def negative_data_rejected(ctx: Any, response: Any, case: schemathesis.Case) -> bool | None:
    """schemathesis's negative_data_rejection, but not where the fixture's hook put the real ids in place
    of a generated path that broke the schema (what is left may be valid, or extra query parameters
    only, which the document cannot forbid)."""
    path = case.meta.components.get(ParameterLocation.PATH) if case.meta else None
    if path is not None and path.mode.is_negative and (case.path_parameters or {}).get("program_id") == PROGRAM:
        return None
    return negative_data_rejection(ctx, response, case)


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    positive_data_accepted,
    negative_data_rejected,
]
# The coverage phase would also send methods no route has (TRACE...): those are answered by the
# gateway (here the local runtime), not by the API this document describes.
CONFIG = schemathesis.Config.from_dict({"phases": {"coverage": {"unexpected-methods": []}}})
# Per operation: max_examples bounds the fuzzing phase (the examples and coverage phases are
# deterministic, a few dozen cases each); derandomize makes every run, CI's too, send the same cases.
SETTINGS = hypothesis.settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(hypothesis.HealthCheck),
)


def is_member_route(path: str) -> bool:
    return path.split("/")[3:4] == ["me"]  # /programs/{program_id}/me...


@pytest.fixture(scope="module")
def api_schema(stack: Stack, api: Client) -> Any:
    status, body = put_program(stack.api_url, PROGRAM, program("demo"))
    assert status == 200, body
    status, body = api.call("POST", f"/programs/{PROGRAM}/members", {"member_id": MEMBER, "birthday": "1990-05-17"})
    assert status == 201, body
    order = {"order_id": "fuzz-o-1", "amount_minor": 150000}
    status, body = api.call("POST", f"/programs/{PROGRAM}/members/{MEMBER}/purchases", order)
    assert status == 201, body

    schema = schemathesis.openapi.from_url(f"{stack.api_url}/openapi.json", config=CONFIG)
    schema.config.update(base_url=stack.api_url)

    @schema.hook
    def flatmap_path_parameters(ctx: Any, path_parameters: dict[str, Any]) -> Any:
        # Not for PUT /programs/{program_id}: a fuzzed document must never replace the program every
        # other call reads (a valid one could, and the rest of the run would test another program).
        # PUT keeps its generated ids, so it exercises creating programs instead (a member's tags,
        # PUT too, take the real ids like any other member route).
        # Nor for PUT .../block: a blocked fuzz member would answer every later earning or spending case
        # with 409 member_blocked, and those routes would go untested.
        put = ctx.operation.method.upper() == "PUT"
        if not path_parameters or (  # None for a route without any (GET /operations/scheduled)
            put and ctx.operation.path in ("/programs/{program_id}", "/programs/{program_id}/members/{member_id}/block")
        ):
            return st.just(path_parameters)
        real = {**path_parameters, "program_id": PROGRAM}
        real |= {k: v for k, v in {"member_id": MEMBER, "plan_id": KNOWN["plan_id"]}.items() if k in real}
        return st.sampled_from([path_parameters, real])

    @schema.hook
    def flatmap_body(ctx: Any, body: Any) -> Any:
        if not isinstance(body, dict) or not KNOWN.keys() & body.keys():
            return st.just(body)
        # Only ids sent: a null (a redemption's reward_id beside a deduction) stays null, or the case
        # would break the schema's oneOf after generation.
        return st.sampled_from([body, body | {k: v for k, v in KNOWN.items() if isinstance(body.get(k), str)}])

    return schema


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@SETTINGS
def test_every_operation(case: schemathesis.Case) -> None:
    # Member routes need a token whose `sub` is the member (server routes are IAM-signed in AWS).
    headers = {"Authorization": f"Bearer {TOKEN}"} if is_member_route(case.path) else None
    case.call_and_validate(headers=headers, checks=CHECKS, timeout=60)


# The gateway's own 413 (over 10 MB) is documented too, but not sent here: the runtime answers it
# without reading the body, and a client still writing 10 MB may see the connection reset instead.
REFUSALS = {
    "no token: the gateway's 401": (401, "GET", "/me", None, None),
    "a token without a valid sub: the app's 401": (401, "GET", "/me/ledger", jwt("not an id"), None),
    "not UTF-8: 400": (400, "POST", "/me/activities", TOKEN, b"\xff\xfe{}"),
    "too deep: 400": (400, "POST", "/members/{member_id}/purchases", None, b"[" * 40 + b"]" * 40),
    "over 1 MiB: 413": (413, "POST", "/members/{member_id}/refunds", None, b"{}" + b" " * (1024 * 1024)),
}


@pytest.mark.parametrize(("status", "method", "path", "token", "data"), REFUSALS.values(), ids=REFUSALS.keys())
def test_refusals_are_documented(
    api_schema: Any, stack: Stack, status: int, method: str, path: str, token: str | None, data: bytes | None
) -> None:
    """Requests schemathesis does not generate, checked against the document all the same."""
    template = "/programs/{program_id}" + path
    case = api_schema[template][method].Case(
        path_parameters={"program_id": PROGRAM} | ({"member_id": MEMBER} if "{member_id}" in path else {})
    )
    url = stack.api_url + template.format(program_id=PROGRAM, member_id=MEMBER)
    headers = {"content-type": "application/json"} | ({"authorization": f"Bearer {token}"} if token else {})
    response = requests.request(method, url, data=data, headers=headers, timeout=60)
    assert response.status_code == status, response.text
    case.validate_response(response, checks=CHECKS)
