"""Program drafts (server): PUT/GET /programs/{program_id}/drafts/{draft_id}, POST .../publish, and
POST /programs/{program_id}/versions/{version}/restore."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from ..runtime import store
from ..schemas import DraftPublish, DraftView, ProgramSaved
from ..usecases import drafts
from .params import PROGRAM, DraftId, ProgramId
from .responses import responses

router = APIGatewayHttpRouter()
DRAFT = f"{PROGRAM}/drafts/<draft_id>"
UNKNOWN = {404: "not_found: unknown program or draft"}


@router.put(
    DRAFT,
    summary="Save a draft of the program: validated like a program PUT, not live",
    description=(
        "Every problem is listed at once (422 program_invalid, each naming its field); a draft with problems is "
        "not saved. `base_version` is the live version at the draft's first save (0 when the program has no "
        "live version yet) and stays; each save is the draft's next `revision`."
    ),
    tags=["programs"],
    responses=responses(errors={422: "program_invalid with every problem listed, or validation_error"}),
)
def put_draft(program_id: ProgramId, draft_id: DraftId, document: dict[str, Any]) -> DraftView:
    return drafts.put(store(), program_id, draft_id, document)


@router.get(
    DRAFT,
    summary="A draft: its document, base version, who saved it and when",
    tags=["programs"],
    responses=responses(errors=UNKNOWN),
)
def get_draft(program_id: ProgramId, draft_id: DraftId) -> DraftView:
    return drafts.get(store(), program_id, draft_id)


@router.post(
    f"{DRAFT}/publish",
    summary="Make the draft the next live version (the program PUT's own write)",
    description=(
        "409 conflict when the live version moved since the draft's `base_version` (a version its own last "
        'publish made does not count), unless `{"force": true}`. The same revision published again answers '
        "the version it made. The version history names the draft, its saver and the publisher."
    ),
    tags=["programs"],
    responses=responses(errors={**UNKNOWN, 409: "conflict: the live version moved since the draft's base_version"}),
)
def publish_draft(program_id: ProgramId, draft_id: DraftId, body: DraftPublish | None = None) -> ProgramSaved:
    return drafts.publish(store(), program_id, draft_id, bool(body and body.force))


@router.post(
    f"{PROGRAM}/versions/<version>/restore",
    summary="A new live version equal to an old one",
    tags=["programs"],
    responses=responses(errors={404: "not_found: unknown program or version"}),
)
def restore_version(
    program_id: ProgramId, version: Annotated[int, Path(ge=1, le=10**9, description="the version to restore")]
) -> ProgramSaved:
    return drafts.restore(store(), program_id, version)
