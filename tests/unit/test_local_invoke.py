"""`python -m local.invoke` finds the runtime `python -m local` started with the same variables, runs at
the present unless told otherwise, and says both: a stub Invoke API on loopback stands in for the runtime."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from local import invoke, ports
from local.dynamodb import free_port


@pytest.fixture
def runtime() -> Iterator[tuple[int, list[dict[str, Any]]]]:
    """A stub Invoke API: records each event and answers a run whose work all settled."""
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["content-length"]))))
            body = json.dumps({"work": {"settled": 0, "failed": 0, "dead_lettered": 0}}).encode()
            self.send_response(200)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], received
    server.shutdown()
    server.server_close()


def run(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], *argv: str) -> None:
    for name in ("API_PORT", "LAMBDA_PORT", "DDB_PORT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(sys, "argv", ["python -m local.invoke", *argv])
    invoke.main()


def test_the_ports_default_as_the_runtime_does(monkeypatch: pytest.MonkeyPatch) -> None:
    assert (ports.api_port({}), ports.lambda_port({}), ports.ddb_port({})) == (3000, 3001, 8000)
    # API_PORT alone moves the Invoke API with it, for `python -m local` and `local.invoke` alike.
    assert ports.lambda_port({"API_PORT": "3300"}) == 3301
    assert ports.lambda_port({"API_PORT": "3300", "LAMBDA_PORT": "3401"}) == 3401


def test_with_only_api_port_set_it_reaches_the_runtime_and_runs_now(
    runtime: tuple[int, list[dict[str, Any]]], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    port, received = runtime
    before = datetime.now(UTC).replace(microsecond=0)
    run(monkeypatch, {"API_PORT": str(port - 1)}, "ChurnSweepFunction")
    (event,) = received
    at = datetime.fromisoformat(event["time"])
    assert before <= at <= datetime.now(UTC), "the sample event's own time is months old: a run is now by default"
    out = capsys.readouterr().err  # stdout keeps only the answer, for `| jq`
    assert f"http://127.0.0.1:{port}/2015-03-31/functions/ChurnSweepFunction/invocations" in out
    assert event["time"] in out


def test_a_chosen_time_and_port_are_used_and_said(
    runtime: tuple[int, list[dict[str, Any]]], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    port, received = runtime
    at = "2027-01-01T00:00:00Z"
    run(monkeypatch, {"API_PORT": "1", "LAMBDA_PORT": str(port)}, "ExpirePointsFunction", "--time", at)
    run(monkeypatch, {}, "ChurnSweepFunction", "--port", str(port), "--in-days", "31")
    assert received[0]["time"] == at
    later = datetime.fromisoformat(received[1]["time"]) - datetime.now(UTC)
    assert timedelta(days=30, hours=23) < later <= timedelta(days=31)
    assert at in capsys.readouterr().err
