"""Member reads, server and member families: the member view, the ledger, the coupon wallet; the audit
trail (server)."""

from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from .. import clock
from ..runtime import store
from ..schemas import AuditTrail, Coupons, Ledger, MemberView
from ..usecases import members
from .identity import member_id
from .params import ME, MEMBER, Cursor, MemberId, ProgramId
from .responses import responses

router = APIGatewayHttpRouter()
UNKNOWN = {404: "not_found: unknown program or member"}
SERVER = responses(errors=UNKNOWN)
MINE = responses(member=True, errors=UNKNOWN)
Limit = Annotated[int, Query(ge=1, le=100, description="entries per page")]
Status = Annotated[
    Literal["available", "scheduled", "used", "expired"] | None, Query(description="only coupons in this status")
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
