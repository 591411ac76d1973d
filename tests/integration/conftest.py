"""Integration: the local runtime (real handlers in container processes) on Amazon DynamoDB Local."""

from __future__ import annotations

import json
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

from local.dynamodb import client, free_port
from local.stack import Stack, put_program, start
from loyalty.store import Store
from loyalty.store.table import CONFIG
from tests.integration.ddb_local import DynamoDBLocal, ddb_local
from tests.support import jwt, program

pytestmark = pytest.mark.integration


class Client:
    def __init__(self, base: str) -> None:
        self.base = base

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        token: str | None = None,
        raw: bytes | None = None,
        actor: str | None = None,
    ) -> tuple[int, Any]:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        headers = {"content-type": "application/json"}
        if actor:
            headers["x-loyalty-actor"] = actor
        if token:
            headers["authorization"] = f"Bearer {token}"
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=120) as resp:  # loopback only
                status, text = resp.status, resp.read()
        except urllib.error.HTTPError as err:
            status, text = err.code, err.read()
        return status, json.loads(text) if text else None

    def as_member(self, sub: str) -> Callable[..., tuple[int, Any]]:
        return lambda method, path, body=None: self.call(method, path, body, token=jwt(sub))


# The use cases straight on DynamoDB Local (the money paths' fault and parallel tests): one table per
# module, a store on it per test.
@pytest.fixture(scope="module")
def ddb() -> Iterator[DynamoDBLocal]:
    with ddb_local() as running:
        yield running


@pytest.fixture
def store(ddb: DynamoDBLocal) -> Store:
    return Store("LoyaltyTable", client(ddb.endpoint, config=CONFIG))


# One stack per test module: a scheduled run plans work for every program in the table, so modules
# must not see each other's programs (moto's SQS also slows down with thousands of queued messages).
@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    running = start(api_port=free_port(), lambda_port=free_port(), ddb_port=None, containers=8)
    yield running
    running.stop()


def lambda_client(stack: Stack) -> Any:
    """boto3's Lambda client pointed at the runtime's Invoke API, as a developer would use it. A
    scheduled invoke returns only after its queued work is done, so: a long read timeout, no retries."""
    return boto3.client(
        "lambda",
        endpoint_url=stack.invoke_url,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(read_timeout=900, retries={"max_attempts": 1}),
    )


@pytest.fixture(scope="module")
def api(stack: Stack) -> Client:
    return Client(stack.api_url)


@pytest.fixture
def pid(api: Client) -> str:
    """A fresh demo program per test, so tests never share members."""
    program_id = f"p-{uuid.uuid4().hex[:10]}"
    status, body = put_program(api.base, program_id, program("demo"))
    assert status == 200, body
    return program_id
