"""A body whose fields are all optional may be left out: no body (or an empty one) means `{}`."""

from __future__ import annotations

from typing import Any

import pytest

from tests.handlers.conftest import Api
from tests.handlers.test_api import assert_error, enrol

M = "/programs/demo/members/m1"


@pytest.mark.parametrize("raw", [None, ""])
def test_self_enrolment_without_a_body(api: Api, demo: str, raw: str | None) -> None:
    status, body = api.call("enrol", "POST", "/programs/demo/me", raw_body=raw, sub="m9")
    assert status == 201 and body["member_id"] == "m9", body


@pytest.mark.parametrize("raw", [None, ""])
def test_a_tier_evaluation_without_a_body(api: Api, demo: str, raw: str | None) -> None:
    enrol(api)
    status, body = api.call("evaluate_tier", "POST", f"{M}/tier-evaluations", raw_body=raw)
    assert status == 200 and body["tier_changed"] is False, body


def test_a_tags_change_without_a_body_changes_nothing(api: Api, demo: str) -> None:
    enrol(api)
    status, body = api.call("enrol", "PUT", f"{M}/tags")
    assert status == 200 and body["tags"] == [], body


def test_a_body_with_required_fields_left_out_names_them(api: Api, demo: str) -> None:
    enrol(api)
    status, body = api.call("earn", "POST", f"{M}/purchases")
    assert_error(status, body, 422, "validation_error", "order_id")
    assert {d["field"] for d in body["error"]["details"]} == {"order_id", "amount_minor"}, body
    assert_error(*api.call("enrol", "PATCH", M), 422, "validation_error", "body")  # a correction sends something


def test_the_document_says_which_bodies_may_be_left_out(api: Api) -> None:
    status, doc = api.call("docs", "GET", "/openapi.json")
    assert status == 200
    paths: dict[str, Any] = doc["paths"]
    optional = {
        f"{method.upper()} {path}"
        for path, methods in paths.items()
        for method, op in methods.items()
        if "requestBody" in op and not op["requestBody"].get("required")
    }
    assert {
        "POST /programs/{program_id}/me",
        "POST /programs/{program_id}/members/{member_id}/tier-evaluations",
        "PUT /programs/{program_id}/members/{member_id}/tags",
        "POST /programs/{program_id}/members/{member_id}/redemptions/{redemption_id}/cancel",
        "POST /programs/{program_id}/drafts/{draft_id}/publish",
    } <= optional, optional
    assert "POST /programs/{program_id}/members/{member_id}/purchases" not in optional
    assert "PATCH /programs/{program_id}/members/{member_id}" not in optional  # minProperties 1
