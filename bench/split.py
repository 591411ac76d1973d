"""Where a warm read's time goes (`python -m bench.split`, not part of `make bench`): the member view
handler around real DynamoDB Local calls, split into the time inside botocore and the rest, then the
same handler with DynamoDB's answer served from memory (only its own Python left), against a bare
boto3 GetItem with the same client settings. Medians of alternating runs."""

from __future__ import annotations

import contextlib
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "layers" / "core"))

from local.dynamodb import client
from local.stack import handler_env
from tests.integration.ddb_local import ddb_local
from tests.support import Context, http_event, load_function, program

from .warm import BENCH_ENV, WARM_ENV

N = int(os.environ.get("BENCH_N", "600"))


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def main() -> None:
    with ddb_local() as ddb:
        os.environ.update(handler_env(ddb.endpoint) | BENCH_ENV | WARM_ENV)
        load_function("programs").handler(http_event("PUT", "/programs/p", program("demo")), Context())
        load_function("enrol").handler(http_event("POST", "/programs/p/members", {"member_id": "m1"}), Context())
        view = load_function("members").handler
        event, context = http_event("GET", "/programs/p/members/m1"), Context()

        from loyalty.runtime import store

        ddb_client = store().client
        bare = client(ddb.endpoint, ddb_client.meta.config)
        key = {"pk": {"S": "MEMBER#p#m1"}, "sk": {"S": "PROFILE"}}
        inside: list[float] = []
        call = ddb_client._make_api_call

        def timed(operation: str, params: dict[str, Any]) -> Any:
            start = time.perf_counter()
            try:
                return call(operation, params)
            finally:
                inside.append(time.perf_counter() - start)

        ddb_client._make_api_call = timed
        handler_s, botocore_s, bare_s = [], [], []
        with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
            for i in range(N + 100):  # the first 100 warm up, untimed
                inside.clear()
                start = time.perf_counter()
                view(event, context)
                elapsed = time.perf_counter() - start
                start = time.perf_counter()
                bare.get_item(TableName="LoyaltyTable", Key=key, ConsistentRead=True)
                if i >= 100:
                    bare_s.append(time.perf_counter() - start)
                    handler_s.append(elapsed)
                    botocore_s.append(sum(inside))
            answer = bare.get_item(TableName="LoyaltyTable", Key=key, ConsistentRead=True)
            ddb_client._make_api_call = lambda operation, params: answer
            memory_s = []
            for i in range(N + 100):
                start = time.perf_counter()
                view(event, context)
                if i >= 100:
                    memory_s.append(time.perf_counter() - start)
        ddb_client._make_api_call = call
    outside = [h - b for h, b in zip(handler_s, botocore_s, strict=True)]
    print(f"member view, N={N}, medians in ms")
    print(f"  handler around real calls   {median_ms(handler_s):.3f}")
    print(f"    inside botocore            {median_ms(botocore_s):.3f}")
    print(f"    the handler's own Python   {median_ms(outside):.3f}")
    print(f"  bare boto3 GetItem           {median_ms(bare_s):.3f}")
    print(f"  handler, DynamoDB's answer from memory  {median_ms(memory_s):.3f}")


if __name__ == "__main__":
    main()
