"""Enrolment: POST /programs/{program_id}/members (server) and POST /programs/{program_id}/me (member)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from aws_lambda_powertools.metrics import MetricUnit

from .. import clock
from ..runtime import metrics, store
from ..schemas import Enrol, EnrolMe, MemberView
from ..usecases import members
from .identity import member_id
from .params import ME, PROGRAM, ProgramId
from .responses import created_or_repeated, responses

router = APIGatewayHttpRouter()
ERRORS = {404: "not_found: unknown program", 409: "conflict: the member is being enrolled concurrently; retry"}
ENROLLED = "enrolled: the member view"
ALREADY = "already enrolled: the member, unchanged (no second welcome)"


def _enrol(program_id: str, body: Enrol) -> Response[MemberView]:
    outcome = members.enrol(store(), program_id, body, clock.now())
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
def enrol(program_id: ProgramId, body: Enrol) -> Response[MemberView]:
    return _enrol(program_id, body)


@router.post(
    ME,
    status_code=201,
    summary="Enrol myself",
    tags=["me"],
    responses=responses(201, ENROLLED, repeat=ALREADY, member=True, errors=ERRORS),
)
def enrol_me(program_id: ProgramId, body: EnrolMe) -> Response[MemberView]:
    return _enrol(program_id, Enrol(member_id=member_id(router), **body.model_dump(exclude_unset=True)))
