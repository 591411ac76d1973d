"""Earning: purchases, refunds (server) and activities (server and member)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from aws_lambda_powertools.metrics import MetricUnit

from .. import clock
from ..runtime import metrics, store
from ..schemas import (
    Activity,
    ActivityMe,
    ActivityResult,
    Purchase,
    PurchaseResult,
    QuoteResult,
    Refund,
    RefundResult,
)
from ..usecases import earning
from ..usecases.pipeline import Outcome
from .identity import member_id
from .params import ME, MEMBER, MemberId, ProgramId
from .responses import REPEAT, created_or_repeated, responses

router = APIGatewayHttpRouter()
WRITE_CONFLICT = "idempotency_conflict (the id was used with another payload), or conflict (too many concurrent writes)"
BLOCKED = "member_blocked (the member is blocked: nothing written)"
ERRORS = {404: "not_found: unknown program, member or order", 409: f"{BLOCKED}, {WRITE_CONFLICT}"}
ACTIVITY_ERRORS = {
    404: "not_found: unknown program or member",
    409: f"limit_reached (the daily cap), {BLOCKED}, {WRITE_CONFLICT}",
}
REFUND_ERRORS = {
    **ERRORS,
    409: f"limit_reached (more units of a line than bought, earlier refunds counted: items[i]), {WRITE_CONFLICT}",
}
ME_ACTIVITY_ERRORS = {403: "forbidden: a type without self_report (the server's to report)", **ACTIVITY_ERRORS}


def _answer(outcome: Outcome[Any]) -> Response[Any]:
    """A write's answer (201, or 200 for a repeat), counting the points it credited."""
    earned = getattr(outcome.result, "points_earned", 0)
    if outcome.created and earned:
        metrics.add_metric(name="PointsEarned", unit=MetricUnit.Count, value=earned)
    return created_or_repeated(outcome)


@router.post(
    f"{MEMBER}/purchases",
    status_code=201,
    summary="Credit a paid order",
    tags=["earning"],
    responses=responses(201, "credited", repeat=REPEAT, errors=ERRORS),
)
def purchase(program_id: ProgramId, member_id: MemberId, body: Purchase) -> Response[PurchaseResult]:
    return _answer(earning.purchase(store(), program_id, member_id, body, clock.now()))


@router.post(
    f"{MEMBER}/quotes",
    summary="What a purchase would give, written nowhere",
    description=(
        "The purchase's rules on the member as it is now (points, campaigns, tier change, growth) and the "
        "coupons usable on the order, for a till or a cart; nothing is written and repeats are free."
    ),
    tags=["earning"],
    responses=responses(200, "the purchase as it would be", errors={404: "not_found: unknown program or member"}),
)
def quote(program_id: ProgramId, member_id: MemberId, body: Purchase) -> QuoteResult:
    return earning.quote(store(), program_id, member_id, body, clock.now())


@router.post(
    f"{MEMBER}/refunds",
    status_code=201,
    summary="Refund (part of) an order",
    description=(
        "Reverses the order's points and growth value in proportion and takes its spend out of tier "
        "qualification. A refund that takes the metric under the threshold of a tier this order gave moves "
        "the member back at once (no grace) to the tier it would hold without the refunded share, and takes "
        "back the gift of the levels undone: its points as far as the balance allows, its unused coupons "
        "(`coupons_revoked`); coupons already used stay (`coupons_unrecovered`). By `items` (the order's "
        "line ids), each line refunds its units' share of its paid amount and the campaign points given on it; "
        "the points the order was paid with come back in proportion (`points_restored`; `points_lapsed` from "
        "buckets expired since), and a full refund gives back the coupons it used and revokes the unused ones "
        "its campaigns gave."
    ),
    tags=["earning"],
    responses=responses(201, "reversed", repeat=REPEAT, errors=REFUND_ERRORS),
)
def refund(program_id: ProgramId, member_id: MemberId, body: Refund) -> Response[RefundResult]:
    return _answer(earning.refund(store(), program_id, member_id, body, clock.now()))


@router.post(
    f"{MEMBER}/activities",
    status_code=201,
    summary="Behaviour points",
    description=(
        "Credits the type's points and, when the program counts growth (`tiers.growth`), its growth value; "
        'on `tiers.metric` "growth" an activity that reaches a higher tier upgrades at once, with its gift.'
    ),
    tags=["earning"],
    responses=responses(201, "credited", repeat=REPEAT, errors=ACTIVITY_ERRORS),
)
def activity(program_id: ProgramId, member_id: MemberId, body: Activity) -> Response[ActivityResult]:
    return _answer(earning.activity(store(), program_id, member_id, body, clock.now()))


@router.post(
    f"{ME}/activities",
    status_code=201,
    summary="My behaviour points",
    tags=["me"],
    responses=responses(201, "credited", repeat=REPEAT, member=True, errors=ME_ACTIVITY_ERRORS),
)
def activity_me(program_id: ProgramId, body: ActivityMe) -> Response[ActivityResult]:
    activity = Activity(**body.model_dump(exclude_unset=True))
    return _answer(earning.activity(store(), program_id, member_id(router), activity, clock.now(), by_member=True))
