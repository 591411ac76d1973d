"""The worker: an SQS batch of work items -> settled members (a scheduled kind's shard), imported
members (a batch of an import file) or granted members (a page of a grant's audience), with partial
batch failure reporting."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from .. import caller, clock, importfiles, ready, workqueue
from ..errors import IdempotencyConflict, NotFound
from ..runtime import logger, metrics, store, tracer
from ..usecases import grants, imports, scheduler
from . import Handler


def worker() -> Handler:
    processor = BatchProcessor(event_type=EventType.SQS)

    def settle_item(record: SQSRecord) -> None:
        kind = json.loads(record.body).get("kind")
        if kind == "import":
            import_batch(imports.ImportWork.model_validate_json(record.body))
            return
        if kind == "grant":
            counted, following = grants.page(store(), grants.GrantWork.model_validate_json(record.body), clock.now())
            workqueue.send(following)  # the next page, once this one is recorded
            metrics.add_metric(name="MembersGranted", unit=MetricUnit.Count, value=counted.get("members_granted", 0))
            return
        work = scheduler.WorkItem.model_validate_json(record.body)
        stats, rest = scheduler.work(store(), work, context_left)
        if rest is not None:
            workqueue.send([rest])  # ran short of time: the rest of the shard goes back on the queue
        for name, value in stats.items():
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)

    def import_batch(work: imports.ImportWork) -> None:
        span = importfiles.Span(work.batch, work.start, work.end, work.first_line)
        lines = importfiles.read(work.bucket, work.key, span)
        # The file is who wrote these members: the audit names it.
        token = caller.serving(f"s3://{work.bucket}/{work.key}")
        try:
            ran, result = imports.batch(
                store(), work.program_id, work.import_id, work.batch, lines, clock.now(), work.first_line, text=True
            )
        except (IdempotencyConflict, NotFound) as refused:
            # A file replaced under the same import id (its batch n differs), or its program gone:
            # retrying cannot help. Logged, and the message is done.
            logger.error("import batch refused", extra={"key": work.key, "batch": work.batch, "why": refused.message})
            return
        finally:
            caller.done(token)
        if ran:
            metrics.add_metric(name="MembersImported", unit=MetricUnit.Count, value=result.imported)

    current: dict[str, Any] = {}

    def context_left() -> float:
        return current["context"].get_remaining_time_in_millis() / 1000

    @logger.inject_lambda_context
    @tracer.capture_lambda_handler
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        current["context"] = context
        return process_partial_response(event=event, record_handler=settle_item, processor=processor, context=context)

    return ready(handler)
