"""The app factory every HTTP function uses: validation, error shape, observability, in one place."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from re import Match
from typing import Any
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from aws_lambda_powertools.logging import correlation_paths

from .. import caller, ready
from ..errors import LoyaltyError, error_message, field_path
from ..runtime import logger, metrics, tracer
from . import guard

TITLE = "Loyalty engine"
VERSION = "1.0.0"

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
WRITES = ("POST", "PUT", "PATCH")  # the methods whose routes take a body


def error_body(code: str, message: str, details: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or []}}


def error(status: int, code: str, message: str, details: list[dict[str, Any]] | None = None) -> Response[Any]:
    return Response(
        status_code=status, content_type=content_types.APPLICATION_JSON, body=error_body(code, message, details)
    )


def _field(loc: tuple[Any, ...]) -> str:
    """('body', 'items', 0, 'sku') -> 'items[0].sku'; the source (body/query/path) is implied."""
    parts = loc[1:] if loc and loc[0] in ("body", "query", "path", "header") else loc
    return field_path(parts) or (str(loc[0]) if loc else "body")


def _detail(e: Any) -> dict[str, str]:
    """One problem, naming the deepest field: a list's validator that finds one element wrong (a
    duplicate line) says which in its message, `items[1].line_id: ...`, and that element is the field
    (pydantic places a validator's error at the list itself)."""
    field, message = _field(tuple(e.get("loc", ()))), error_message(e)
    name = field.rsplit(".", 1)[-1]
    deeper = re.match(rf"{re.escape(name)}(\[\d+\][\w.\[\]]*): (.+)", message, re.S)
    if deeper:
        return {"field": field + deeper.group(1), "message": deeper.group(2)}
    return {"field": field, "message": message}


class _Resolver(APIGatewayHttpResolver):
    def _convert_matches_into_route_keys(self, match: Match[str]) -> dict[str, str]:
        # Routes match the raw path, still percent-encoded: a client's encoder may send an id's ':' as
        # %3A, and the id is still the id (Powertools' own hook for turning a match into arguments).
        return {name: unquote(value) for name, value in match.groupdict().items()}


def build(*routers: APIGatewayHttpRouter) -> APIGatewayHttpResolver:
    app = _Resolver(enable_validation=True)
    for router in routers:
        app.include_router(router)

    @app.exception_handler(LoyaltyError)
    def _domain(exc: LoyaltyError) -> Response[Any]:
        if exc.status >= 500:
            logger.exception("domain failure")
        return error(exc.status, exc.code, exc.message, exc.details)

    @app.exception_handler(RequestValidationError)
    def _invalid(exc: RequestValidationError) -> Response[Any]:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return error(
                400, "validation_error", "the body is not valid JSON", [{"field": "body", "message": "invalid JSON"}]
            )
        details = [_detail(e) for e in errors]
        fields = ", ".join(sorted({d["field"] for d in details}))
        return error(422, "validation_error", f"invalid request: {fields}", details)

    @app.not_found
    def _no_route(exc: NotFoundError) -> Response[Any]:
        return error(404, "not_found", "no such route")

    @app.exception_handler(Exception)
    def _crash(exc: Exception) -> Response[Any]:
        # Never a stack trace to the client; the log has it, with the correlation id.
        logger.exception("unhandled error")
        return error(500, "internal_error", "internal error")

    return app


def _refused(status: int, message: str, field: str = "body") -> dict[str, Any]:
    """A body refused before the app sees it, as the app would answer it."""
    body = error_body("validation_error", message, [{"field": field, "message": message}])
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}


def lambda_handler(app: APIGatewayHttpResolver) -> Handler:
    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
    @tracer.capture_lambda_handler
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        if isinstance(event.get("body"), str) and event.get("isBase64Encoded"):
            # API Gateway base64-encodes a body that is not text; JSON must be UTF-8 text, and
            # Powertools' own decoding would fail on anything else with a 500.
            try:
                event["body"], event["isBase64Encoded"] = base64.b64decode(event["body"]).decode("utf-8"), False
            except ValueError:  # binascii.Error and UnicodeDecodeError are ValueErrors
                return _refused(400, "the body is not UTF-8 text")
        if not event.get("body") and event.get("requestContext", {}).get("http", {}).get("method") in WRITES:
            # A body left out is `{}`: one whose fields are all optional ({at?}) may be omitted, and one
            # with required fields names them (docs.with_optional_bodies tells the document so).
            event["body"], event["isBase64Encoded"] = "{}", False
        refused = guard.problem(event["body"]) if isinstance(event.get("body"), str) else None
        refused = refused or guard.header_problem(event.get("headers"))
        if refused:
            return _refused(*refused)
        if event.get("body"):
            # JSON in, whatever the client's content-type says (curl's default is a form type, and
            # Powertools would otherwise parse the body as a form).
            event.setdefault("headers", {})["content-type"] = "application/json"
        token = caller.serving(caller.resolve(event))
        try:
            return app.resolve(event, context)
        finally:
            caller.done(token)

    return ready(handler)
