"""POST /programs/{program_id}/members/{member_id}/tier-evaluations (server)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from .. import clock
from ..runtime import store
from ..schemas import TierEvaluation, TierEvaluationResult
from ..usecases import tiers
from .params import MEMBER, MemberId, ProgramId
from .responses import responses

router = APIGatewayHttpRouter()
ERRORS = {404: "not_found: unknown program or member", 409: "conflict: too many concurrent writes to this member"}


@router.post(
    f"{MEMBER}/tier-evaluations",
    summary="Evaluate the tier now",
    tags=["tiers"],
    responses=responses(200, "the tier after the evaluation", errors=ERRORS),
)
def evaluate(program_id: ProgramId, member_id: MemberId, body: TierEvaluation) -> TierEvaluationResult:
    now = clock.now()
    return tiers.evaluate(store(), program_id, member_id, clock.event_time(body.at, "at", now))
