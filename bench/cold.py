"""Cold start per function: a fresh interpreter imports the function and answers its sample event
(`events/`), against a fresh interpreter running a bare boto3 handler that creates the same client and
makes exactly the calls the function's first request made (recorded in the handler's run).

Both children run as Lambda runs them: on the path only the built layer (`.lambda-site`, which
`make bench` builds with layers/core/Makefile, bytecode included), not the dev venv or the sources,
and with the function's environment from the template plus what Lambda itself sets
(`Function.reserved_env`). Both are timed from inside the child, after the interpreter is up
(Python's own start is the same for both and Lambda's is not ours to change): init = imports and
module-level setup, first = the first request. A third child, the floor, is the bare one loading the
libraries too. Several alternating runs; medians.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the children import this module: nothing beyond the standard library at its top
    from local.template import Function

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / ".lambda-site"  # the layer's ARTIFACTS_DIR: its packages are in python/
RUNS = int(os.environ.get("BENCH_COLD_RUNS", "9"))
# function folder -> its sample event (the local stack's demo program answers them)
EVENTS = {
    "programs": "programs-get.json",
    "enrol": "enrol-server.json",
    "earn": "earn-purchase.json",
    "members": "members-view.json",
    "redeem": "redeem-redemption.json",
    "purchase_paid_card": "purchase-paid-card-purchase.json",
    "evaluate_tier": "evaluate-tier-api.json",
    "sweep_worker": "sweep-worker-sqs.json",
}


def child_handler(function: str, event_file: str) -> dict[str, Any]:
    start = time.perf_counter()
    import importlib.util

    import boto3

    recorded: list[tuple[str, dict[str, Any]]] = []
    boto3.setup_default_session()
    boto3.DEFAULT_SESSION.events.register(  # type: ignore[union-attr]
        "before-parameter-build.dynamodb", lambda params, model, **_: recorded.append((model.name, dict(params)))
    )
    spec = importlib.util.spec_from_file_location("app", ROOT / "functions" / function / "app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    init = time.perf_counter()
    sys.path.insert(0, str(ROOT))
    from tests.support import Context

    event = json.loads((ROOT / "events" / event_file).read_text())
    module.handler(event, Context())
    first = time.perf_counter()
    return {"init": (init - start) * 1000, "first": (first - init) * 1000, "calls": recorded}


def child_bare(calls_file: str, libraries: bool) -> dict[str, Any]:
    """`libraries`: the bare handler also loads the libraries every function is built on (pydantic,
    Powertools' Logger, Tracer, Metrics and validating resolver) and uses none of them: the floor a
    function on them cannot go below, whatever its own code does."""
    start = time.perf_counter()
    import boto3
    from botocore.config import Config

    from bench.common import replay

    if libraries:
        import pydantic  # noqa: F401
        from aws_lambda_powertools import Logger, Metrics, Tracer
        from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

        Logger(), Tracer(), Metrics(), APIGatewayHttpResolver(enable_validation=True)
    ddb = boto3.client("dynamodb", config=Config(retries={"mode": "adaptive", "max_attempts": 5}))
    init = time.perf_counter()
    replay(ddb, json.loads(Path(calls_file).read_text()))
    first = time.perf_counter()
    return {"init": (init - start) * 1000, "first": (first - init) * 1000}


def _spawn(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    # -S: none of the dev venv's packages; the repo root (cwd) for this module, and the Lambda path.
    out = subprocess.run(
        [sys.executable, "-S", "-m", "bench.cold", *args],
        cwd=ROOT,
        env=env | {"PYTHONPATH": str(SITE / "python")},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(functions: dict[str, Function], base_env: dict[str, str], scratch: Path) -> list[dict[str, Any]]:
    """The local stack (demo program loaded) must be up: `base_env` points the children at it."""
    if not (SITE / ".ok").exists():
        raise SystemExit(f"{SITE.name} is missing: `make bench` installs it")
    by_folder = {fn.code_dir.name: fn for fn in functions.values()}
    rows = []
    for function, event in EVENTS.items():
        fn = by_folder[function]
        env = {**os.environ, **fn.reserved_env, **fn.env, **base_env}
        _spawn(["handler", function, event], env)  # settles the data: later runs do the same calls
        handler, bare, floor = [], [], []
        for _ in range(RUNS):
            got = _spawn(["handler", function, event], env)
            calls = scratch / f"{function}.json"
            calls.write_text(json.dumps(got["calls"], default=str))
            handler.append(got)
            bare.append(_spawn(["bare", str(calls)], env))
            floor.append(_spawn(["libraries", str(calls)], env))

        def median(runs: list[dict[str, Any]], key: str) -> float:
            return statistics.median(r[key] for r in runs)

        rows.append(
            {
                "function": function,
                "calls": len(handler[-1]["calls"]),
                "init": median(handler, "init"),
                "first": median(handler, "first"),
                "bare_init": median(bare, "init"),
                "bare_first": median(bare, "first"),
                "floor": median(floor, "init") + median(floor, "first"),
            }
        )
    return rows


if __name__ == "__main__":
    mode = sys.argv[1]
    result = (
        child_handler(sys.argv[2], sys.argv[3]) if mode == "handler" else child_bare(sys.argv[2], mode == "libraries")
    )
    print(json.dumps(result, default=str))
