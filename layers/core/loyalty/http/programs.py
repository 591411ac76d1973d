"""PUT/GET /programs/{program_id} (server)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from ..schemas import ProgramSaved
from ..usecases import programs
from .deps import store
from .params import ProgramId

router = APIGatewayHttpRouter()
ERRORS: dict[int, Any] = {
    404: {"description": "unknown program"},
    422: {"description": "program_invalid, with every problem listed"},
}


@router.put(
    "/programs/<program_id>", summary="Create or replace a program document", tags=["programs"], responses=ERRORS
)
def put_program(program_id: ProgramId, document: dict[str, Any]) -> ProgramSaved:
    return ProgramSaved.model_validate(programs.save(store(), program_id, document))


@router.get(
    "/programs/<program_id>",
    summary="The current program document with its version",
    tags=["programs"],
    responses=ERRORS,
)
def get_program(program_id: ProgramId) -> dict[str, Any]:
    return programs.document(store(), program_id)
