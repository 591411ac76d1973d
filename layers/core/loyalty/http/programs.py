"""PUT/GET /programs/{program_id} (server)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import Field

from .. import clock
from ..rules import pricing
from ..schemas import HealthFigures, ProgramSaved, RoiTable
from ..usecases import health, programs
from .deps import store
from .params import PROGRAM, ProgramId
from .responses import responses

router = APIGatewayHttpRouter()
UNKNOWN = {404: "not_found: unknown program"}


@router.put(
    PROGRAM,
    summary="Create or replace a program document",
    tags=["programs"],
    responses=responses(
        200,
        "saved: the new version, with pricing warnings",
        errors={
            409: "conflict: the program is being saved concurrently; retry",
            422: "program_invalid with every problem listed, or validation_error (a bad path parameter)",
        },
    ),
)
def put_program(program_id: ProgramId, document: dict[str, Any]) -> ProgramSaved:
    return ProgramSaved.model_validate(programs.save(store(), program_id, document))


@router.get(
    f"{PROGRAM}/paid-cards/roi",
    summary="What each card plan nets at 30/50/80% redemption of its benefits",
    tags=["programs"],
    responses=responses(errors=UNKNOWN),
)
def card_roi(
    program_id: ProgramId,
    rates: Annotated[
        list[Annotated[int, Field(ge=0, le=100)]] | None,
        Query(description="redemption rates in percent (default 30, 50, 80)", max_length=10),
    ] = None,
) -> RoiTable:
    return RoiTable.model_validate(programs.roi(store(), program_id, tuple(rates or pricing.RATES)))


@router.get(
    f"{PROGRAM}/health",
    summary="The program's health figures over a range of program-local days",
    tags=["programs"],
    responses=responses(errors=UNKNOWN),
)
def program_health(
    program_id: ProgramId,
    from_: Annotated[
        date | None, Query(alias="from", description="first day, YYYY-MM-DD (default: 29 days before `to`)")
    ] = None,
    to: Annotated[date | None, Query(description="last day, YYYY-MM-DD (default: today)")] = None,
) -> HealthFigures:
    result = health.figures(store(), program_id, from_, to, clock.now())
    return HealthFigures.model_validate(result)


@router.get(
    PROGRAM,
    summary="The current program document with its version",
    tags=["programs"],
    responses=responses(errors=UNKNOWN),
)
def get_program(program_id: ProgramId) -> dict[str, Any]:
    return programs.document(store(), program_id)
