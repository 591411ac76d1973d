"""The worker: an SQS batch of work items -> settled members, with partial batch failure reporting."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from .. import ready, workqueue
from ..runtime import logger, metrics, store, tracer
from ..usecases import scheduler
from . import Handler


def worker() -> Handler:
    processor = BatchProcessor(event_type=EventType.SQS)

    def settle_item(record: SQSRecord) -> None:
        work = scheduler.WorkItem.model_validate_json(record.body)
        stats, rest = scheduler.work(store(), work, context_left)
        if rest is not None:
            workqueue.send([rest])  # ran short of time: the rest of the shard goes back on the queue
        for name, value in stats.items():
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)

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
