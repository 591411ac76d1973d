"""Member reads, server and member families: the member view, the ledger, the coupon wallet, the
notices, the program as the member sees it; the audit trail (server)."""

from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from .. import clock
from ..runtime import store
from ..schemas import AuditTrail, Coupons, Ledger, MemberProgram, MemberView, Notices
from ..usecases import member_program, members
from .identity import member_id
from .params import ME, MEMBER, Cursor, MemberId, ProgramId
from .responses import responses

router = APIGatewayHttpRouter()
UNKNOWN = {404: "not_found: unknown program or member"}
SERVER = responses(errors=UNKNOWN)
MINE = responses(member=True, errors=UNKNOWN)
Limit = Annotated[int, Query(ge=1, le=100, description="entries per page")]
Status = Annotated[
    Literal["available", "used", "expired"] | None,
    Query(description="only coupons in this status (`available` includes those not valid yet: see `usable_now`)"),
]


@router.get(MEMBER, summary="The member view", tags=["members"], responses=SERVER)
def member(program_id: ProgramId, member_id: MemberId) -> MemberView:
    return members.member_view(store(), program_id, member_id, clock.now())


@router.get(f"{MEMBER}/ledger", summary="Points history, newest first", tags=["members"], responses=SERVER)
def ledger(program_id: ProgramId, member_id: MemberId, limit: Limit = 20, cursor: Cursor = None) -> Ledger:
    return members.ledger(store(), program_id, member_id, limit, cursor)


@router.get(
    f"{MEMBER}/audit",
    summary="The member's writes, newest first",
    description="Every write a request made to the member: what, when, who (the principal), the client's id.",
    tags=["members"],
    responses=SERVER,
)
def audit(program_id: ProgramId, member_id: MemberId, limit: Limit = 20, cursor: Cursor = None) -> AuditTrail:
    return members.audit(store(), program_id, member_id, limit, cursor)


@router.get(f"{MEMBER}/coupons", summary="Coupon wallet", tags=["members"], responses=SERVER)
def coupons(program_id: ProgramId, member_id: MemberId, status: Status = None) -> Coupons:
    return members.coupons(store(), program_id, member_id, status, clock.now())


@router.get(ME, summary="My member view", tags=["me"], responses=MINE)
def me(program_id: ProgramId) -> MemberView:
    return member(program_id, member_id(router))


@router.get(f"{ME}/ledger", summary="My points history", tags=["me"], responses=MINE)
def my_ledger(program_id: ProgramId, limit: Limit = 20, cursor: Cursor = None) -> Ledger:
    return ledger(program_id, member_id(router), limit, cursor)


@router.get(f"{ME}/coupons", summary="My coupon wallet", tags=["me"], responses=MINE)
def my_coupons(program_id: ProgramId, status: Status = None) -> Coupons:
    return coupons(program_id, member_id(router), status)


PROGRAM_VIEW = (
    "The program as this member sees it: tiers and their benefits, each reward with whether the member can redeem "
    "one now (the check a redemption makes; `reason` its error code), activities, the public campaigns."
)


@router.get(
    f"{MEMBER}/program",
    summary="The program as the member sees it",
    description=PROGRAM_VIEW + " The server twin of GET .../me/program (the console's).",
    tags=["members"],
    responses=SERVER,
)
def program_view(program_id: ProgramId, member_id: MemberId) -> MemberProgram:
    return member_program.view(store(), program_id, member_id, clock.now())


@router.get(f"{MEMBER}/notices", summary="The member's notices, newest first", tags=["members"], responses=SERVER)
def notices(program_id: ProgramId, member_id: MemberId, limit: Limit = 20, cursor: Cursor = None) -> Notices:
    return members.notices(store(), program_id, member_id, limit, cursor)


@router.get(f"{ME}/program", summary="My program", description=PROGRAM_VIEW, tags=["me"], responses=MINE)
def my_program(program_id: ProgramId) -> MemberProgram:
    return program_view(program_id, member_id(router))


@router.get(f"{ME}/notices", summary="My notices, newest first", tags=["me"], responses=MINE)
def my_notices(program_id: ProgramId, limit: Limit = 20, cursor: Cursor = None) -> Notices:
    return notices(program_id, member_id(router), limit, cursor)
