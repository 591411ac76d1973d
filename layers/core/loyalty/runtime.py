"""What a function's container keeps while warm, shared by the HTTP adapters (http/) and the
asynchronous ones (jobs/): Powertools' logger, tracer and metrics, and the store (created on first use,
so a cold start pays for the DynamoDB client only when a request needs it)."""

from __future__ import annotations

import warnings
from functools import cache

from aws_lambda_powertools import Logger, Metrics, Tracer

from .store import Store

# A request that records no business metric is normal here, not a warning.
warnings.filterwarnings("ignore", "No application metrics to publish")

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@cache
def store() -> Store:
    return Store()
