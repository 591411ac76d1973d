"""What the bench scripts share: percentiles, and replaying recorded DynamoDB calls with plain boto3."""

from __future__ import annotations

import statistics
from typing import Any

from botocore.exceptions import ClientError


def pct(samples: list[float], q: float) -> float:
    return statistics.quantiles(samples, n=100)[int(q) - 1] if len(samples) > 1 else samples[0]


def replay(ddb: Any, calls: list[tuple[str, dict[str, Any]]]) -> int:
    """A bare boto3 function making the recorded calls; answers how many were refused (a cancelled
    transaction is an answer too)."""
    refused = 0
    for operation, params in calls:
        method = "".join(f"_{c.lower()}" if c.isupper() else c for c in operation).lstrip("_")
        try:
            getattr(ddb, method)(**params)
        except ClientError:
            refused += 1
    return refused
