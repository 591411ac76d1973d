"""Spending: redemptions (server and member) and coupons used at a till (server)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from .. import clock
from ..program import Id
from ..schemas import CouponUseBody, CouponUseResult, Redeem, RedemptionResult
from ..usecases import spend
from .deps import store
from .earning import MEMBER, created_or_repeated
from .identity import member_id
from .params import MemberId, ProgramId

router = APIGatewayHttpRouter()
CouponId = Annotated[Id, Path(description="coupon id")]
DOC: dict[int, Any] = {
    200: {"description": "a repeat of an earlier request with the same id: the first result"},
    404: {"description": "unknown program, member, reward or coupon"},
    409: {"description": "insufficient_points, out_of_stock, limit_reached, coupon_unavailable, idempotency_conflict"},
}


@router.post(f"{MEMBER}/redemptions", status_code=201, summary="Spend points", tags=["spending"], responses=DOC)
def redeem(program_id: ProgramId, member_id: MemberId, body: Redeem) -> Any:
    return created_or_repeated(*spend.redeem(store(), program_id, member_id, body, clock.now()), RedemptionResult)


@router.post(
    "/programs/<program_id>/me/redemptions", status_code=201, summary="Spend my points", tags=["me"], responses=DOC
)
def redeem_me(program_id: ProgramId, body: Redeem) -> Any:
    return redeem(program_id, member_id(router), body)


@router.post(f"{MEMBER}/coupons/<coupon_id>/use", summary="Use a coupon on an order", tags=["spending"], responses=DOC)
def use_coupon(program_id: ProgramId, member_id: MemberId, coupon_id: CouponId, body: CouponUseBody) -> CouponUseResult:
    _, result = spend.use_coupon(store(), program_id, member_id, coupon_id, body, clock.now())
    return CouponUseResult.model_validate(result)
