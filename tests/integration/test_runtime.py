"""The local runtime as the contract describes it: routes, auth, Invoke API, table, data on disk."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from local.dynamodb import client, free_port
from local.stack import Stack, put_program, start
from tests.integration.conftest import Client, lambda_client
from tests.support import jwt, program


def test_table_is_created_from_the_template(stack: Stack) -> None:
    table = client(stack.ddb.endpoint).describe_table(TableName="LoyaltyTable")["Table"]
    assert {k["AttributeName"] for k in table["KeySchema"]} == {"pk", "sk"}
    [index] = table["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "gsi1" and index["Projection"]["ProjectionType"] == "KEYS_ONLY"
    assert table["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"


def test_member_routes_need_a_token_and_reach_only_the_caller(api: Client, pid: str) -> None:
    # The contract's error shape (in AWS the HTTP API's JWT authorizer answers `{"message": ...}` itself).
    for token in (None, "not-a-jwt", jwt_without_sub()):
        status, body = api.call("GET", f"/programs/{pid}/me", token=token)
        assert (status, body["error"]["code"], body["error"]["details"]) == (401, "unauthorized", []), (token, body)
        assert body["error"]["message"], body
    status, me = api.call("POST", f"/programs/{pid}/me", {"birthday": "1990-02-03"}, token=jwt("alice"))
    assert status == 201 and me["member_id"] == "alice"
    status, view = api.call("GET", f"/programs/{pid}/me", token=jwt("alice"))
    assert status == 200 and view["member_id"] == "alice" and view["points"]["balance"] == 100
    # bob's token reads bob, never alice
    assert api.call("GET", f"/programs/{pid}/me", token=jwt("bob"))[0] == 404


def jwt_without_sub() -> str:
    """A well-formed token whose payload names no member."""
    payload = base64.urlsafe_b64encode(json.dumps({"scope": "x"}).encode()).decode().rstrip("=")
    return f"{jwt('x').split('.')[0]}.{payload}.sig"


def test_a_member_token_reaches_no_server_route(stack: Stack, api: Client, pid: str) -> None:
    """In AWS server routes use IAM, which refuses a bearer token; the local runtime answers the same."""
    assert api.call("POST", f"/programs/{pid}/me", {}, token=jwt("alice"))[0] == 201
    server = [r for fn in stack.template.functions().values() for r in fn.routes if r.auth == "iam"]
    assert len(server) >= 15
    for route in server:
        ids = {"member_id": "alice", "coupon_id": "c1", "plan_id": "plus-quarter", "campaign_id": "c1"}
        ids |= {"import_id": "i1", "n": "1", "version": "1", "checkout_id": "k1", "redemption_id": "r1"}
        ids |= {"draft_id": "d1"}
        ids |= {"grant_id": "g1"}
        path = route.path.format(program_id=pid, **ids)
        status, body = api.call(route.method, path, {}, token=jwt("alice"))
        assert (status, body["error"]["code"]) == (403, "forbidden"), f"{route.method} {route.path}: {body}"
        assert body["error"]["message"] and body["error"]["details"] == [], body
    assert api.call("GET", f"/programs/{pid}/members/alice")[0] == 200  # unsigned: open locally


def test_programs_are_isolated_tenants(api: Client, pid: str) -> None:
    other = f"p-{uuid.uuid4().hex[:10]}"
    assert put_program(api.base, other, program("demo"))[0] == 200
    assert api.call("POST", f"/programs/{pid}/me", {}, token=jwt("alice"))[0] == 201
    assert (
        api.call("POST", f"/programs/{pid}/members/alice/purchases", {"order_id": "o1", "amount_minor": 5000})[0] == 201
    )
    # alice of one program is nobody in the other, by token or by server route
    assert api.call("GET", f"/programs/{other}/me", token=jwt("alice"))[0] == 404
    assert api.call("GET", f"/programs/{other}/members/alice/ledger")[0] == 404
    # an order id is the program's own: the same id in the other program is another order
    assert api.call("POST", f"/programs/{other}/members", {"member_id": "alice"})[0] == 201
    status, order = api.call(
        "POST", f"/programs/{other}/members/alice/purchases", {"order_id": "o1", "amount_minor": 7000}
    )
    assert status == 201 and order["points_earned"] == 70 + 200


def test_a_program_put_applies_to_the_very_next_request(api: Client, pid: str) -> None:
    """Locally no container keeps a program (README): a client changing its rules sees them at once."""
    assert api.call("POST", f"/programs/{pid}/members", {"member_id": "bo"})[0] == 201
    first = api.call("POST", f"/programs/{pid}/members/bo/purchases", {"order_id": "o1", "amount_minor": 1000})
    richer = program("demo")
    richer["points"]["earn"]["points_per_unit"] = 3
    assert put_program(api.base, pid, richer)[0] == 200
    second = api.call("POST", f"/programs/{pid}/members/bo/purchases", {"order_id": "o2", "amount_minor": 1000})
    assert first[0] == second[0] == 201
    assert second[1]["breakdown"]["base"] == 3 * first[1]["breakdown"]["base"] > 0


def test_unknown_route_is_404(api: Client) -> None:
    assert api.call("GET", "/nowhere")[0] == 404
    assert api.call("DELETE", "/programs/x")[0] == 404


@pytest.mark.parametrize(
    "raw",
    [
        b"{",
        b"[]",
        b'{"order_id": "o1"}',
        b'{"order_id": "o1", "amount_minor": -5}',
        b'{"order_id": "o1", "amount_minor": 1, "x": 1}',
    ],
)
def test_bad_input_is_4xx_and_writes_nothing(api: Client, pid: str, raw: bytes) -> None:
    api.call("POST", f"/programs/{pid}/members", {"member_id": "m1"})
    status, body = api.call("POST", f"/programs/{pid}/members/m1/purchases", raw=raw)
    assert status in (400, 422) and body["error"]["code"] == "validation_error", body
    assert body["error"]["details"], body
    status, page = api.call("GET", f"/programs/{pid}/members/m1/ledger")
    assert [e["type"] for e in page["entries"]] == ["welcome"]


def test_openapi_and_docs_are_served(api: Client) -> None:
    status, doc = api.call("GET", "/openapi.json")
    assert status == 200 and "/programs/{program_id}/members/{member_id}/purchases" in doc["paths"]


def test_invoke_api_runs_functions_by_logical_id(stack: Stack, pid: str) -> None:
    lam = lambda_client(stack)
    event = json.loads((Path(__file__).parents[2] / "events" / "programs-get.json").read_text())
    event["pathParameters"]["program_id"] = pid
    event["rawPath"] = event["requestContext"]["http"]["path"] = f"/programs/{pid}"
    reply = lam.invoke(FunctionName="ProgramsFunction", Payload=json.dumps(event))
    result = json.loads(reply["Payload"].read())
    assert reply["StatusCode"] == 200 and result["statusCode"] == 200
    assert json.loads(result["body"])["program_id"] == pid
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.invoke(FunctionName="NoSuchFunction", Payload=b"{}")


def test_the_walk_through_churn_step_shows_the_sweep(stack: Stack, api: Client, pid: str) -> None:
    """`python -m local.invoke ChurnSweepFunction --in-days 31` (the walk-through's sweep, there by route): a member who
    bought today is at risk a month later, with the warning's coupon; the same run again changes nothing."""
    member = f"m-{uuid.uuid4().hex[:8]}"
    assert api.call("POST", f"/programs/{pid}/members", {"member_id": member})[0] == 201
    assert (
        api.call("POST", f"/programs/{pid}/members/{member}/purchases", {"order_id": "o-1", "amount_minor": 100})[0]
        == 201
    )
    port = stack.invoke_url.rsplit(":", 1)[1]
    run_at = (datetime.now(UTC) + timedelta(days=31)).strftime("%Y-%m-%dT%H:%M:%SZ")
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-m", "local.invoke", "ChurnSweepFunction", "--time", run_at, "--port", port],
            capture_output=True,
            text=True,
            check=True,
            timeout=300,
            cwd=Path(__file__).parents[2],
        )
        assert json.loads(done.stdout)["kinds"] == ["churn", "rfm"]
        assert api.call("GET", f"/programs/{pid}/members/{member}")[1]["lifecycle_stage"] == "at_risk"
        coupons = api.call("GET", f"/programs/{pid}/members/{member}/coupons")[1]
        assert len([c for c in coupons["coupons"] if c["source"].startswith("churn")]) == 1, coupons


def test_data_is_kept_on_disk_between_restarts(tmp_path: Path) -> None:
    first = start(api_port=free_port(), lambda_port=free_port(), ddb_port=None, data_dir=tmp_path, containers=1)
    try:
        assert put_program(first.api_url, "kept", program("points-only"))[0] == 200
    finally:
        first.stop()
    second = start(api_port=free_port(), lambda_port=free_port(), ddb_port=None, data_dir=tmp_path, containers=1)
    try:
        status, doc = Client(second.api_url).call("GET", "/programs/kept")
        assert status == 200 and doc["name"] == "Points only"
    finally:
        second.stop()
