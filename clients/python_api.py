"""The Python client's api.py: one typed method per operation of the OpenAPI document, named by its
operationId, taking the path parameters in order, the body as its model and the query as keywords,
and answering the success response's model. The models themselves come from datamodel-code-generator."""

from __future__ import annotations

import keyword
import textwrap
from typing import Any

PRELUDE = '''{header}
"""Every operation of the loyalty API as a method of `LoyaltyClient` (see clients/python/README)."""

from __future__ import annotations

from typing import Any

from . import models
from ._transport import Transport


class LoyaltyClient(Transport):
    """The loyalty API; a method per operation, named by its operationId. Raises `ApiError` on 4xx/5xx."""
'''
SCALARS = {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}


def render(doc: dict[str, Any], classes: set[str], roots: set[str] = frozenset()) -> str:
    """`roots`: the generated classes that wrap a single value (RootModel). A schema with properties
    whose name went to such a class (a field's inline schema of the same title took it, and the
    model was numbered) would be validated against the wrong class: refused here, loudly."""
    from clients.generate import HEADER

    schemas = doc.get("components", {}).get("schemas", {}).items()
    objects = {n.replace(".", "") for n, s in schemas if "properties" in s and not {"oneOf", "anyOf"} & set(s)}
    if taken := sorted(objects & roots):
        raise ValueError(f"schemas whose model name a field's RootModel took (rename the schema's model): {taken}")

    operations = [(verb, path, op) for path, ops in doc["paths"].items() for verb, op in ops.items()]
    names = [op["operationId"] for _, _, op in operations]
    if twice := sorted({name for name in names if names.count(name) > 1}):
        raise ValueError(f"operationIds used twice (give one route an operation_id=): {twice}")
    methods = [method(verb, path, operation, classes) for verb, path, operation in operations]
    return PRELUDE.format(header=HEADER) + "".join(methods)


def method(verb: str, path: str, operation: dict[str, Any], classes: set[str]) -> str:
    name = operation["operationId"]
    if not name.isidentifier() or keyword.iskeyword(name):
        raise ValueError(f"{verb.upper()} {path}: operationId {name!r} is no Python name")
    parameters = operation.get("parameters", [])
    in_path = [p for p in parameters if p["in"] == "path"]
    in_query = [p for p in parameters if p["in"] == "query"]
    args = [f"{arg(p['name'])}: {annotation(p['schema'], classes)}" for p in in_path]
    body = operation.get("requestBody")
    if body:
        kind = f"{annotation(body['content']['application/json']['schema'], classes)} | dict[str, Any]"
        args.append(f"body: {kind}" if body.get("required") else f"body: {kind} | None = None")
    if in_query:
        args.append("*")
        args += [f"{arg(p['name'])}: {annotation(p['schema'], classes)} | None = None" for p in in_query]
    answer = success(operation, classes)
    sent = "body" if body else "None"
    call = f"self._call({verb.upper()!r}, {path!r}, {mapping(in_path)}, {mapping(in_query)}, {sent})"
    returned = f"{answer}.model_validate({call})" if answer.startswith("models.") else call
    signature = f"\n    def {name}(self, {', '.join(args)}) -> {answer}:\n"
    return signature + docstring(verb, path, operation) + f"        return {returned}\n"


def docstring(verb: str, path: str, operation: dict[str, Any]) -> str:
    summary = operation.get("summary", "").rstrip(".")
    lines = textwrap.wrap(f"{verb.upper()} {path}: {summary}.", 100, break_on_hyphens=False)
    if len(lines) == 1:
        return f'        """{lines[0]}"""\n'
    return '        """' + "\n        ".join(lines) + '\n        """\n'


def success(operation: dict[str, Any], classes: set[str]) -> str:
    """The model of the first 2xx answer with a JSON body (a plain object is a dict)."""
    for status in sorted(operation["responses"]):
        content = operation["responses"][status].get("content", {}).get("application/json")
        if status.startswith("2") and content:
            return annotation(content["schema"], classes)
    return "None"


def annotation(schema: dict[str, Any], classes: set[str]) -> str:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1].replace(".", "")
        if name not in classes:
            raise ValueError(f"no generated model {name} for {schema['$ref']}")
        return f"models.{name}"
    if "anyOf" in schema:
        kinds = [annotation(s, classes) for s in schema["anyOf"] if s.get("type") != "null"]
        return " | ".join(dict.fromkeys(kinds))
    if schema.get("type") == "array":
        return f"list[{annotation(schema.get('items', {}), classes)}]"
    if schema.get("type") == "object":
        return "dict[str, Any]"
    return SCALARS.get(schema.get("type", ""), "Any")


def mapping(parameters: list[dict[str, Any]]) -> str:
    """The parameters as a dict literal from their names in the document to the method's arguments."""
    return "{" + ", ".join(f"{p['name']!r}: {arg(p['name'])}" for p in parameters) + "}"


def arg(name: str) -> str:
    """A parameter's Python name: `from` is a keyword, so `from_`."""
    name = name.replace("-", "_")
    return f"{name}_" if keyword.iskeyword(name) else name
