"""The generated clients (clients/, `make clients`) against the local runtime, as an app would use them:
each enrols a member, records a purchase and reads the member view. Each also reads the member app's
GET me/program."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from loyalty_client import ApiError, LoyaltyClient, models

from tests.integration.conftest import Client
from tests.support import jwt

ROOT = Path(__file__).resolve().parents[2]
TYPESCRIPT = ROOT / "clients" / "typescript"
ME_PROGRAM = "/programs/{program_id}/me/program"


@pytest.fixture(scope="module")
def served(api: Client) -> dict[str, Any]:
    status, doc = api.call("GET", "/openapi.json")
    assert status == 200
    return doc


def test_python_client_enrols_buys_and_reads_the_member_view(api: Client, pid: str) -> None:
    server = LoyaltyClient(api.base)
    enrolled = server.enrol(pid, models.Enrol(member_id="py-1", channel="app"))
    assert enrolled.member_id == "py-1"
    bought = server.purchase(pid, "py-1", models.Purchase(order_id="o-1", amount_minor=12_800))
    assert isinstance(bought, models.PurchaseResult) and bought.points_earned > 0

    me = LoyaltyClient(api.base, token=jwt("py-1")).me(pid)
    assert isinstance(me, models.MemberView)
    assert me.member_id == "py-1" and me.points.balance == bought.balance
    assert server.member(pid, "py-1") == me
    assert "earn" in [entry.type for entry in server.ledger(pid, "py-1", limit=10).entries]


def test_python_client_raises_the_contracts_error(api: Client, pid: str) -> None:
    server = LoyaltyClient(api.base)
    server.enrol(pid, {"member_id": "py-2"})
    server.purchase(pid, "py-2", {"order_id": "o-1", "amount_minor": 5_000})
    with pytest.raises(ApiError) as conflict:
        server.purchase(pid, "py-2", {"order_id": "o-1", "amount_minor": 6_000})
    assert (conflict.value.status, conflict.value.code) == (409, "idempotency_conflict")
    with pytest.raises(ApiError) as anonymous:
        LoyaltyClient(api.base).me(pid)
    assert anonymous.value.status == 401


def test_python_client_hands_each_request_to_sign_last(api: Client, pid: str) -> None:
    """Where SigV4 would go in AWS; here the local runtime's stand-in for the principal, which the audit keeps."""
    signed: list[str] = []

    def sign(request: urllib.request.Request) -> None:
        signed.append(f"{request.get_method()} {request.full_url}")
        request.add_header("x-loyalty-actor", "desk:py")

    server = LoyaltyClient(api.base, sign=sign)
    server.enrol(pid, models.Enrol(member_id="py-4"))
    assert [entry.actor for entry in server.audit(pid, "py-4").entries] == ["desk:py"]
    assert signed == [f"POST {api.base}/programs/{pid}/members", f"GET {api.base}/programs/{pid}/members/py-4/audit"]


def test_python_client_reads_the_program_as_the_member_sees_it(api: Client, pid: str) -> None:
    LoyaltyClient(api.base).enrol(pid, models.Enrol(member_id="py-3"))
    program = LoyaltyClient(api.base, token=jwt("py-3")).my_program(pid)
    assert program.name and program.tiers
    assert all(isinstance(reward.available, bool) for reward in program.rewards)


def test_python_client_reads_a_referral_code_both_ways(api: Client, pid: str) -> None:
    """Each answer is validated against its own model (a field's RootModel once took this one's name)."""
    LoyaltyClient(api.base).enrol(pid, models.Enrol(member_id="py-5"))
    code = LoyaltyClient(api.base).code(pid, "py-5")
    assert len(code.code) == 10
    assert LoyaltyClient(api.base, token=jwt("py-5")).my_code(pid) == code


@pytest.fixture(scope="module")
def compiled() -> Path:
    """The TypeScript client and its tests, compiled by the package's own tsc (make test installs it)."""
    if not (TYPESCRIPT / "node_modules" / ".bin" / "tsc").exists() or shutil.which("node") is None:
        pytest.skip("clients/typescript/node_modules is missing: `make clients/typescript/node_modules/.ok`")
    subprocess.run([str(TYPESCRIPT / "node_modules" / ".bin" / "tsc"), "-p", "."], cwd=TYPESCRIPT, check=True)
    return TYPESCRIPT / "dist" / "test"


def node_test(api: Client, pid: str, script: Path) -> None:
    env = {**os.environ, "LOYALTY_API_URL": api.base, "LOYALTY_PROGRAM_ID": pid}
    command = ["node", "--test", str(script)]
    run = subprocess.run(command, check=False, cwd=TYPESCRIPT, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr


def test_typescript_client_enrols_buys_and_reads_the_member_view(api: Client, pid: str, compiled: Path) -> None:
    node_test(api, pid, compiled / "client.test.js")


def test_typescript_client_reads_the_program_as_the_member_sees_it(api: Client, pid: str, compiled: Path) -> None:
    node_test(api, pid, compiled / "me_program.test.js")


def test_the_runtime_serves_the_document_the_clients_were_generated_from(served: dict[str, Any]) -> None:
    """`make clients` takes the document in-process from the same app object; the runtime serves it."""
    assert served == json.loads((ROOT / "clients" / "openapi.json").read_text(encoding="utf-8"))
