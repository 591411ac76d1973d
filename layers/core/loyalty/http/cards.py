"""Paid cards (server only: a member cannot confirm its own payment): purchase and refund."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from aws_lambda_powertools.metrics import MetricUnit

from .. import clock
from ..program import Id
from ..runtime import metrics, store
from ..schemas import CardPurchase, CardPurchaseResult, CardRefund, CardRefundResult
from ..usecases import cards
from .params import MEMBER, MemberId, ProgramId
from .responses import REPEAT, created_or_repeated, responses

router = APIGatewayHttpRouter()
PlanId = Annotated[Id, Path(description="card plan id")]
ERRORS = {
    404: "not_found: unknown program, member, card plan, or no active card of the plan",
    409: "member_blocked (buying a card), idempotency_conflict, conflict, "
    "or refund_not_allowed (window closed, refunded, extended since)",
    422: "validation_error: amount_paid_minor is not the plan's price, or a bad path or body field",
}


@router.post(
    f"{MEMBER}/paid-cards",
    status_code=201,
    summary="Confirm a card payment",
    operation_id="buy_card",
    tags=["paid cards"],
    responses=responses(201, "the card bought or extended", repeat=REPEAT, errors=ERRORS),
)
def purchase(program_id: ProgramId, member_id: MemberId, body: CardPurchase) -> Response[CardPurchaseResult]:
    outcome = cards.purchase(store(), program_id, member_id, body, clock.now())
    if outcome.created:
        metrics.add_metric(name="CardRevenue", unit=MetricUnit.Count, value=body.amount_paid_minor)
    return created_or_repeated(outcome)


@router.post(
    f"{MEMBER}/paid-cards/<plan_id>/refund",
    status_code=201,
    summary="Refund a card payment",
    operation_id="refund_card",
    tags=["paid cards"],
    responses=responses(201, "refunded", repeat=REPEAT, errors=ERRORS),
)
def refund(program_id: ProgramId, member_id: MemberId, plan_id: PlanId, body: CardRefund) -> Response[CardRefundResult]:
    outcome = cards.refund(store(), program_id, member_id, plan_id, body, clock.now())
    if outcome.created:
        metrics.add_metric(name="CardRefunded", unit=MetricUnit.Count, value=outcome.result.refund_minor)
    return created_or_repeated(outcome)
