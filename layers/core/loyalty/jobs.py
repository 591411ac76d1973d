"""The adapter every scheduled function uses: parse the EventBridge event, run, log the figures."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel

from .http.app import logger, metrics, tracer
from .http.deps import store
from .store import Store

Run = Callable[[Store, datetime], dict[str, int]]


def scheduled_handler(run: Run) -> Callable[[dict[str, Any], Any], dict[str, int]]:
    """The run's time is the event's `time`, so any day can be replayed by invoking with that time."""

    @logger.inject_lambda_context
    @tracer.capture_lambda_handler
    @metrics.log_metrics
    @event_parser(model=EventBridgeModel)
    def handler(event: EventBridgeModel, context: Any) -> dict[str, int]:
        stats = run(store(), event.time)
        for name, value in stats.items():
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
        logger.info("run done", extra={"time": event.time.isoformat(), **stats})
        return stats

    return handler
