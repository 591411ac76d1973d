"""The generated clients (clients/) cannot drift from the API: regenerated into a temp dir from the
document the API serves, they equal the committed files. After a route changes: `make clients`."""

from __future__ import annotations

from pathlib import Path

import pytest

from clients import generate
from clients.python_api import annotation, method, render


def test_the_committed_clients_are_what_make_clients_writes(tmp_path: Path) -> None:
    if not (generate.CODEGEN.exists() and generate.OPENAPI_TS.exists()):
        pytest.skip("the generators are missing: `make clients` installs them (make test does)")
    generate.generate(tmp_path)
    for name in generate.GENERATED:
        fresh = (tmp_path / name).read_text(encoding="utf-8")
        assert fresh == (generate.CLIENTS / name).read_text(encoding="utf-8"), f"clients/{name} is stale: make clients"


def test_a_method_takes_path_body_and_query_and_answers_the_success_model() -> None:
    operation = {
        "operationId": "report",
        "summary": "A report.",
        "parameters": [
            {"in": "path", "name": "program_id", "schema": {"type": "string"}},
            {"in": "query", "name": "from", "schema": {"anyOf": [{"type": "string"}, {"type": "null"}]}},
            {"in": "query", "name": "rates", "schema": {"type": "array", "items": {"type": "integer"}}},
        ],
        "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Program.Ask"}}}},
        "responses": {
            "422": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}},
            "200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Report"}}}},
        },
    }
    text = method("post", "/programs/{program_id}/report", operation, {"ProgramAsk", "Report", "ErrorBody"})
    assert "def report(self, program_id: str, body: models.ProgramAsk | dict[str, Any] | None = None, *, " in text
    assert "from_: str | None = None, rates: list[int] | None = None) -> models.Report:" in text
    assert "{'program_id': program_id}, {'from': from_, 'rates': rates}, body" in text


def test_a_schema_without_a_generated_model_stops_the_generation() -> None:
    with pytest.raises(ValueError, match="no generated model Missing"):
        annotation({"$ref": "#/components/schemas/Missing"}, {"Report"})


def test_two_operations_of_one_name_stop_the_generation() -> None:
    def op(name: str) -> dict:
        return {"operationId": name, "responses": {}}

    doc = {"paths": {"/a": {"get": op("read")}, "/b": {"get": op("read"), "post": op("write")}}}
    with pytest.raises(ValueError, match=r"operationIds used twice .*\['read'\]"):
        render(doc, set())


def test_a_schema_whose_name_a_fields_root_model_took_stops_the_generation() -> None:
    """datamodel-codegen numbers a model when a field's inline schema of the same title came first: the
    client would validate answers against the field's RootModel."""
    doc = {"paths": {}, "components": {"schemas": {"Code": {"type": "object", "properties": {"code": {}}}}}}
    with pytest.raises(ValueError, match=r"RootModel took .*\['Code'\]"):
        render(doc, {"Code", "Code2"}, {"Code"})
    assert render(doc, {"Code"}, set())
