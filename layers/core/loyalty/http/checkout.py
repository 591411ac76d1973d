"""Checkout: a cart priced, held and settled (server), and the member's own preview."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from aws_lambda_powertools.metrics import MetricUnit

from .. import clock
from ..runtime import metrics, store
from ..schemas import CheckoutBody, CheckoutCancelled, CheckoutConfirm, CheckoutConfirmed, CheckoutView
from ..usecases import checkout
from .identity import member_id
from .params import ME, MEMBER, CheckoutId, MemberId, ProgramId
from .responses import REPEAT, created_or_repeated, responses

router = APIGatewayHttpRouter()
CHECKOUT = f"{MEMBER}/checkouts/<checkout_id>"
CART_REFUSED = (
    "not_eligible (a restricted line, named `items[i]`), insufficient_points (`points_to_use` over what other "
    "open checkouts leave), checkout_closed (confirmed or cancelled), member_blocked (a PUT for a blocked member), "
    "or conflict (too many concurrent writes)"
)
PRICING = (
    "The fixed order: member price, the checkout campaigns by priority (an exclusive one stops lower ones), the "
    "coupons in the order sent, then points; amounts spread over lines in proportion, rounded down, the remainder "
    "on the dearest line, so the lines sum to the totals exactly."
)


@router.put(
    CHECKOUT,
    summary="Open or re-price a checkout",
    description=f"{PRICING} Its applied coupons and `points_used` are held until it is confirmed, cancelled or "
    "`expires_at` (`pricing.hold_minutes`, renewed by each PUT); a PUT replaces its holds.",
    tags=["checkout"],
    responses=responses(
        200, "the priced checkout", errors={404: "not_found: unknown program or member", 409: CART_REFUSED}
    ),
)
def put_checkout(
    program_id: ProgramId, member_id: MemberId, checkout_id: CheckoutId, body: CheckoutBody
) -> CheckoutView:
    return checkout.put(store(), program_id, member_id, checkout_id, body, clock.now())


@router.get(
    CHECKOUT,
    summary="A checkout as last priced",
    description="`status` reads `expired` once `expires_at` has passed (it then holds nothing).",
    tags=["checkout"],
    responses=responses(200, "the checkout", errors={404: "not_found: unknown program, member or checkout"}),
)
def get_checkout(program_id: ProgramId, member_id: MemberId, checkout_id: CheckoutId) -> CheckoutView:
    return checkout.get(store(), program_id, member_id, checkout_id, clock.now())


@router.post(
    f"{CHECKOUT}/confirm",
    status_code=201,
    summary="Settle a checkout with its payment",
    description=(
        "Prices it again; `amount_paid_minor` must be the new `total_minor` (else 409 checkout_changed, the new "
        "pricing in `details`, nothing written). One transaction uses the coupons, spends the points (a `redeem` "
        "entry on the checkout), takes the campaigns' budgets and limits and records `order_id` as a purchase of "
        "what was paid in money: the answer is the purchase's, plus `checkout`. A refund names the order."
    ),
    tags=["checkout"],
    responses=responses(
        201,
        "settled",
        repeat=REPEAT,
        errors={
            404: "not_found: unknown program, member or checkout",
            409: "checkout_changed, checkout_expired, checkout_closed (cancelled), member_blocked, "
            "idempotency_conflict (the "
            "order id was used with another payload), insufficient_points (points it held were taken back since, "
            "by a refund or their expiry), or conflict (too many concurrent writes)",
        },
    ),
)
def confirm_checkout(
    program_id: ProgramId, member_id: MemberId, checkout_id: CheckoutId, body: CheckoutConfirm
) -> Response[CheckoutConfirmed]:
    outcome = checkout.confirm(store(), program_id, member_id, checkout_id, body, clock.now())
    if outcome.created and outcome.result.points_earned:
        metrics.add_metric(name="PointsEarned", unit=MetricUnit.Count, value=outcome.result.points_earned)
    return created_or_repeated(outcome, as_model=True)


@router.post(
    f"{CHECKOUT}/cancel",
    summary="Cancel a checkout, releasing its holds",
    description="No body is read. Cancelling a cancelled one answers the same; a confirmed one is 409 "
    "checkout_closed (refund its order instead).",
    tags=["checkout"],
    responses=responses(
        200,
        "cancelled",
        errors={404: "not_found: unknown program, member or checkout", 409: "checkout_closed: it was confirmed"},
    ),
)
def cancel_checkout(program_id: ProgramId, member_id: MemberId, checkout_id: CheckoutId) -> CheckoutCancelled:
    return checkout.cancel(store(), program_id, member_id, checkout_id, clock.now())


@router.put(
    f"{CHECKOUT}/preview",
    summary="Price a member's cart, holding nothing",
    description=f"{PRICING} The member's own preview, for the server (a till's or the console's \"try it\"): nothing "
    "is held or written (`status: preview`); what open checkouts hold is not the preview's to use. An addition to "
    "the contract's routes.",
    tags=["checkout"],
    responses=responses(
        200, "the cart priced", errors={404: "not_found: unknown program or member", 409: CART_REFUSED}
    ),
)
def preview_server(
    program_id: ProgramId, member_id: MemberId, checkout_id: CheckoutId, body: CheckoutBody
) -> CheckoutView:
    return checkout.preview(store(), program_id, member_id, checkout_id, body, clock.now())


@router.put(
    f"{ME}/checkouts/<checkout_id>",
    summary="Price my basket",
    description=f"{PRICING} Nothing is held or written (`status: preview`).",
    tags=["me"],
    responses=responses(
        200, "the basket priced", member=True, errors={404: "not_found: unknown program", 409: CART_REFUSED}
    ),
)
def preview_checkout(program_id: ProgramId, checkout_id: CheckoutId, body: CheckoutBody) -> CheckoutView:
    return checkout.preview(store(), program_id, member_id(router), checkout_id, body, clock.now())
