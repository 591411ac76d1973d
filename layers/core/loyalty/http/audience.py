"""The members list (server): the members of a program with one tier, tag, segment or stage, paged."""

from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from .. import clock
from ..errors import ValidationFailed
from ..member import Stage
from ..program import SEGMENTS, Id
from ..runtime import store
from ..schemas import MemberList
from ..usecases import audiences
from .params import PROGRAM, Cursor, ProgramId
from .responses import responses

router = APIGatewayHttpRouter()
Limit = Annotated[int, Query(ge=1, le=100, description="members per page")]
Segment = Annotated[Literal[SEGMENTS] | None, Query(description="an RFM segment")]  # type: ignore[valid-type]
ONE = "exactly one of tier, tag, segment, stage"


def _one(filters: dict[str, str | None]) -> tuple[str, str]:
    """The request's one filter; none or several is a 422 naming the parameters (all four when none)."""
    given = {attr: value for attr, value in filters.items() if value is not None}
    if len(given) == 1:
        return next(iter(given.items()))
    named = list(given or filters)
    message = f"{ONE} is required" if not given else f"{ONE} per request"
    raise ValidationFailed(f"{', '.join(named)}: {message}", [{"field": f, "message": message} for f in named])


@router.get(
    f"{PROGRAM}/members",
    summary="The members with a tier, tag, segment or stage",
    description=(
        f"{ONE} as a query parameter (none, or two, is a 422 naming them); member views in member id "
        "order, paged by `next_cursor`. Each page is one Query of the audience index, which every member "
        "write moves in its own transaction, and one read of the page's profiles."
    ),
    tags=["members"],
    responses=responses(errors={404: "not_found: unknown program"}),
)
def members(
    program_id: ProgramId,
    tier: Annotated[Id | None, Query(description="a tier id")] = None,
    tag: Annotated[Id | None, Query(description="a tag")] = None,
    segment: Segment = None,
    stage: Annotated[Stage | None, Query(description="a lifecycle stage")] = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> MemberList:
    attr, value = _one({"tier": tier, "tag": tag, "segment": segment, "stage": stage})
    return audiences.listed(store(), program_id, attr, value, limit, cursor, clock.now())
