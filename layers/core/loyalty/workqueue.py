"""The work queue between planners and the sweep worker (SQS; moto's SQS in the local runtime)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from functools import cache
from typing import Any

import boto3
from botocore.config import Config
from pydantic import BaseModel


@cache
def _sqs() -> Any:
    return boto3.client("sqs", config=Config(retries={"mode": "standard", "max_attempts": 5}))


def send(messages: Iterable[BaseModel]) -> int:
    """Send every message; a batch entry SQS refuses is sent again, so nothing planned is lost."""
    url = os.environ["WORK_QUEUE_URL"]
    batch: list[dict[str, str]] = []
    sent = 0
    for message in messages:
        batch.append({"Id": str(len(batch)), "MessageBody": message.model_dump_json()})
        if len(batch) == 10:
            sent += _flush(url, batch)
            batch = []
    return sent + (_flush(url, batch) if batch else 0)


def _flush(url: str, batch: list[dict[str, str]]) -> int:
    pending = batch
    for _ in range(5):
        failed = _sqs().send_message_batch(QueueUrl=url, Entries=pending).get("Failed", [])
        if not failed:
            return len(batch)
        ids = {f["Id"] for f in failed}
        pending = [e for e in pending if e["Id"] in ids]
    raise RuntimeError(f"SQS refused {len(pending)} messages")


def depths() -> dict[str, dict[str, int]]:
    """Messages waiting and in flight per queue of QUEUE_URLS ({name: url}, set on the function that reads it)."""
    out = {}
    for name, url in json.loads(os.environ.get("QUEUE_URLS", "{}")).items():
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        got = _sqs().get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
        out[name] = {"waiting": int(got.get(names[0], 0)), "in_flight": int(got.get(names[1], 0))}
    return out
