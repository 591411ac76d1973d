"""Paths and path parameters shared by the routers, validated and documented once."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from ..program import Id

ProgramId = Annotated[Id, Path(description="program id")]
MemberId = Annotated[Id, Path(description="member id")]
CampaignId = Annotated[Id, Path(description="campaign id")]
CheckoutId = Annotated[Id, Path(description="checkout id (the client's: one per cart, unique for the member)")]
ImportId = Annotated[Id, Path(description="import id (the client's: one per import of a member base)")]
GrantId = Annotated[Id, Path(description="grant id (the client's: one per grant to an audience)")]
DraftId = Annotated[Id, Path(description="draft id (the operator's: one per draft of a program)")]
# A page's cursor is opaque (URL-safe base64 of the page's last key): the document gives its alphabet; only
# a cursor the same list returned is accepted (another one is a 422 naming cursor).
Cursor = Annotated[
    str | None,
    Query(
        max_length=512,
        pattern=r"^[A-Za-z0-9_-]+={0,2}$",
        description="next_cursor of the previous page of the same list (opaque; any other is a 422)",
    ),
]
BatchNumber = Annotated[int, Path(ge=1, le=1_000_000, description="the batch's number within the import, from 1")]

PROGRAM = "/programs/<program_id>"
MEMBER = f"{PROGRAM}/members/<member_id>"  # server routes on one member
ME = f"{PROGRAM}/me"  # member routes: the member is the token's subject
