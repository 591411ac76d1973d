"""The whole API in one app, for GET /openapi.json and the Swagger UI at GET /docs."""

from __future__ import annotations

import re
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

from ..program import Program
from . import (
    audience,
    cards,
    checkout,
    drafts,
    earning,
    enrolment,
    grants,
    guests,
    imports,
    operations,
    programs,
    reads,
    referral,
    spending,
    tiers,
)
from .app import TITLE, VERSION, build

ROUTERS = (
    programs.router,
    drafts.router,
    enrolment.router,
    earning.router,
    guests.router,
    reads.router,
    audience.router,
    spending.router,
    checkout.router,
    tiers.router,
    cards.router,
    imports.router,
    grants.router,
    operations.router,
    referral.router,
)


def app() -> APIGatewayHttpResolver:
    whole = build(*ROUTERS)
    whole.enable_swagger(path="/docs", title=TITLE, version=VERSION)

    @whole.get("/openapi.json", include_in_schema=False)
    def openapi() -> dict[str, Any]:
        doc = whole.get_openapi_schema(title=TITLE, version=VERSION).model_dump(
            mode="json", by_alias=True, exclude_none=True
        )
        return with_operation_ids(with_optional_bodies(with_program_schema(doc)))

    return whole


def with_operation_ids(doc: dict[str, Any]) -> dict[str, Any]:
    """Each operation named by its handler (`enrol`, `my_ledger`), not Powertools' `enrol_programs__program_id__
    members_post`: the generated clients (clients/, `make clients`) name their methods by operationId. A
    handler name two routes share takes an explicit `operation_id` on its route (cards: `buy_card`)."""
    for path, methods in doc["paths"].items():
        for method, operation in methods.items():
            suffix = re.sub(r"\W", "_", path) + "_" + method
            operation["operationId"] = operation["operationId"].removesuffix(suffix)
    return doc


def with_optional_bodies(doc: dict[str, Any]) -> dict[str, Any]:
    """A body none of whose fields is required may be left out (app.lambda_handler reads a missing body as
    `{}`), so the document does not require it; one that must name a field (`minProperties`) stays required."""
    schemas = doc.get("components", {}).get("schemas", {})
    for methods in doc["paths"].values():
        for operation in methods.values():
            body = operation.get("requestBody")
            if not body:
                continue
            schema = body["content"]["application/json"]["schema"]
            schema = schemas.get(schema.get("$ref", "").rsplit("/", 1)[-1], schema)
            if schema.get("type") == "object" and not schema.get("required") and not schema.get("minProperties"):
                body["required"] = False
    return doc


def with_program_schema(doc: dict[str, Any]) -> dict[str, Any]:
    """PUT /programs/{program_id} (and a draft's PUT) takes the document as a plain object, so that every
    problem is listed at once (usecases/programs.validate) rather than the first pydantic finds; the
    document's schema is still the Program model's, and the OpenAPI document says so (campaigns included)."""
    schema = _closed_maps(Program.model_json_schema(by_alias=True, ref_template="#/components/schemas/Program.{model}"))
    components = doc.setdefault("components", {}).setdefault("schemas", {})
    components.update({f"Program.{name}": part for name, part in schema.pop("$defs", {}).items()})
    components["Program"] = schema
    # What a PUT takes: the document, or GET's answer sent back (usecases/programs.as_sent).
    sent = {
        "program_id": {"type": "string", "description": "this program's id, as GET answered it (ignored)"},
        "version": {"type": "integer", "minimum": 1, "description": "the version GET answered (ignored)"},
    }
    components["ProgramSent"] = {**schema, "properties": {**schema["properties"], **sent}}
    for path in ("/programs/{program_id}", "/programs/{program_id}/drafts/{draft_id}"):  # a draft: checked alike
        body = doc["paths"][path]["put"]["requestBody"]["content"]["application/json"]
        body["schema"] = {"$ref": "#/components/schemas/ProgramSent"}
    return doc


def _closed_maps(schema: Any) -> Any:
    """pydantic writes a map with constrained keys (dict[Id, ...]) as patternProperties alone, which lets
    any other key through with any value; the model refuses such a key, and now the document does too."""
    if isinstance(schema, dict):
        if "patternProperties" in schema:
            schema.setdefault("additionalProperties", False)
        for value in schema.values():
            _closed_maps(value)
    elif isinstance(schema, list):
        for value in schema:
            _closed_maps(value)
    return schema
