"""The OpenAPI document tells the truth about errors, and what schemathesis found stays fixed."""

from __future__ import annotations

import base64
import json

from tests.handlers.conftest import Api
from tests.support import Context, http_event

M = "/programs/demo/members/m1"
ERROR = {"$ref": "#/components/schemas/ErrorBody"}
ERROR_OR_GATEWAY = {"anyOf": [ERROR, {"$ref": "#/components/schemas/GatewayMessage"}]}


def schema_of(response: dict) -> dict:
    schema = dict(response["content"]["application/json"]["schema"])
    schema.pop("title", None)
    return schema


def test_every_route_documents_the_error_shape(api: Api) -> None:
    status, doc = api.call("docs", "GET", "/openapi.json")
    assert status == 200
    for path, operations in doc["paths"].items():
        member = path.split("/")[3:4] == ["me"]
        for method, operation in operations.items():
            responses = operation["responses"]
            where = f"{method.upper()} {path}"
            assert schema_of(responses["400"]) == ERROR, where
            assert schema_of(responses["422"]) == ERROR, where  # not Powertools' HTTPValidationError
            assert schema_of(responses["413"]) == ERROR_OR_GATEWAY, where
            assert ("401" in responses) == member, where
            if member:
                assert schema_of(responses["401"]) == ERROR_OR_GATEWAY, where
            for code, response in responses.items():
                if code >= "400":
                    assert "HTTPValidationError" not in json.dumps(response), where
                else:
                    assert schema_of(response) != ERROR, where
    purchases = doc["paths"]["/programs/{program_id}/members/{member_id}/purchases"]["post"]["responses"]
    assert {"200", "201", "404", "409"} <= purchases.keys()
    redemption = doc["paths"]["/programs/{program_id}/me/redemptions"]["post"]["responses"]
    assert schema_of(redemption["201"]) == {"$ref": "#/components/schemas/RedemptionResult"}


def post_base64(api: Api, fn: str, path: str, raw: bytes, sub: str | None = None) -> tuple[int, dict]:
    """A body as API Gateway sends one it takes for binary: base64, with isBase64Encoded."""
    event = http_event("POST", path, raw_body=base64.b64encode(raw).decode(), sub=sub)
    event["isBase64Encoded"] = True
    response = api.handlers[fn](event, Context())
    return response["statusCode"], json.loads(response["body"])


def test_a_body_that_is_not_utf8_is_a_400_not_a_500(api: Api, demo: str) -> None:
    api.call("enrol", "POST", "/programs/demo/members", {"member_id": "m1"})
    before = api.items()
    for fn, path, sub in (("earn", f"{M}/purchases", None), ("redeem", "/programs/demo/me/redemptions", "m1")):
        status, reply = post_base64(api, fn, path, b"\xff\xfe{}", sub)
        assert status == 400 and reply["error"]["code"] == "validation_error", reply
        assert reply["error"]["details"] == [{"field": "body", "message": "the body is not UTF-8 text"}]
    assert api.items() == before


def test_a_base64_body_that_is_utf8_json_is_handled_as_any_other(api: Api, demo: str) -> None:
    api.call("enrol", "POST", "/programs/demo/members", {"member_id": "m1"})
    status, reply = post_base64(
        api, "earn", f"{M}/purchases", json.dumps({"order_id": "o1", "amount_minor": 100}).encode()
    )
    assert status == 201 and reply["points_earned"] >= 1, reply


def test_the_program_document_is_described_campaigns_included(api: Api) -> None:
    status, doc = api.call("docs", "GET", "/openapi.json")
    assert status == 200
    put = doc["paths"]["/programs/{program_id}"]["put"]["requestBody"]["content"]["application/json"]
    assert put["schema"] == {"$ref": "#/components/schemas/ProgramSent"}  # the Program, or GET's answer back
    schemas = doc["components"]["schemas"]
    assert schemas["Program"]["properties"]["campaigns"]["items"] == {"$ref": "#/components/schemas/Program.Campaign"}
    campaign = schemas["Program.Campaign"]["properties"]
    assert {"trigger", "when", "effects", "limits", "active", "priority", "exclusive"} <= set(campaign)
    assert set(schemas["Program.Campaign"]["properties"]["trigger"]["enum"]) >= {
        "purchase",
        "enrolment",
        "tier_changed",
    }
    assert "from" in schemas["Program.Active"]["properties"]  # the contract's name, not the field's


def test_each_operation_is_named_by_its_handler_once(api: Api) -> None:
    """The generated clients (clients/) name their methods by operationId: short, unique, identifiers."""
    status, doc = api.call("docs", "GET", "/openapi.json")
    assert status == 200
    ids = {
        (method, path): operation["operationId"]
        for path, operations in doc["paths"].items()
        for method, operation in operations.items()
    }
    assert len(set(ids.values())) == len(ids), sorted(ids.values())
    assert all(name.isidentifier() for name in ids.values()), ids
    assert ids["post", "/programs/{program_id}/members"] == "enrol"
    assert ids["get", "/programs/{program_id}/me/ledger"] == "my_ledger"
    assert ids["post", "/programs/{program_id}/members/{member_id}/purchases"] == "purchase"
    assert ids["post", "/programs/{program_id}/members/{member_id}/paid-cards"] == "buy_card"
