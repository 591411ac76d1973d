"""`make bench`: warm latency and the bare-boto3 ratio per route, cold start per function, and
throughput of parallel purchases, in one run on one local stack (DynamoDB Local). Writes
bench/results/latest.md (the README quotes it)."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers" / "core"))

from local.dynamodb import free_port  # noqa: E402
from local.stack import handler_env, load_demo, start  # noqa: E402

from . import cold, throughput, warm  # noqa: E402

N = int(os.environ.get("BENCH_N", "200"))
# Which parts to run, e.g. BENCH_PARTS=cold to measure cold starts again on their own.
PARTS = os.environ.get("BENCH_PARTS", "warm,cold,throughput").split(",")


def main() -> None:
    # The stream consumers are asynchronous functions in AWS, off the request path: not run here.
    stack = start(api_port=free_port(), lambda_port=free_port(), ddb_port=None, containers=8, streams=False)
    try:
        env = handler_env(stack.ddb.endpoint) | warm.BENCH_ENV
        print(load_demo(stack.api_url, "demo-coffee", ROOT / "programs" / "demo.json"), flush=True)
        os.environ.update(env)
        warm_rows = warm.run(stack.ddb.endpoint, N) if "warm" in PARTS else []
        print("warm done", flush=True)
        with tempfile.TemporaryDirectory() as scratch:
            cold_rows = cold.run(stack.runtime.functions, env, Path(scratch)) if "cold" in PARTS else []
        print("cold done", flush=True)
        flows = throughput.run(stack.api_url, "demo-coffee", N) if "throughput" in PARTS else {}
    finally:
        stack.stop()

    lines = [
        f"DynamoDB Local on this machine, one run. Warm: sequential, N={N} per route, in-process handlers;"
        " bare = a plain boto3 client replaying exactly the calls each request made.",
        "",
        "| route | DynamoDB calls per request | capacity units (DynamoDB Local) | p50 ms | p99 ms"
        " | bare boto3 p50 ms | ratio |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        *[
            f"| {r['operation']} | {r['calls']} | {r['units']:.1f} | {r['p50']:.1f} | {r['p99']:.1f}"
            f" | {r['bare_p50']:.1f} | {r['p50'] / r['bare_p50']:.2f}x |"
            for r in warm_rows
        ],
        "",
        f"Cold start: fresh interpreter per run on the built layer, median of {cold.RUNS}; init = imports and"
        " module setup, first = the sample event's request; bare = boto3 client + the same calls; floor = the"
        " bare handler also loading pydantic and Powertools (Logger, Tracer, Metrics, validating resolver).",
        "",
        "| function | calls | init ms | first request ms | total ms | bare init ms | bare calls ms"
        " | bare total ms | ratio | floor ms | floor ratio | total / floor |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        *[
            f"| {r['function']} | {r['calls']} | {r['init']:.0f} | {r['first']:.0f} | {r['init'] + r['first']:.0f}"
            f" | {r['bare_init']:.0f} | {r['bare_first']:.0f} | {r['bare_init'] + r['bare_first']:.0f}"
            f" | {(r['init'] + r['first']) / (r['bare_init'] + r['bare_first']):.2f}x"
            f" | {r['floor']:.0f} | {r['floor'] / (r['bare_init'] + r['bare_first']):.2f}x"
            f" | {(r['init'] + r['first']) / r['floor']:.2f}x |"
            for r in cold_rows
        ],
        "",
        f"Throughput: {throughput.CLIENTS} parallel clients through the local HTTP API (8 containers per function).",
        "",
        "| purchases | requests | 201 | other answers | per second | p50 ms | p99 ms |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        *[
            f"| {name} | {f['requests']} | {f['ok']} | {f['others'] or '-'} | {f['per_second']:.0f}"
            f" | {f['p50']:.1f} | {f['p99']:.1f} |"
            for name, f in flows.items()
        ],
    ]
    text = "\n".join(lines)
    print(text)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "latest.md").write_text(text + "\n")


if __name__ == "__main__":
    main()
