"""Adapters of the asynchronous functions: planners (EventBridge schedule -> work items on the queue),
the worker (SQS batch -> settled members, with partial batch failure reporting), and the publisher
(the table's stream, through EventBridge Pipes -> domain events), and the health counter (the table's
stream -> program health counters)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel

from . import events, queue
from .http.app import logger, metrics, tracer
from .http.deps import store
from .usecases import engine, health

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def planner(kinds: list[str]) -> Handler:
    """The run's time is the event's `time`, so any run can be replayed by invoking with that time."""

    @logger.inject_lambda_context
    @tracer.capture_lambda_handler
    @metrics.log_metrics
    @event_parser(model=EventBridgeModel)
    def handler(event: EventBridgeModel, context: Any) -> dict[str, Any]:
        items = engine.plan(store(), event.time, kinds)
        sent = queue.send(items)
        metrics.add_metric(name="WorkItemsPlanned", unit=MetricUnit.Count, value=sent)
        logger.info("planned", extra={"time": event.time.isoformat(), "kinds": kinds, "items": sent})
        return {"time": event.time.isoformat(), "kinds": kinds, "planned": sent}

    return handler


def worker() -> Handler:
    processor = BatchProcessor(event_type=EventType.SQS)

    def settle_item(record: SQSRecord) -> None:
        work = engine.WorkItem.model_validate_json(record.body)
        stats, rest = engine.work(store(), work, context_left)
        if rest is not None:
            queue.send([rest])  # ran short of time: the rest of the shard goes back on the queue
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

    return handler


def publisher() -> Handler:
    """The Pipe's enrichment: a batch of stream records in, the domain events they carry out (the Pipe
    puts each on the bus; an empty list sends nothing)."""

    @logger.inject_lambda_context
    @metrics.log_metrics
    def handler(records: list[dict[str, Any]], context: Any) -> list[dict[str, Any]]:  # type: ignore[type-arg]
        found = events.from_records(records)
        metrics.add_metric(name="DomainEvents", unit=MetricUnit.Count, value=len(found))
        return found

    return handler  # type: ignore[return-value]


def counter() -> Handler:
    """A batch of the table's stream: counted into the health figures, each record once. A failure
    fails the batch; Lambda retries it (bisecting) and the records counted already are skipped."""

    @logger.inject_lambda_context
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        counted = health.count(store(), event.get("Records", []))
        metrics.add_metric(name="HealthRecordsCounted", unit=MetricUnit.Count, value=counted)
        return {"counted": counted}

    return handler
