"""DynamoDB unreachable (moto, with botocore's transport failing): every route answers 503 `unavailable`
with nothing written, never 500, and a job fails (so SQS delivers it again) rather than swallowing it.

The failure is raised from botocore's `before-send` hook, so the client's own retries see it as they
would a dead endpoint; their backoff sleeps are skipped."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import (
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    HTTPClientError,
    ReadTimeoutError,
)

from loyalty import runtime
from loyalty.errors import Unavailable
from loyalty.store.keys import key
from loyalty.usecases import health, programs
from tests.handlers.conftest import Api
from tests.handlers.test_api import M, assert_error, buy, enrol
from tests.handlers.test_imports import member, send
from tests.support import Context, load_function

URL = "https://dynamodb.us-east-1.amazonaws.com"
FAILURES: dict[str, Callable[[], Exception]] = {
    "connect": lambda: EndpointConnectionError(endpoint_url=URL),
    "connect-timeout": lambda: ConnectTimeoutError(endpoint_url=URL),
    "read-timeout": lambda: ReadTimeoutError(endpoint_url=URL),
    "closed": lambda: ConnectionClosedError(endpoint_url=URL),
    "http-client": lambda: HTTPClientError(error="connection reset by peer"),
}

Outage = Callable[[str, str], None]


@pytest.fixture
def outage(api: Api, monkeypatch: pytest.MonkeyPatch) -> Iterator[Outage]:
    """`outage(kind, operation)`: from now on every call of that operation ("*": any) fails so."""
    monkeypatch.setattr("botocore.endpoint.time.sleep", lambda _: None)  # the retries' backoff
    events = runtime.store().client.meta.events
    hooks: list[tuple[str, Callable[..., Any]]] = []

    def start(kind: str, operation: str) -> None:
        def fail(**_: Any) -> None:
            raise FAILURES[kind]()

        name = "before-send.dynamodb" + ("" if operation == "*" else f".{operation}")
        events.register_first(name, fail)
        hooks.append((name, fail))

    yield start
    for name, hook in hooks:
        events.unregister(name, hook)


@pytest.mark.parametrize("kind", FAILURES)
def test_a_read_answers_503_when_the_table_is_unreachable(api: Api, demo: str, outage: Outage, kind: str) -> None:
    enrol(api)
    outage(kind, "*")
    assert_error(*api.call("members", "GET", M), 503, "unavailable")


@pytest.mark.parametrize("kind", FAILURES)
def test_a_write_answers_503_with_nothing_written(api: Api, demo: str, outage: Outage, kind: str) -> None:
    enrol(api)
    items = api.items()
    outage(kind, "TransactWriteItems")  # its reads succeed, its one write cannot reach the table
    assert_error(*buy(api, "o1", 10000), 503, "unavailable")
    assert_error(*api.call("enrol", "POST", "/programs/demo/members", {"member_id": "m2"}), 503, "unavailable")
    assert api.items() == items


def test_an_import_batch_answers_503_rather_than_refusing_its_lines(api: Api, demo: str, outage: Outage) -> None:
    outage("connect", "TransactWriteItems")
    assert_error(*send(api, 1, [member("i1"), member("i2")]), 503, "unavailable")
    # Only the batch's claim is there (a run that did not finish: the next one runs it again).
    assert_error(*api.call("members", "GET", "/programs/demo/members/i1"), 404, "not_found")


def test_the_worker_fails_its_items_so_the_queue_delivers_them_again(api: Api, demo: str, outage: Outage) -> None:
    worker = load_function("sweep_worker").handler
    body = {"kind": "expire", "shard": 0, "run_at": "2026-12-01T00:00:00Z"}
    record = {"messageId": "w1", "receiptHandle": "r", "body": json.dumps(body), "attributes": {}}
    event = {"Records": [{**record, "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:1:q"}]}
    outage("connect", "*")
    try:
        answer = worker(event, Context())
    except Exception:  # every record failed: Powertools raises, and Lambda reports the batch failed
        return
    assert answer == {"batchItemFailures": [{"itemIdentifier": "w1"}]}


def test_the_health_counter_fails_its_batch_rather_than_skipping_records(api: Api, demo: str, outage: Outage) -> None:
    enrol(api)
    profile = api.client.get_item(TableName="LoyaltyTable", Key=key("MEMBER#demo#m1", "PROFILE"))["Item"]
    record = {"eventID": "e1", "eventName": "INSERT", "dynamodb": {"Keys": key("MEMBER#demo#m1", "PROFILE")}}
    record["dynamodb"]["NewImage"] = profile
    programs._cache.clear()  # the program must be read, not remembered
    outage("connect", "*")
    with pytest.raises(Unavailable):  # the stream delivers the batch again once the table is back
        health.count(runtime.store(), [record])
