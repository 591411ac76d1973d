"""Handler tests: the real function handlers, in-process, against moto's DynamoDB."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from loyalty import runtime
from tests.support import Context, http_event, load_function, program
from tests.tables import create_tables

FUNCTIONS = (
    "programs",
    "enrol",
    "earn",
    "members",
    "redeem",
    "evaluate_tier",
    "purchase_paid_card",
    "docs",
    "imports",
    "checkout",
    "grants",
)


class Api:
    def __init__(self) -> None:
        self.handlers = {name: load_function(name).handler for name in FUNCTIONS}
        self.client = boto3.client("dynamodb")

    def call(self, fn: str, method: str, path: str, body: Any = None, **kw: Any) -> tuple[int, Any]:
        response = self.handlers[fn](http_event(method, path, body, **kw), Context())
        text = response.get("body") or "null"
        return response["statusCode"], json.loads(text) if text.startswith(("{", "[", "null")) else text

    def items(self) -> int:
        return self.client.scan(TableName="LoyaltyTable", Select="COUNT")["Count"]  # test-only inspection


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    monkeypatch.setenv("IMPORT_PARALLEL", "1")  # moto's transactions are not thread-safe
    with mock_aws():
        create_tables(boto3.client("dynamodb"))
        # The work queue a route may send to (a grant's first page); moto's SQS.
        monkeypatch.setenv("WORK_QUEUE_URL", boto3.client("sqs").create_queue(QueueName="work")["QueueUrl"])
        runtime.store.cache_clear()
        yield Api()
        runtime.store.cache_clear()


@pytest.fixture
def demo(api: Api) -> str:
    status, _ = api.call("programs", "PUT", "/programs/demo", program("demo"))
    assert status == 200
    return "demo"
