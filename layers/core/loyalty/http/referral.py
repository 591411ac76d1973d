"""Referral: GET /programs/{program_id}/members/{member_id}/referral (server) and
GET /programs/{program_id}/me/referral (member): the member's referral code; GET
/programs/{program_id}/referrals (server): the referral figures of a range of days."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from .. import clock
from ..runtime import store
from ..schemas import MemberReferralCode, ReferralFigures
from ..usecases import referral
from .identity import member_id
from .params import ME, MEMBER, PROGRAM, MemberId, ProgramId
from .programs import FromDay, ToDay
from .responses import responses

router = APIGatewayHttpRouter()
UNKNOWN = {404: "not_found: unknown program or member"}
CODE = (
    "The member's referral code: stable (the same code every time), unguessable (a keyed hash of the member), "
    "10 characters with no 0/O/1/I/L, unique in the program. A new member gives it as `referral_code` at enrolment."
)


@router.get(
    f"{MEMBER}/referral",
    summary="The member's referral code",
    description=CODE,
    tags=["members"],
    responses=responses(errors=UNKNOWN),
)
def code(program_id: ProgramId, member_id: MemberId) -> MemberReferralCode:
    return referral.code(store(), program_id, member_id)


@router.get(
    f"{ME}/referral",
    summary="My referral code",
    description=CODE,
    tags=["me"],
    responses=responses(member=True, errors=UNKNOWN),
)
def my_code(program_id: ProgramId) -> MemberReferralCode:
    return referral.code(store(), program_id, member_id(router))


@router.get(
    f"{PROGRAM}/referrals",
    summary="The program's referral figures over a range of program-local days",
    description="Counted from the table's stream (a moment behind the writes), never by reading members.",
    tags=["programs"],
    responses=responses(errors={404: "not_found: unknown program"}),
)
def figures(program_id: ProgramId, from_: FromDay = None, to: ToDay = None) -> ReferralFigures:
    return referral.report(store(), program_id, from_, to, clock.now())
