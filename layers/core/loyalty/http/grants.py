"""Grants to an audience (server): PUT /programs/{program_id}/grants/{grant_id} starts one (202; the
work queue fans it out, jobs/worker.py), GET reports it, POST .../cancel stops the pages not yet run."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from botocore.exceptions import BotoCoreError, ClientError

from .. import clock, workqueue
from ..errors import Unavailable
from ..runtime import store
from ..schemas import GrantAccepted, GrantBody, GrantReport
from ..usecases import grants
from .params import PROGRAM, GrantId, ProgramId
from .responses import responses

router = APIGatewayHttpRouter()
GRANT = f"{PROGRAM}/grants/<grant_id>"
UNKNOWN = {404: "not_found: unknown program or grant"}


@router.put(
    GRANT,
    status_code=202,
    summary="Grant points, coupons or a wallet amount to every member of an audience",
    description=(
        "`audience`: exactly one of tier, tag, segment, stage (as the members list filters), and an optional "
        "`when` (CEL over `member` and `at`, checked here: 422 naming audience.when). Every member of the "
        "audience gets its share exactly once, fanned out through the work queue a page of 100 members at a "
        "time; blocked and erased members are skipped and counted. Points are a `bonus` ledger entry with the "
        "grant's `reason`, `ref` `grant:{grant_id}`. 202 when started; the same body again answers the same "
        "grant (200); another body under the same grant id is 409 `conflict`. Follow it with GET."
    ),
    tags=["grants"],
    responses=responses(
        202,
        "the grant is queued",
        repeat="the same grant id and body again: the grant as it is",
        errors={
            **UNKNOWN,
            409: "conflict: this grant id was started with another body",
            503: "unavailable: the work queue could not be reached; the same PUT again starts it",
        },
    ),
)
def start_grant(program_id: ProgramId, grant_id: GrantId, body: GrantBody) -> Response[GrantAccepted]:
    created, accepted, messages = grants.start(store(), program_id, grant_id, body, clock.now())
    try:
        workqueue.send(messages)
    except (BotoCoreError, ClientError, RuntimeError):
        # The grant is kept, queued: the same PUT again sends its first page (usecases/grants.start).
        raise Unavailable("the work queue could not be reached; send the same PUT again") from None
    out = accepted.model_dump(mode="json")
    return Response(status_code=202 if created else 200, content_type=content_types.APPLICATION_JSON, body=out)


@router.get(
    GRANT,
    summary="A grant's progress and report",
    description=(
        "`status` (queued, running, done, cancelled), the members read from the audience so far, matched "
        "(enrolled, `when` true), granted and skipped (blocked, erased), what was given in all, pages done, "
        "and when it started, finished or was cancelled. 1 GetItem."
    ),
    tags=["grants"],
    responses=responses(errors=UNKNOWN),
)
def grant_report(program_id: ProgramId, grant_id: GrantId) -> GrantReport:
    return grants.report(store(), program_id, grant_id)


@router.post(
    f"{GRANT}/cancel",
    summary="Cancel a grant",
    description=(
        "The pages not yet run give nothing (a page running now finishes its members): status `cancelled` "
        "with the counts so far. A cancelled grant answers the same again; a done one is 409 `conflict`."
    ),
    tags=["grants"],
    responses=responses(errors={**UNKNOWN, 409: "conflict: the grant is done"}),
)
def cancel_grant(program_id: ProgramId, grant_id: GrantId) -> GrantReport:
    return grants.cancel(store(), program_id, grant_id, clock.now())
