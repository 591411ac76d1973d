"""The import file planner: a JSON-lines file landing in the import bucket -> one work item per batch
of 500 lines on the work queue (the worker imports each, exactly once, like the batch route)."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.parser.models import S3Model

from .. import importfiles, ready, workqueue
from ..runtime import logger, metrics, tracer
from ..usecases.imports import ImportWork
from . import Handler


def planner() -> Handler:
    @logger.inject_lambda_context
    @tracer.capture_lambda_handler
    @metrics.log_metrics
    @event_parser(model=S3Model)
    def handler(event: S3Model, context: Any) -> dict[str, Any]:
        planned = 0
        for record in event.Records:
            bucket, key = record.s3.bucket.name, unquote_plus(record.s3.object.key)
            named = importfiles.named(key)
            if named is None:  # the notification's filter lets only imports/*.jsonl through; say so anyway
                logger.warning("not an import file", extra={"bucket": bucket, "key": key})
                continue
            program_id, import_id = named
            work = [
                ImportWork(program_id=program_id, import_id=import_id, bucket=bucket, key=key, **vars(span))
                for span in importfiles.spans(bucket, key)
            ]
            planned += workqueue.send(work)
            logger.info("import planned", extra={"key": key, "batches": len(work)})
        metrics.add_metric(name="ImportBatchesPlanned", unit=MetricUnit.Count, value=planned)
        return {"planned": planned}

    return ready(handler)
