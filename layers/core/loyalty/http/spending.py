"""Spending: redemptions (server and member) and coupons used at a till (server)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from aws_lambda_powertools.metrics import MetricUnit

from .. import clock
from ..program import Id
from ..runtime import metrics, store
from ..schemas import CouponUseBody, CouponUseResult, Redeem, RedemptionCancel, RedemptionCancelled, RedemptionResult
from ..usecases import spending
from .identity import member_id
from .params import ME, MEMBER, MemberId, ProgramId
from .responses import REPEAT, created_or_repeated, responses

router = APIGatewayHttpRouter()
CouponId = Annotated[Id, Path(description="coupon id")]
RedemptionId = Annotated[Id, Path(description="redemption id (the server's: a member's own redemption is not one)")]
REDEEM_ERRORS = {
    404: "not_found: unknown program, member or reward",
    409: "insufficient_points, out_of_stock, limit_reached, member_blocked, idempotency_conflict or conflict;"
    " nothing changed",
}
NO_INPUT = RedemptionCancel()  # a cancel sent without a body
COUPON_ERRORS = {
    404: "not_found: unknown program, member or coupon",
    409: (
        "coupon_unavailable (used, held by an open checkout, expired, not yet valid, below minimum spend, no line"
        " of `items` it applies to), member_blocked, idempotency_conflict or conflict"
    ),
    422: "validation_error: a field is invalid, or `items` are missing for a coupon whose template has `applies_to`",
}


@router.post(
    f"{MEMBER}/redemptions",
    status_code=201,
    summary="Spend points",
    tags=["spending"],
    responses=responses(201, "spent", repeat=REPEAT, errors=REDEEM_ERRORS),
)
def redeem(program_id: ProgramId, member_id: MemberId, body: Redeem) -> Response[RedemptionResult]:
    return _redeem(program_id, member_id, body, by_member=False)


def _redeem(program_id: str, who: str, body: Redeem, by_member: bool) -> Response[RedemptionResult]:
    outcome = spending.redeem(store(), program_id, who, body, clock.now(), by_member)
    if outcome.created:
        metrics.add_metric(name="PointsRedeemed", unit=MetricUnit.Count, value=outcome.result.points_spent)
    return created_or_repeated(outcome)


@router.post(
    f"{ME}/redemptions",
    status_code=201,
    summary="Spend my points",
    tags=["me"],
    responses=responses(201, "spent", repeat=REPEAT, member=True, errors=REDEEM_ERRORS),
)
def redeem_me(program_id: ProgramId, body: Redeem) -> Response[RedemptionResult]:
    return _redeem(program_id, member_id(router), body, by_member=True)


@router.post(
    f"{MEMBER}/redemptions/<redemption_id>/cancel",
    summary="Cancel a redemption",
    description="The body is `{}` (or none): any other is a 422 naming what it has. Undoes a redemption none of "
    "whose coupons is used (or held by an open checkout): "
    "its points come back into the buckets they were spent from (`points_lapsed`: those of buckets expired since), "
    "its coupons are revoked, its stock and the member's `per_member_limit` count given back; a reward's grant "
    "budget keeps what it counted. Exactly once: a repeat answers the same.",
    tags=["spending"],
    responses=responses(
        200,
        "cancelled (or a repeat: the first answer)",
        errors={
            404: "not_found: unknown program, member, or redemption (another member's included)",
            409: "coupon_unavailable (a coupon of the redemption is used or held; `details` name it) or conflict",
        },
    ),
)
def cancel_redemption(
    program_id: ProgramId, member_id: MemberId, redemption_id: RedemptionId, body: RedemptionCancel = NO_INPUT
) -> RedemptionCancelled:
    # `body` is only checked: `{}` or none, as every write refuses inputs it does not take (422 naming them).
    outcome = spending.cancel(store(), program_id, member_id, redemption_id, clock.now())
    if outcome.created:
        metrics.add_metric(name="PointsRestored", unit=MetricUnit.Count, value=outcome.result.points_restored)
    return outcome.result


@router.post(
    f"{MEMBER}/coupons/<coupon_id>/use",
    summary="Use a coupon on an order",
    tags=["spending"],
    responses=responses(200, "used (or the same order again: the first answer)", errors=COUPON_ERRORS),
)
def use_coupon(program_id: ProgramId, member_id: MemberId, coupon_id: CouponId, body: CouponUseBody) -> CouponUseResult:
    outcome = spending.use_coupon(store(), program_id, member_id, coupon_id, body, clock.now())
    if outcome.created:
        metrics.add_metric(name="CouponsUsed", unit=MetricUnit.Count, value=1)
        metrics.add_metric(name="CouponDiscountMinor", unit=MetricUnit.Count, value=outcome.result.discount_minor)
    return outcome.result
