"""Who made the write being served: set once per request by http/app.py, read by usecases/pipeline.commit
for the audit trail. A context variable rather than a parameter of every use case: the actor is a fact
of the request, not of any rule, and a scheduled run (no request) leaves it unset, so it writes no audit."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

_actor: ContextVar[str | None] = ContextVar("actor", default=None)
LOCAL = "local"
HEADER = "x-loyalty-actor"  # honoured only where no principal is known (the local runtime)


def resolve(event: dict[str, Any]) -> str:
    """The IAM principal (HTTP API IAM authorization), else the member behind a JWT, else the local
    runtime's header, else "local"."""
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    iam = authorizer.get("iam") or {}
    if isinstance(iam.get("userArn"), str) and iam["userArn"]:
        return str(iam["userArn"])
    claims = (authorizer.get("jwt") or {}).get("claims") or {}
    if isinstance(claims.get("sub"), str) and claims["sub"]:
        return f"member:{claims['sub']}"
    headers = {str(k).lower(): v for k, v in (event.get("headers") or {}).items()}
    named = headers.get(HEADER)
    return named.strip()[:128] if isinstance(named, str) and named.strip() else LOCAL


def current() -> str | None:
    return _actor.get()


def serving(actor: str | None) -> object:
    """Set the actor for the request being served; returns the token `done` takes."""
    return _actor.set(actor)


def done(token: object) -> None:
    _actor.reset(token)  # type: ignore[arg-type]
