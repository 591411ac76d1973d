"""Program drafts (server): PUT/GET /programs/{program_id}/drafts/{draft_id}, POST .../publish, and
POST /programs/{program_id}/versions/{version}/restore."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from .. import clock
from ..errors import ValidationFailed
from ..runtime import store
from ..schemas import DraftPublish, DraftView, ProgramSaved, ShadowReport, ShadowStart, ShadowStarted
from ..usecases import drafts, shadows
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
    # The body may be left out; Powertools lets any JSON through an optional model: only an object is one.
    sent = router.current_event.json_body if router.current_event.body else None
    if sent is not None and not isinstance(sent, dict):
        raise ValidationFailed.field("body", 'must be an object, {"force": true} or {}, or left out')
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


@router.post(
    f"{DRAFT}/shadow",
    summary="Start a shadow run of the draft: until then every live purchase is also evaluated against it",
    description=(
        "Nothing is given by the draft. The run evaluates the draft as saved now (a later save does not change "
        "it); a program has one shadow run at a time (starting another replaces it; the same draft again moves "
        "`until`). Each purchase (with the campaigns its tier change sets off) keeps both sides' figures on "
        "its order's reference; the stream counter adds them up (a moment behind the writes). The draft's "
        "budgets are not enforced. A warm container sees a new run within the program cache's TTL."
    ),
    tags=["programs"],
    responses=responses(errors={**UNKNOWN, 422: "validation_error: until not in the future, or the draft too large"}),
)
def start_shadow(program_id: ProgramId, draft_id: DraftId, body: ShadowStart) -> ShadowStarted:
    return shadows.start(store(), program_id, draft_id, body.until, clock.now())


@router.get(
    f"{DRAFT}/shadow",
    summary="What the draft would have given, beside what the live program gave, over the same events",
    description=(
        "Per side: `points` (base earn, bonuses, campaigns', upgrade gifts), `coupons` issued, `discount_minor`, "
        "`members_reached` (members on whom the side gave anything during the run, each once; per campaign, "
        "each once per campaign) and `cost_minor` (points at that side's point value, rounded down, plus money "
        "off). Counted from the table's stream; one Query."
    ),
    tags=["programs"],
    responses=responses(errors=UNKNOWN),
)
def shadow_report(program_id: ProgramId, draft_id: DraftId) -> ShadowReport:
    return shadows.report(store(), program_id, draft_id)
