"""The local runtime itself (`python -m local`), against a tiny template of its own under fixtures/runtime/:
routes, the v2.0 event, JWT routes, errors, the Lambda Invoke API, the table and the environment.
No domain code is involved, so these tests say whether the runtime is right, whatever the handlers do."""

from __future__ import annotations

import base64
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from local.dynamodb import FAST_START, DynamoDBLocal, free_port
from local.stack import Stack, load_demo, start
from tests.integration.ddb_local import create_template_tables, ddb_client, ddb_local

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = Path(__file__).parent / "fixtures" / "runtime"
TEMPLATE = FIXTURE / "template.yaml"


def token(claims: dict[str, Any]) -> str:
    """An unsigned JWT: the runtime decodes the payload and leaves the signature to API Gateway."""

    def part(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none'})}.{part(claims)}.sig"


def launch(data_dir: Path | None = None) -> Stack:
    return start(
        api_port=free_port(),
        lambda_port=free_port(),
        ddb_port=None,
        data_dir=data_dir,
        containers=4,
        template_path=TEMPLATE,
        ddb_jvm_args=FAST_START,
    )


@pytest.fixture(scope="module")
def runtime() -> Iterator[Stack]:
    stack = launch()
    yield stack
    stack.stop()


class Reply:
    def __init__(self, status: int, headers: http.client.HTTPMessage, body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    def json(self) -> Any:
        return json.loads(self.body)


def call(
    stack: Stack, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> Reply:
    conn = http.client.HTTPConnection("127.0.0.1", stack.api.server_address[1], timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return Reply(resp.status, resp.headers, resp.read())
    finally:
        conn.close()


def echoed(stack: Stack, path: str, **kwargs: Any) -> dict[str, Any]:
    reply = call(stack, "GET", path, **kwargs)
    assert reply.status == 200, reply.body
    return reply.json()


def lambda_client(stack: Stack) -> Any:
    return boto3.client(
        "lambda",
        endpoint_url=stack.invoke_url,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(retries={"max_attempts": 1}, read_timeout=60),
    )


# ---- the table --------------------------------------------------------------------------------------


def test_the_table_is_created_from_the_template(runtime: Stack) -> None:
    table = ddb_client(runtime.ddb).describe_table(TableName="FixtureTable")["Table"]
    assert [(k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]] == [("pk", "HASH"), ("sk", "RANGE")]
    [index] = table["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "gsi1" and index["Projection"]["ProjectionType"] == "KEYS_ONLY"
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    # An existing table is left alone.
    assert create_template_tables(runtime.ddb, TEMPLATE) == []


def test_ddb_local_helper_starts_in_memory_quickly_and_creates_the_tables() -> None:
    started = time.monotonic()
    with ddb_local(TEMPLATE) as ddb:
        elapsed = time.monotonic() - started
        assert ddb_client(ddb).list_tables()["TableNames"] == ["FixtureTable"]
        assert ddb.data_dir is None
    assert elapsed < 10, f"DynamoDB Local took {elapsed:.1f} s"
    assert ddb.process is None  # stopped


def test_a_taken_port_fails_with_a_clear_message(runtime: Stack) -> None:
    with pytest.raises(SystemExit, match=rf"port {runtime.ddb.port} is taken"):
        DynamoDBLocal(port=runtime.ddb.port).start()


# ---- routes and the v2.0 event ----------------------------------------------------------------------


def test_routes_match_with_path_parameters_and_the_most_specific_wins(runtime: Stack) -> None:
    thing = echoed(runtime, "/things/t-1")["event"]
    assert thing["routeKey"] == "GET /things/{thing_id}" and thing["pathParameters"] == {"thing_id": "t-1"}
    special = echoed(runtime, "/things/special")["event"]
    assert special["routeKey"] == "GET /things/special" and "pathParameters" not in special
    part = echoed(runtime, "/things/a%20b/parts/7")["event"]
    assert part["routeKey"] == "GET /things/{thing_id}/parts/{part_id}"
    assert part["pathParameters"] == {"thing_id": "a b", "part_id": "7"}
    assert part["rawPath"] == "/things/a%20b/parts/7"


def test_query_strings(runtime: Stack) -> None:
    event = echoed(runtime, "/things/t?a=1&b=x%20y&a=2&empty=")["event"]
    assert event["rawQueryString"] == "a=1&b=x%20y&a=2&empty="
    assert event["queryStringParameters"] == {"a": "1,2", "b": "x y", "empty": ""}
    assert "queryStringParameters" not in echoed(runtime, "/things/t")["event"]


def test_the_event_has_the_http_api_v2_shape(runtime: Stack) -> None:
    headers = {"User-Agent": "runtime-test", "X-Custom": "One", "Cookie": "a=1; b=2", "Content-Type": "text/plain"}
    reply = call(runtime, "POST", "/things?x=1", body="héllo".encode(), headers=headers)
    assert reply.status == 200
    event = reply.json()["event"]
    assert event["version"] == "2.0" and event["routeKey"] == "POST /things" and event["rawPath"] == "/things"
    assert event["headers"]["x-custom"] == "One" and event["headers"]["user-agent"] == "runtime-test"
    assert all(name == name.lower() for name in event["headers"])
    assert event["cookies"] == ["a=1", "b=2"]
    assert event["body"] == "héllo" and event["isBase64Encoded"] is False
    ctx = event["requestContext"]
    assert ctx["accountId"] and ctx["apiId"] and ctx["domainName"]
    assert ctx["http"] == {
        "method": "POST",
        "path": "/things",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "runtime-test",
    }
    assert uuid.UUID(ctx["requestId"]) and ctx["routeKey"] == "POST /things" and ctx["stage"] == "$default"
    assert re.fullmatch(r"\d{2}/\w{3}/\d{4}:\d{2}:\d{2}:\d{2} \+0000", ctx["time"])
    assert abs(ctx["timeEpoch"] / 1000 - time.time()) < 120
    assert "authorizer" not in ctx  # an IAM route: no credentials needed locally, no claims either


def test_a_binary_body_arrives_base64_encoded(runtime: Stack) -> None:
    raw = bytes([0xFF, 0x00, 0xFE, 0x80])
    event = call(runtime, "POST", "/things", body=raw).json()["event"]
    assert event["isBase64Encoded"] is True and base64.b64decode(event["body"]) == raw


def test_the_response_is_written_as_the_handler_returned_it(runtime: Stack) -> None:
    reply = call(runtime, "GET", "/things/t")
    assert reply.status == 200 and reply.headers["x-echo"] == "yes"
    assert reply.headers.get_all("set-cookie") == ["flavour=mocha; Path=/", "size=large"]
    plain = call(runtime, "GET", "/plain")
    assert (plain.status, plain.json()) == (200, {"plain": True})
    assert plain.headers["content-type"] == "application/json"


def test_the_environment_and_context_come_from_the_template(runtime: Stack) -> None:
    got = echoed(runtime, "/things/t")
    assert got["env"] == {
        "TABLE_NAME": "FixtureTable",
        "GREETING": "hello",
        "TABLE_ARN": "arn:aws:dynamodb:us-east-1:000000000000:table/FixtureTable",
        "INDEX_ARN": "arn:aws:dynamodb:us-east-1:000000000000:table/FixtureTable/index/gsi1",
        "REGION_AND_TABLE": "us-east-1/FixtureTable",
        "JOINED": "a-hello",
        "OWN": "echo-only",
        "AWS_ENDPOINT_URL_DYNAMODB": runtime.ddb.endpoint,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "local",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
    }
    assert got["layer"] == "fixture-layer"
    ctx = got["context"]
    assert ctx["function_name"] == "EchoFunction" and ctx["memory_limit_in_mb"] == 256
    assert ctx["invoked_function_arn"].endswith(":function:EchoFunction")
    assert 0 < ctx["remaining_ms"] <= 5000 and uuid.UUID(ctx["aws_request_id"])


# ---- auth, errors ----------------------------------------------------------------------------------


def test_a_jwt_route_needs_a_token_with_a_subject(runtime: Stack) -> None:
    message = "a member token with a subject (sub) is required"
    unauthorized = (401, {"error": {"code": "unauthorized", "message": message, "details": []}})
    for headers in (
        {},
        {"Authorization": "Bearer not-a-jwt"},
        {"Authorization": "Bearer a.!!!.c"},
        {"Authorization": f"Bearer {token({'scope': 'x'})}"},  # no sub
        {"Authorization": token({"sub": "alice"})},  # no Bearer
    ):
        reply = call(runtime, "GET", "/me", headers=headers)
        assert (reply.status, reply.json()) == unauthorized, headers
    claims = {"sub": "alice", "iss": "https://issuer.example/", "aud": "fixture"}
    event = echoed(runtime, "/me", headers={"Authorization": f"Bearer {token(claims)}"})["event"]
    assert event["requestContext"]["authorizer"] == {"jwt": {"claims": claims, "scopes": None}}


def test_routes_without_the_jwt_authorizer_need_no_credentials(runtime: Stack) -> None:
    assert call(runtime, "GET", "/public").status == 200  # Authorizer: NONE
    assert call(runtime, "GET", "/things/t").status == 200  # the default IAM authorizer


def test_unknown_routes_are_404_like_api_gateway(runtime: Stack) -> None:
    for method, path in (("GET", "/nowhere"), ("DELETE", "/things/t"), ("GET", "/things/t/parts"), ("GET", "/")):
        reply = call(runtime, method, path)
        assert (reply.status, reply.json()) == (404, {"message": "Not Found"}), (method, path)


def test_every_method_is_answered_like_api_gateway(runtime: Stack) -> None:
    # http.server answers a method it has no do_<METHOD> for with its own 501 HTML page; API Gateway
    # answers any method a route does not have with its JSON 404, on both local endpoints.
    for method in ("TRACE", "CONNECT", "PROPFIND", "FOO", "PATCH", "DELETE"):
        for path in ("/things/t-1", "/nowhere"):
            reply = call(runtime, method, path)
            assert (reply.status, reply.json()) == (404, {"message": "Not Found"}), (method, path)
            assert reply.headers["content-type"] == "application/json"
    conn = http.client.HTTPConnection("127.0.0.1", runtime.invoke.server_address[1], timeout=30)
    try:
        conn.request("TRACE", "/2015-03-31/functions/EchoFunction/invocations")
        reply = conn.getresponse()
        assert (reply.status, json.loads(reply.read())) == (404, {"message": "Not Found"})
    finally:
        conn.close()
    assert call(runtime, "GET", "/things/t-1").status == 200  # and the connection state is sound after them


def test_a_handler_exception_is_a_500_without_the_traceback(runtime: Stack) -> None:
    for path in ("/boom", "/malformed"):
        reply = call(runtime, "GET", path)
        assert (reply.status, reply.json()) == (500, {"message": "Internal Server Error"}), path
        assert b"secret" not in reply.body and b"Traceback" not in reply.body
    # That the console gets the traceback is checked on `python -m local`'s output, below.


def test_a_body_over_10_mb_is_413(runtime: Stack) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", runtime.api.server_address[1], timeout=30)
    try:  # headers only: the runtime must refuse before reading 10 MB
        conn.putrequest("POST", "/things")
        conn.putheader("content-length", str(10 * 1024 * 1024 + 1))
        conn.endheaders()
        assert conn.getresponse().status == 413
    finally:
        conn.close()


def test_a_malformed_content_length_is_400(runtime: Stack) -> None:
    for declared in ("-1", "abc", "1e3"):
        conn = http.client.HTTPConnection("127.0.0.1", runtime.api.server_address[1], timeout=30)
        try:  # a negative length would have the runtime read until the client hangs up
            conn.putrequest("POST", "/things")
            conn.putheader("content-length", declared)
            conn.endheaders()
            reply = conn.getresponse()
            assert (reply.status, json.loads(reply.read())) == (400, {"message": "Bad Request"}), declared
        finally:
            conn.close()


def hang_up_before_the_answer(port: int) -> None:
    """A client that sends a request and goes away while the handler still works on it."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # RST on close
        s.sendall(b"GET /slow?seconds=0.5 HTTP/1.1\r\nhost: local\r\n\r\n")
    time.sleep(1.5)  # the answer is written to the closed connection


def test_parallel_requests_run_in_parallel(runtime: Stack) -> None:
    def slow(seconds: float) -> dict[str, Any]:
        return echoed(runtime, f"/slow?seconds={seconds}")

    with ThreadPoolExecutor(3) as pool:
        list(pool.map(slow, [0.5] * 3))  # warm three containers (cold starts vary on a busy machine)
        runs = list(pool.map(slow, [1.5] * 3))
    assert len({r["pid"] for r in runs}) == 3  # three containers, as Lambda would run
    assert max(r["started"] for r in runs) < min(r["ended"] for r in runs)  # all three ran at the same time


# ---- the Lambda Invoke API -------------------------------------------------------------------------


def test_invoke_by_logical_id_and_by_arn(runtime: Stack) -> None:
    lam = lambda_client(runtime)
    reply = lam.invoke(FunctionName="EchoFunction", Payload=json.dumps({"time": "2026-01-01T00:00:00Z"}))
    assert reply["StatusCode"] == 200 and "FunctionError" not in reply
    result = json.loads(reply["Payload"].read())
    assert result["event"] == {"time": "2026-01-01T00:00:00Z"} and result["context"]["function_name"] == "EchoFunction"
    arn = "arn:aws:lambda:us-east-1:000000000000:function:EchoFunction"
    assert json.loads(lam.invoke(FunctionName=arn, Payload=b"{}")["Payload"].read())["event"] == {}


def test_invoke_writes_through_the_handler_to_the_table(runtime: Stack) -> None:
    reply = lambda_client(runtime).invoke(FunctionName="WriterFunction", Payload=json.dumps({"id": "i-1"}))
    assert json.loads(reply["Payload"].read()) == {"written": "i-1"}
    item = ddb_client(runtime.ddb).get_item(
        TableName="FixtureTable", Key={"pk": {"S": "ITEM#i-1"}, "sk": {"S": "ITEM"}}
    )
    assert item["Item"]["by"] == {"S": "WriterFunction"}
    assert call(runtime, "PUT", "/items/i-2", body=b"x").status == 201


def test_invoke_of_an_unknown_function_is_resource_not_found(runtime: Stack) -> None:
    lam = lambda_client(runtime)
    with pytest.raises(lam.exceptions.ResourceNotFoundException, match="Function not found: NoSuchFunction"):
        lam.invoke(FunctionName="NoSuchFunction", Payload=b"{}")


def test_invoke_of_a_failing_function_reports_it_as_lambda_does(runtime: Stack) -> None:
    reply = lambda_client(runtime).invoke(FunctionName="EchoFunction", Payload=json.dumps({"fail": "please"}))
    assert reply["StatusCode"] == 200 and reply["FunctionError"] == "Unhandled"
    error = json.loads(reply["Payload"].read())
    assert error["errorType"] == "ValueError" and error["errorMessage"] == "asked to fail: please"
    assert isinstance(error["stackTrace"], list) and error["stackTrace"]


def test_async_and_dry_run_invocations(runtime: Stack) -> None:
    lam = lambda_client(runtime)
    assert lam.invoke(FunctionName="EchoFunction", InvocationType="DryRun", Payload=b"{}")["StatusCode"] == 204
    reply = lam.invoke(FunctionName="WriterFunction", InvocationType="Event", Payload=json.dumps({"id": "async"}))
    assert reply["StatusCode"] == 202
    key = {"pk": {"S": "ITEM#async"}, "sk": {"S": "ITEM"}}
    deadline = time.monotonic() + 30
    while "Item" not in ddb_client(runtime.ddb).get_item(TableName="FixtureTable", Key=key):
        assert time.monotonic() < deadline, "the asynchronous invoke never ran"
        time.sleep(0.1)


# ---- the demo program, data on disk -----------------------------------------------------------------


def test_the_demo_program_is_put_through_the_api_once(runtime: Stack) -> None:
    assert load_demo(runtime.api_url, "demo-x", FIXTURE / "demo.json").startswith("demo-x loaded from demo.json: 200")
    assert load_demo(runtime.api_url, "demo-x", FIXTURE / "demo.json") == "demo-x already loaded"
    assert json.loads(call(runtime, "GET", "/programs/demo-x").body) == {"name": "Fixture demo"}
    assert "not found" in load_demo(runtime.api_url, "demo-y", FIXTURE / "missing.json")


def test_data_is_kept_on_disk_between_restarts(tmp_path: Path) -> None:
    first = launch(tmp_path)
    try:
        lambda_client(first).invoke(FunctionName="WriterFunction", Payload=json.dumps({"id": "kept"}))
    finally:
        first.stop()
    second = launch(tmp_path)
    try:
        key = {"pk": {"S": "ITEM#kept"}, "sk": {"S": "ITEM"}}
        assert "Item" in ddb_client(second.ddb).get_item(TableName="FixtureTable", Key=key)
    finally:
        second.stop()


# ---- `python -m local` ------------------------------------------------------------------------------


def test_python_m_local_serves_prints_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    api, lam, ddb = free_port(), free_port(), free_port()
    log = tmp_path / "console.txt"
    args = ["--in-memory", "--template", str(TEMPLATE), "--api-port", str(api), "--lambda-port", str(lam)]
    with log.open("w") as out:  # its own process group, so the test can press "Ctrl-C" on all of it
        proc = subprocess.Popen(
            [sys.executable, "-m", "local", *args, "--ddb-port", str(ddb)],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 90
        while "ready; Ctrl-C stops" not in log.read_text():
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        with pytest.raises(urllib.error.HTTPError) as failed:
            urllib.request.urlopen(f"http://127.0.0.1:{api}/boom", timeout=60)
        assert failed.value.code == 500
        hang_up_before_the_answer(api)
    finally:
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the JVM and containers get it too
        code = proc.wait(60)
    console = log.read_text()
    assert code == 0, console
    for line in (
        f"DynamoDB Local   http://127.0.0.1:{ddb}   data: in memory",
        "tables: FixtureTable",
        f"HTTP API         http://127.0.0.1:{api}",
        "GET    /me",
        "-> EchoFunction [jwt]",
        f"Lambda Invoke    http://127.0.0.1:{lam}/2015-03-31/functions/{{FunctionName}}/invocations",
        "functions: EchoFunction, WriterFunction",
        "demo program     demo-coffee loaded from demo.json: 200",
        "secret-detail-in-the-traceback",  # the handler's traceback is on the console
    ):
        assert line in console, line
    assert console.rstrip().endswith("stopped") and "KeyboardInterrupt" not in console, console
    assert "Exception occurred during processing of request" not in console, console  # a client hung up: no noise
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", ddb)) != 0  # DynamoDB Local is gone with it
