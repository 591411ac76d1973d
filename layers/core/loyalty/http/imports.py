"""Bulk import (server): POST /programs/{program_id}/imports/{import_id}/batches/{n} and the report,
GET /programs/{program_id}/imports/{import_id}. A file in the import bucket takes the same path
through the work queue (jobs/imports.py)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from aws_lambda_powertools.metrics import MetricUnit

from .. import clock
from ..runtime import metrics, store
from ..schemas import ImportBatch, ImportBatchResult, ImportReport
from ..usecases import imports
from .params import PROGRAM, BatchNumber, ImportId, ProgramId
from .responses import REPEAT, responses

router = APIGatewayHttpRouter()
IMPORT = f"{PROGRAM}/imports/<import_id>"
BATCH_ERRORS = {
    404: "not_found: unknown program",
    409: "idempotency_conflict: this batch number of the import was sent with other content",
}


@router.post(
    f"{IMPORT}/batches/<n>",
    status_code=201,
    summary="Import a batch of existing members",
    description=(
        "Up to 500 members (`members`: one ImportMember each: member_id, enrolled_at, birthday, channel, tier_id, "
        "tier_since, points as expiry buckets, lifetime totals, last_purchase_at, tags), each one transaction, "
        "exactly once: a repeat of the batch answers its first result (200); other content under the same "
        "import id and batch number is 409. A bad line is refused with its line number and reasons and does not "
        "stop the others; a member already enrolled (not by this import) is skipped, unchanged. Imported points "
        "are `adjust` entries (reason `import`) in their own buckets; a bucket already expired is recorded and "
        "expires at once. Imported members are scheduled for all due work (reminders, expiry, reviews...)."
    ),
    tags=["imports"],
    responses=responses(201, "the batch's result", repeat=REPEAT, errors=BATCH_ERRORS),
)
def import_batch(
    program_id: ProgramId, import_id: ImportId, n: BatchNumber, body: ImportBatch
) -> Response[ImportBatchResult]:
    ran, result = imports.batch(store(), program_id, import_id, n, body.members, clock.now())
    if ran:
        metrics.add_metric(name="MembersImported", unit=MetricUnit.Count, value=result.imported)
    body_out = result.model_dump(mode="json")
    return Response(status_code=201 if ran else 200, content_type=content_types.APPLICATION_JSON, body=body_out)


@router.get(
    IMPORT,
    summary="An import's report",
    description="Lines read, imported, skipped and refused over the import's finished batches, with the problems.",
    tags=["imports"],
    responses=responses(errors={404: "not_found: unknown program, or no finished batch of this import"}),
)
def import_report(program_id: ProgramId, import_id: ImportId) -> ImportReport:
    return imports.report(store(), program_id, import_id)
