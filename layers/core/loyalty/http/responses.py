"""The responses of a route in the OpenAPI document, built in one place so the document tells the truth.

Every route can answer 400 (the body is not JSON, or nests too deep), 413 (the body is too large) and
422 (a path, query or body field is invalid), all in the contract's error shape; these are listed once
here. Powertools documents its own 422 (`HTTPValidationError`, FastAPI's shape), which the app never
sends (app.py maps validation errors to the error shape), so the 422 here replaces it. A success
response without `content` takes the schema of the handler's return annotation.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from ..schemas import ErrorBody, GatewayMessage
from ..usecases.pipeline import Outcome
from .guard import MAX_BODY_BYTES, MAX_DEPTH

REPEAT = "a repeat of an earlier request with the same id and payload: the first result"


def created_or_repeated(outcome: Outcome[Any], as_model: bool = False) -> Response[Any]:
    """201 with the result the first time, 200 with the same result on a repeat. `as_model`: the
    route answers the result's own class, so Powertools takes the instance as valid and dumps it once,
    where a dump would be validated again (a confirm's 20 priced lines: ~0.3 ms of both)."""
    body = outcome.result if as_model else outcome.result.model_dump(mode="json")
    status = 201 if outcome.created else 200
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body)


def _error(description: str, model: Any = ErrorBody) -> OpenAPIResponse:
    return {"description": description, "content": {"application/json": {"model": model}}}


def responses(
    status: int = 200,
    ok: str = "Successful Response",
    *,
    repeat: str | None = None,
    member: bool = False,
    errors: dict[int, str] | None = None,
) -> dict[int, OpenAPIResponse]:
    """`status` and `ok` describe the success; `repeat`: what the 200 of a 201 route means (usually
    REPEAT: the same id and payload again); `member`: a /me route (401 without a token);
    `errors`: the route's own error statuses (404, 409, ...) with what they mean."""
    out: dict[int, OpenAPIResponse] = {status: {"description": ok}}
    if repeat:
        out[200] = {"description": repeat}
    out[400] = _error(f"validation_error: the body is not UTF-8 JSON, or nests deeper than {MAX_DEPTH} levels")
    if member:
        out[401] = _error(
            "unauthorized: no member token (API Gateway's answer, `{message}`), or a token without a valid `sub`",
            ErrorBody | GatewayMessage,
        )
    out[413] = _error(
        f"validation_error: the body is larger than {MAX_BODY_BYTES} bytes"
        " (over API Gateway's 10 MB limit: API Gateway's answer, `{message}`)",
        ErrorBody | GatewayMessage,
    )
    out[422] = _error("validation_error: a path, query or body field is invalid; `details` name each one")
    for code, description in (errors or {}).items():
        out[code] = _error(description)
    return dict(sorted(out.items()))
