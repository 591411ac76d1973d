"""The whole API in one app, for GET /openapi.json and the Swagger UI at GET /docs."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

from . import cards, earning, enrolment, programs, reads, spending, tiers
from .app import TITLE, VERSION, build

ROUTERS = (
    programs.router,
    enrolment.router,
    earning.router,
    reads.router,
    spending.router,
    tiers.router,
    cards.router,
)


def app() -> APIGatewayHttpResolver:
    whole = build(*ROUTERS)
    whole.enable_swagger(path="/docs", title=TITLE, version=VERSION)

    @whole.get("/openapi.json", include_in_schema=False)
    def openapi() -> dict[str, Any]:
        return whole.get_openapi_schema(title=TITLE, version=VERSION).model_dump(
            mode="json", by_alias=True, exclude_none=True
        )

    return whole
