"""The table's stream consumers: the publisher (EventBridge Pipes enrichment -> domain events), the
health counter (stream batches -> program health counters) and the referrer rewards (a referee's
conversion -> the referrer's write)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from .. import clock, events, ready
from ..runtime import logger, metrics, store
from ..usecases import health, referral
from . import Handler


def publisher() -> Handler:
    """The Pipe's enrichment: a batch of stream records in, the domain events they carry out (the Pipe
    puts each on the bus; an empty list sends nothing)."""

    @logger.inject_lambda_context
    @metrics.log_metrics
    def handler(records: list[dict[str, Any]], context: Any) -> list[dict[str, Any]]:  # type: ignore[type-arg]
        found = events.from_records(records)
        metrics.add_metric(name="DomainEvents", unit=MetricUnit.Count, value=len(found))
        return found

    return ready(handler)  # type: ignore[return-value]


def counter() -> Handler:
    """A batch of the table's stream: counted into the health figures, each record once. A failure
    fails the batch; Lambda retries it (bisecting) and the records counted already are skipped."""

    @logger.inject_lambda_context
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        counted = health.count(store(), event.get("Records", []))
        metrics.add_metric(name="HealthRecordsCounted", unit=MetricUnit.Count, value=counted)
        return {"counted": counted}

    return ready(handler)


def referrals() -> Handler:
    """A batch of the table's stream: each referee's conversion made its referrer's write, exactly
    once (usecases/referral.reward_referrer). A failure fails the batch; Lambda retries it."""

    @logger.inject_lambda_context
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        answered = referral.from_stream(store(), event.get("Records", []), clock.now())
        metrics.add_metric(name="ReferralsAnswered", unit=MetricUnit.Count, value=answered)
        return {"answered": answered}

    return ready(handler)
