"""Guest orders: POST /programs/{program_id}/guest-orders (server), a non-member's order."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from aws_lambda_powertools.metrics import MetricUnit

from .. import clock
from ..runtime import metrics, store
from ..schemas import GuestOrder, GuestOrderResult
from ..usecases import guests
from .params import PROGRAM, ProgramId
from .responses import REPEAT, created_or_repeated, responses

router = APIGatewayHttpRouter()
ERRORS = {
    404: "not_found: unknown program",
    409: "idempotency_conflict: the order_id was used with another payload, or by a member's purchase; "
    "conflict: too many concurrent writes",
}


@router.post(
    f"{PROGRAM}/guest-orders",
    status_code=201,
    summary="Record a non-member's order",
    description=(
        "A guest order, for the program's figures (guest GMV, the members' share of GMV, the conversion rate): "
        "no member is created or changed. Exactly once by `order_id`, which shares the id space of members' "
        "orders: an id a member's purchase used is 409 `idempotency_conflict`, as is a purchase naming a guest "
        "order's id."
    ),
    tags=["earning"],
    responses=responses(201, "recorded: the guest order", repeat=REPEAT, errors=ERRORS),
)
def guest_order(program_id: ProgramId, body: GuestOrder) -> Response[GuestOrderResult]:
    outcome = guests.guest_order(store(), program_id, body, clock.now())
    if outcome.created:
        metrics.add_metric(name="GuestOrders", unit=MetricUnit.Count, value=1)
    return created_or_repeated(outcome)
