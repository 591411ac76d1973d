"""Shared test helpers: API Gateway v2 events, loading function handlers like Lambda does."""

from __future__ import annotations

import base64
import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
PROGRAMS = ROOT / "programs"


def program(name: str = "demo") -> dict[str, Any]:
    return json.loads((PROGRAMS / f"{name}.json").read_text())


def load_function(name: str) -> ModuleType:
    """Import functions/<name>/app.py under a unique module name (each function is its own container)."""
    spec = importlib.util.spec_from_file_location(f"fn_{name}", ROOT / "functions" / name / "app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def jwt(sub: str, **claims: Any) -> str:
    """An unsigned token with the given subject and claims (signatures are API Gateway's job, not the
    handler's)."""

    def part(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none'})}.{part({'sub': sub, **claims})}.sig"


def http_event(
    method: str,
    path: str,
    body: Any = None,
    query: dict[str, str] | None = None,
    sub: str | None = None,
    raw_body: str | None = None,
    iam: str | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An HTTP API event as API Gateway sends it: `sub` a member's JWT, `iam` a SigV4 caller's ARN."""
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": urlencode(query or {}),
        "headers": {"content-type": "application/json", **(headers or {})},
        "requestContext": {
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "t"},
            "requestId": "test",
            "routeKey": f"{method} {path}",
            "stage": "$default",
        },
        "body": raw_body if raw_body is not None else (json.dumps(body) if body is not None else None),
        "isBase64Encoded": False,
    }
    if query:
        event["queryStringParameters"] = query
    if sub is not None:
        event["requestContext"]["authorizer"] = {"jwt": {"claims": {"sub": sub}, "scopes": None}}
    if iam is not None:
        event["requestContext"]["authorizer"] = {"iam": {"userArn": iam, "accountId": "123456789012"}}
    return event


class Context:
    function_name = "test"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:test"
    aws_request_id = "req-test"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000
