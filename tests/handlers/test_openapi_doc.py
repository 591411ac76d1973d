"""The OpenAPI document tells the truth about errors."""

from __future__ import annotations

import json

from tests.handlers.conftest import Api

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
