"""PUT/GET /programs/{program_id} (server)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import Field

from .. import clock
from ..program import BASE_ITEMS, MAX_REDEEMED_COUPONS, ROOM, TRANSACTION_ITEMS, Day
from ..rules import pricing
from ..runtime import store
from ..schemas import (
    CampaignFigures,
    CampaignReport,
    ExperimentReport,
    HealthFigures,
    HealthSeries,
    ProgramSaved,
    ProgramVersion,
    ProgramVersions,
    RoiTable,
)
from ..store import MAX_PROGRAM_BYTES
from ..usecases import experiments, health, programs
from .params import PROGRAM, CampaignId, Cursor, ProgramId
from .responses import responses

router = APIGatewayHttpRouter()
UNKNOWN = {404: "not_found: unknown program"}
# A health range: the same two query parameters on the figures and on their per-day series.
FromDay = Annotated[
    Day | None,
    Query(
        alias="from",
        description=(
            f"first day, YYYY-MM-DD (default: 29 days before `to`), not after `to`; a range covers at most "
            f"{health.MAX_DAYS} days"
        ),
    ),
]
ToDay = Annotated[Day | None, Query(description="last day, YYYY-MM-DD (default: today)")]


@router.put(
    PROGRAM,
    summary="Create or replace a program document",
    description=(
        "Validated in full; each save is a new version. Limits, so that no valid program fails later: "
        f"the document, stored as compact UTF-8 JSON, takes at most {MAX_PROGRAM_BYTES:,} bytes (one "
        "DynamoDB item holds 400 KB; over it is program_invalid naming the largest section, with `bytes` "
        f"and `limit_bytes`). Every member write is one DynamoDB transaction of at most {TRANSACTION_ITEMS} "
        f"items, {BASE_ITEMS} of them the write's own (profile, reference, audit, stock, due index, expiry "
        f"entry), so what one write issues must fit in {ROOM} items (a coupon, a points entry, a budget, a "
        "notice or a tier history entry is one each): the upgrade gifts of every level at once (a "
        "purchase may cross them all: program_invalid naming `tiers.levels[i].on_upgrade`), a card "
        "payment with all its cycles (`paid_cards[i].every_cycle`), one cycle of every identity card "
        "(`paid_cards`). A redemption issues at most "
        f"{MAX_REDEEMED_COUPONS} coupons (quantity x the reward's coupons; one less for a reward with a "
        "budget). A `budget` on any grant (welcome, on_upgrade, every_month, rfm benefits, card packs and "
        "cycles, a reward's grant) or on the churn_warning, recall and birthday offers caps how many times "
        "that grant is given per program-local month, program-wide: once spent it is skipped and the rest "
        "of the write applies (a reward's spent budget is 409 limit_reached). Birthday coupons are valid "
        "until the later of `valid_days` after issue and the end of the member's birthday month."
    ),
    tags=["programs"],
    responses=responses(
        200,
        "saved: the new version, with pricing warnings",
        errors={
            409: "conflict: the program is being saved concurrently; retry",
            422: (
                "program_invalid with every problem listed (also: a document over "
                f"{MAX_PROGRAM_BYTES:,} bytes), or validation_error (a bad path parameter)"
            ),
        },
    ),
)
def put_program(program_id: ProgramId, document: dict[str, Any]) -> ProgramSaved:
    return programs.save(store(), program_id, document)


@router.get(
    f"{PROGRAM}/paid-cards/roi",
    summary="What each card plan nets at 30/50/80% redemption of its benefits",
    tags=["programs"],
    responses=responses(errors=UNKNOWN),
)
def card_roi(
    program_id: ProgramId,
    rates: Annotated[
        list[Annotated[int, Field(ge=1, le=100)]] | None,
        Query(description="redemption rates in whole percent, 1 to 100 (default 30, 50, 80)", max_length=10),
    ] = None,
) -> RoiTable:
    return programs.roi(store(), program_id, tuple(rates or pricing.RATES))


@router.get(
    f"{PROGRAM}/health",
    summary="The program's health figures over a range of program-local days",
    tags=["programs"],
    responses=responses(errors=UNKNOWN),
)
def program_health(
    program_id: ProgramId,
    from_: FromDay = None,
    to: ToDay = None,
) -> HealthFigures:
    return health.figures(store(), program_id, from_, to, clock.now())


@router.get(
    f"{PROGRAM}/health/days",
    summary="The program's health per day: members and points liability at each day's end, the day's counters",
    tags=["programs"],
    responses=responses(errors=UNKNOWN),
)
def program_health_days(
    program_id: ProgramId,
    from_: FromDay = None,
    to: ToDay = None,
) -> HealthSeries:
    return health.series(store(), program_id, from_, to, clock.now())


@router.get(
    f"{PROGRAM}/versions",
    summary="The program's saved versions, newest first",
    tags=["programs"],
    responses=responses(errors=UNKNOWN),
)
def program_versions(
    program_id: ProgramId,
    limit: Annotated[int, Query(ge=1, le=100, description="versions per page")] = 20,
    cursor: Cursor = None,
) -> ProgramVersions:
    return programs.versions(store(), program_id, limit, cursor)


@router.get(
    f"{PROGRAM}/versions/<version>",
    summary="One saved version of the program document",
    tags=["programs"],
    responses=responses(errors={404: "not_found: unknown program or version"}),
)
def program_version(
    program_id: ProgramId, version: Annotated[int, Path(ge=1, le=10**9, description="the version number")]
) -> ProgramVersion:
    return programs.version(store(), program_id, version)


@router.get(
    f"{PROGRAM}/campaigns",
    summary="Every campaign with its status, its figures and cost over a range of program-local days, per day",
    description=(
        "Counted from the table's stream (a moment behind the writes), net of refunds (a refund counts on the "
        "day it happens). `cost_minor` = (points_given - points_reversed) at the program's point value, rounded "
        "down, + coupons_used_minor (the money its used coupons took off) + discount_minor (checkout discounts). "
        "Reads one Query (every campaign's days of the range: one item per campaign per day that counted "
        "anything, a page per 1 MB) and one BatchGetItem of the campaigns' budgets."
    ),
    tags=["programs"],
    responses=responses(errors=UNKNOWN),
)
def campaigns_report(
    program_id: ProgramId,
    from_: FromDay = None,
    to: ToDay = None,
) -> CampaignReport:
    return health.campaigns_report(store(), program_id, from_, to, clock.now())


@router.get(
    f"{PROGRAM}/campaigns/<campaign_id>",
    summary="A campaign's figures",
    tags=["programs"],
    responses=responses(errors={404: "not_found: unknown program or campaign"}),
)
def campaign_figures(program_id: ProgramId, campaign_id: CampaignId) -> CampaignFigures:
    return health.campaign(store(), program_id, campaign_id)


@router.get(
    f"{PROGRAM}/campaigns/<campaign_id>/experiment",
    summary="An experiment campaign's arms: what their members did after exposure, each arm's uplift over the holdout",
    description=(
        "Counted from the table's stream (a moment behind the writes). Per arm: members exposed (met the campaign "
        "in that arm; a holdout member is given nothing), its cost, and per member exposed the orders and spend "
        "after the first exposure and the share with 2+ orders since. `uplift`: the arm less the holdout with a "
        "95% interval (Welch's t for spend per member, two-proportion Wald for the repurchase rate), once both "
        "have 2 members exposed. A campaign without an experiment answers the arms it counted (none: `[]`). "
        "One Query."
    ),
    tags=["programs"],
    responses=responses(errors={404: "not_found: unknown program or campaign"}),
)
def campaign_experiment(program_id: ProgramId, campaign_id: CampaignId) -> ExperimentReport:
    return experiments.report(store(), program_id, campaign_id)


@router.get(
    PROGRAM,
    summary="The current program document with its version",
    tags=["programs"],
    responses=responses(errors=UNKNOWN),
)
def get_program(program_id: ProgramId) -> dict[str, Any]:
    return programs.document(store(), program_id)
