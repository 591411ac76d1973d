"""Who is calling: the member behind a JWT on /me routes. Server routes are authorised by IAM."""

from __future__ import annotations

import re

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

from ..errors import Unauthorized

_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")  # fullmatch: `$` would let a trailing newline through


def member_id(app: APIGatewayHttpResolver) -> str:
    """The token's `sub`. API Gateway has checked the signature; locally the runtime decodes it."""
    claims = app.current_event.request_context.authorizer.jwt_claim or {}
    sub = claims.get("sub")
    if not isinstance(sub, str) or not _ID.fullmatch(sub):
        raise Unauthorized("a member token with a valid subject is required")
    return sub
