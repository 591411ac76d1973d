"""POST /programs/{program_id}/members/{member_id}/tier-evaluations (server)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from .. import clock
from ..schemas import TierEvaluation, TierEvaluationResult
from ..usecases import tiering
from ..usecases.earn import event_time
from .deps import store
from .earning import MEMBER
from .params import MemberId, ProgramId

router = APIGatewayHttpRouter()
DOC: dict[int, Any] = {404: {"description": "unknown program or member"}}


@router.post(f"{MEMBER}/tier-evaluations", summary="Evaluate the tier now", tags=["tiers"], responses=DOC)
def evaluate(program_id: ProgramId, member_id: MemberId, body: TierEvaluation) -> dict[str, Any]:
    now = clock.now()
    result = tiering.evaluate(store(), program_id, member_id, event_time(body.at, "at", now))
    return TierEvaluationResult.model_validate(result).model_dump(mode="json", by_alias=True)
