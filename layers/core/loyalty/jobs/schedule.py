"""The planners: an EventBridge schedule -> the run's work items on the queue."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel

from .. import ready, workqueue
from ..runtime import logger, metrics, store, tracer
from ..usecases import scheduler
from . import Handler


def planner(kinds: list[str]) -> Handler:
    """The run's time is the event's `time`, so any run can be replayed by invoking with that time."""

    @logger.inject_lambda_context
    @tracer.capture_lambda_handler
    @metrics.log_metrics
    @event_parser(model=EventBridgeModel)
    def handler(event: EventBridgeModel, context: Any) -> dict[str, Any]:
        items = scheduler.plan(event.time, kinds)
        scheduler.record(store(), kinds, event.time, len(items))  # first: its workers count on it
        sent = workqueue.send(items)
        metrics.add_metric(name="WorkItemsPlanned", unit=MetricUnit.Count, value=sent)
        logger.info("planned", extra={"time": event.time.isoformat(), "kinds": kinds, "items": sent})
        return {"time": event.time.isoformat(), "kinds": kinds, "planned": sent}

    return ready(handler)
