"""Enrolment: POST /programs/{program_id}/members (server) and POST /programs/{program_id}/me (member);
profile corrections: PATCH /programs/{program_id}/members/{member_id} (server) and
PATCH /programs/{program_id}/me (member); the member's tags: PUT /programs/{program_id}/members/{member_id}/tags
(server); block and unblock: PUT/DELETE /programs/{program_id}/members/{member_id}/block (server);
adjustments: POST /programs/{program_id}/members/{member_id}/adjustments (server); erasure:
DELETE /programs/{program_id}/members/{member_id} (server)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from aws_lambda_powertools.metrics import MetricUnit

from .. import clock
from ..runtime import metrics, store
from ..schemas import (
    Adjust,
    AdjustmentResult,
    Block,
    Enrol,
    Enrolled,
    EnrolMe,
    Erased,
    MemberTags,
    MemberView,
    ProfileChange,
    ProfileChangeMe,
    TagsChange,
)
from ..usecases import adjustments, blocking, erasure, members
from .identity import member_id
from .params import ME, MEMBER, PROGRAM, MemberId, ProgramId
from .responses import REPEAT, created_or_repeated, responses

router = APIGatewayHttpRouter()
ERRORS = {404: "not_found: unknown program", 409: "conflict: the member is being enrolled concurrently; retry"}
ME_ERRORS = {403: "forbidden: the program takes no self-enrolment (enrolment.self_service false)", **ERRORS}
ENROLLED = "enrolled: the member view, with the coupons the enrolment issued"
ALREADY = "already enrolled: the member, unchanged (no second welcome), with the coupons its enrolment issued"
# A write to one member: tags, a profile correction, an erasure.
MEMBER_ERRORS = {
    404: "not_found: unknown program or member",
    409: "conflict: too many concurrent writes to this member",
}
ADJUST_ERRORS = {
    404: "not_found: unknown program or member",
    409: "insufficient_points: a debit past the balance; idempotency_conflict: the adjustment_id was used with "
    "another payload; conflict: too many concurrent writes to this member",
}
PROFILE_ME_ERRORS = {
    **MEMBER_ERRORS,
    409: "limit_reached: the member changed its birthday already (once only); "
    "conflict: too many concurrent writes to this member",
}


def _enrol(program_id: str, body: Enrol, by_member: bool = False) -> Response[Enrolled]:
    outcome = members.enrol(store(), program_id, body, clock.now(), by_member)
    if outcome.created:
        metrics.add_metric(name="MembersEnrolled", unit=MetricUnit.Count, value=1)
    return created_or_repeated(outcome)


@router.post(
    f"{PROGRAM}/members",
    status_code=201,
    summary="Enrol a member",
    tags=["members"],
    responses=responses(201, ENROLLED, repeat=ALREADY, errors=ERRORS),
)
def enrol(program_id: ProgramId, body: Enrol) -> Response[Enrolled]:
    return _enrol(program_id, body)


@router.post(
    ME,
    status_code=201,
    summary="Enrol myself",
    tags=["me"],
    responses=responses(201, ENROLLED, repeat=ALREADY, member=True, errors=ME_ERRORS),
)
def enrol_me(program_id: ProgramId, body: EnrolMe) -> Response[Enrolled]:
    return _enrol(program_id, Enrol(member_id=member_id(router), **body.model_dump(exclude_unset=True)), True)


CORRECTION = (
    "Corrects the member's profile and answers the member view; audited. A correction that changes nothing "
    "writes nothing. Moving the birthday issues nothing by itself: the birthday gift comes with the month's "
    "benefits, once a month, so a birthday moved into a month whose benefits were issued gets its gift next year."
)


@router.patch(
    MEMBER,
    summary="Correct the member's birthday or channel",
    description=CORRECTION + " The server may change the birthday any time.",
    tags=["members"],
    responses=responses(200, "the member view after the correction", errors=MEMBER_ERRORS),
)
def correct(program_id: ProgramId, member_id: MemberId, body: ProfileChange) -> MemberView:
    return members.correct(store(), program_id, member_id, body, clock.now())


@router.patch(
    ME,
    summary="Correct my birthday",
    description=CORRECTION + " A member changes its birthday once: a second change is 409 `limit_reached` "
    "(asking for the birthday it has is no change: 200).",
    tags=["me"],
    responses=responses(200, "the member view after the correction", member=True, errors=PROFILE_ME_ERRORS),
)
def correct_me(program_id: ProgramId, body: ProfileChangeMe) -> MemberView:
    change = ProfileChange(birthday=body.birthday)
    return members.correct(store(), program_id, member_id(router), change, clock.now(), by_member=True)


@router.put(
    f"{MEMBER}/tags",
    summary="Add or remove the member's tags",
    description=(
        "Removes `remove`, adds `add` and answers the member's tags. Idempotent: a tag held already, or not "
        "held, is no change, so a repeat answers the same tags (and writes nothing)."
    ),
    tags=["members"],
    responses=responses(200, "the member's tags after the change", errors=MEMBER_ERRORS),
)
def set_tags(program_id: ProgramId, member_id: MemberId, body: TagsChange) -> MemberTags:
    return members.set_tags(store(), program_id, member_id, body, clock.now())


BLOCKING = (
    "A blocked member earns and spends nothing: purchases, activities, redemptions, checkouts, paid cards and "
    "coupon use answer 409 `member_blocked`; refunds, cancellations and operator adjustments still work. It keeps "
    "what it has; sweeps and grants skip it. Idempotent: a repeat writes nothing and answers the member view."
)


@router.put(
    f"{MEMBER}/block",
    summary="Block the member",
    description=BLOCKING + " Blocking a blocked member keeps the first block's time and reason.",
    tags=["members"],
    responses=responses(200, "the member view, `blocked` set", errors=MEMBER_ERRORS),
)
def block(program_id: ProgramId, member_id: MemberId, body: Block) -> MemberView:
    return blocking.set_blocked(store(), program_id, member_id, body.reason, clock.now())


@router.delete(
    f"{MEMBER}/block",
    summary="Unblock the member",
    description=BLOCKING + " Unblocking puts its scheduled work back: what fell due meanwhile runs once.",
    tags=["members"],
    responses=responses(200, "the member view, `blocked` null", errors=MEMBER_ERRORS),
)
def unblock(program_id: ProgramId, member_id: MemberId) -> MemberView:
    return blocking.set_blocked(store(), program_id, member_id, None, clock.now())


@router.post(
    f"{MEMBER}/adjustments",
    status_code=201,
    summary="Adjust the member's balance",
    description=(
        "A support agent's correction: `points` credited (positive, new points with the program's expiry) or "
        "debited (negative, earliest-expiring first, never below zero: 409 `insufficient_points`), written as an "
        "`adjust` ledger entry carrying `reason` and `actor` (the request's principal, as in the audit trail). "
        "Exactly once by `adjustment_id`."
    ),
    tags=["members"],
    responses=responses(201, "adjusted: the new balance and the ledger entry", repeat=REPEAT, errors=ADJUST_ERRORS),
)
def adjust(program_id: ProgramId, member_id: MemberId, body: Adjust) -> Response[AdjustmentResult]:
    outcome = adjustments.adjust(store(), program_id, member_id, body, clock.now())
    if outcome.created:
        metrics.add_metric(name="PointsAdjusted", unit=MetricUnit.Count, value=abs(body.points))
    return created_or_repeated(outcome)


@router.delete(
    MEMBER,
    summary="Erase a member (right to be forgotten)",
    description=(
        "Removes the member's personal data: the member id is replaced by a random pseudonym in its ledger, "
        "coupons, tier history and references, and birthday, channel and tags are dropped; unused coupons are "
        "revoked and the balance leaves the points liability as an `adjust` entry. Aggregate figures stay. "
        "Exactly once: a repeat answers the same result. A later enrolment of the same id is a new member."
    ),
    tags=["members"],
    responses=responses(200, "the erasure's result (the same on a repeat)", errors=MEMBER_ERRORS),
)
def erase(program_id: ProgramId, member_id: MemberId) -> Erased:
    outcome = erasure.erase(store(), program_id, member_id, clock.now())
    if outcome.created:
        metrics.add_metric(name="MembersErased", unit=MetricUnit.Count, value=1)
    return outcome.result
