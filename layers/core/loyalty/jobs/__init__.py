"""Adapters of the asynchronous functions, one module per trigger so that each function imports only
what its trigger needs: `schedule` (EventBridge schedule -> work items on the queue), `worker` (SQS
batch -> settled members or imported batches, with partial batch failure reporting), `imports` (an
import file in S3 -> its batches on the queue) and `streams` (the table's stream: domain events
through EventBridge Pipes, and the health counters)."""

from collections.abc import Callable
from typing import Any

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
