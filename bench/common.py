"""What the bench scripts share: percentiles, and replaying recorded DynamoDB calls with plain boto3."""

from __future__ import annotations

import contextlib
import statistics
from typing import Any

from botocore.exceptions import ClientError


def pct(samples: list[float], q: float) -> float:
    return statistics.quantiles(samples, n=100)[int(q) - 1] if len(samples) > 1 else samples[0]


def replay(ddb: Any, calls: list[tuple[str, dict[str, Any]]]) -> None:
    """A bare boto3 function making the recorded calls (a cancelled transaction is an answer too)."""
    for operation, params in calls:
        method = "".join(f"_{c.lower()}" if c.isupper() else c for c in operation).lstrip("_")
        with contextlib.suppress(ClientError):
            getattr(ddb, method)(**params)
