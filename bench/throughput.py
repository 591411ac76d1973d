"""Throughput of purchases through the local runtime (HTTP API, container pools, DynamoDB Local):
parallel clients on distinct members, and on one member (every request races for the same profile)."""

from __future__ import annotations

import json
import time
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .common import pct

CLIENTS = 8


def _post(url: str, body: dict[str, Any]) -> tuple[int, float]:
    data = json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method="POST", headers={"content-type": "application/json"})
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=120) as resp:  # loopback only
            resp.read()
            status = resp.status
    except urllib.error.HTTPError as err:
        status = err.code
    return status, (time.perf_counter() - start) * 1000


def _burst(calls: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        results = list(pool.map(lambda c: _post(*c), calls))
    wall = time.perf_counter() - start
    latencies = [ms for _, ms in results]
    return {
        "requests": len(calls),
        "ok": sum(1 for s, _ in results if s == 201),
        # e.g. a 503 `unavailable` when one member's parallel writes outlast the write loop's retries
        "others": ", ".join(f"{n} x {s}" for s, n in sorted(Counter(s for s, _ in results if s != 201).items())),
        "per_second": len(calls) / wall,
        "p50": pct(latencies, 50),
        "p99": pct(latencies, 99),
    }


def run(api_url: str, program_id: str, n: int) -> dict[str, dict[str, Any]]:
    members = f"{api_url}/programs/{program_id}/members"
    _burst([(members, {"member_id": f"t{i}"}) for i in range(n)] + [(members, {"member_id": "hot"})])
    # Bursts until the earn pool has started its containers (cold starts are the cold bench's business).
    for round_ in range(3):
        _burst([(f"{members}/t{i}/purchases", {"order_id": f"w{round_}-{i}", "amount_minor": 100}) for i in range(32)])
    distinct = _burst([(f"{members}/t{i}/purchases", {"order_id": f"d{i}", "amount_minor": 12000}) for i in range(n)])
    one = _burst([(f"{members}/hot/purchases", {"order_id": f"h{i}", "amount_minor": 12000}) for i in range(n)])
    return {"distinct members": distinct, "one member": one}
