"""Round trips, capacity units and warm latency per operation, through the real handlers, on
DynamoDB Local; and the same DynamoDB calls made by a bare boto3 function, in the same run, as the
baseline the handler's overhead is a ratio of. Sequential, warm containers, one process."""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers" / "core"))

from local.dynamodb import DynamoDBLocal, client, create_tables_from_template  # noqa: E402
from local.stack import handler_env  # noqa: E402
from local.template import load_template  # noqa: E402
from tests.support import Context, http_event, load_function, program  # noqa: E402

N = int(os.environ.get("BENCH_N", "200"))


class Meter:
    """Counts calls and sums the capacity DynamoDB reports, by asking for it on every call."""

    def __init__(self, ddb: Any) -> None:
        self.calls: Counter[str] = Counter()
        self.units = 0.0
        events = ddb.meta.events
        events.register("provide-client-params.dynamodb", self._ask)
        events.register("after-call.dynamodb", self._count)

    def _ask(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        if "ReturnConsumedCapacity" in model.input_shape.members:
            params["ReturnConsumedCapacity"] = "TOTAL"

    def _count(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        self.calls[model.name] += 1
        used = parsed.get("ConsumedCapacity") or []
        for item in used if isinstance(used, list) else [used]:
            self.units += float(item.get("CapacityUnits", 0))

    def reset(self) -> None:
        self.calls.clear()
        self.units = 0.0


def timed(fn: Callable[[int], Any], n: int) -> list[float]:
    out = []
    for i in range(n):
        start = time.perf_counter()
        fn(i)
        out.append((time.perf_counter() - start) * 1000)
    return out


def pct(samples: list[float], q: float) -> float:
    return statistics.quantiles(samples, n=100)[int(q) - 1] if len(samples) > 1 else samples[0]


def main() -> None:
    ddb = DynamoDBLocal().start()
    try:
        os.environ.update(
            handler_env(ddb.endpoint) | {"TABLE_NAME": "LoyaltyTable", "PROGRAM_CACHE_TTL_SECONDS": "300"}
        )
        os.environ.update(
            {
                "POWERTOOLS_SERVICE_NAME": "loyalty",
                "POWERTOOLS_METRICS_NAMESPACE": "Bench",
                "POWERTOOLS_LOG_LEVEL": "ERROR",
            }
        )
        create_tables_from_template(client(ddb.endpoint), load_template())
        fns = {
            name: load_function(name).handler
            for name in ("programs", "enroll", "earn", "members", "purchase_paid_card")
        }
        from loyalty.http.deps import store

        meter = Meter(store().client)

        def call(fn: str, method: str, path: str, body: Any = None, **kw: Any) -> dict[str, Any]:
            reply = fns[fn](http_event(method, path, body, **kw), Context())
            assert reply["statusCode"] < 300, reply
            return reply

        call("programs", "PUT", "/programs/bench", program("demo"))
        base = "/programs/bench/members"
        ops: dict[str, Callable[[int], Any]] = {
            "enrol": lambda i: call("enroll", "POST", base, {"member_id": f"m{i}"}),
            "purchase": lambda i: call(
                "earn", "POST", f"{base}/m{i}/purchases", {"order_id": f"o{i}", "amount_minor": 12000}
            ),
            "purchase, repeated": lambda i: call(
                "earn", "POST", f"{base}/m{i}/purchases", {"order_id": f"o{i}", "amount_minor": 12000}
            ),
            "refund": lambda i: call(
                "earn", "POST", f"{base}/m{i}/refunds", {"refund_id": f"r{i}", "order_id": f"o{i}", "amount_minor": 100}
            ),
            "activity": lambda i: call(
                "earn", "POST", f"{base}/m{i}/activities", {"activity_id": f"a{i}", "type": "check_in"}
            ),
            "paid-card purchase": lambda i: call(
                "purchase_paid_card",
                "POST",
                f"{base}/m{i}/paid-cards",
                {"payment_id": f"p{i}", "plan_id": "plus-quarter", "amount_paid_minor": 4500},
            ),
            "member view": lambda i: call("members", "GET", f"{base}/m{i}"),
            "ledger page": lambda i: call("members", "GET", f"{base}/m{i}/ledger"),
            "coupon wallet": lambda i: call("members", "GET", f"{base}/m{i}/coupons"),
        }
        rows = []
        p50: dict[str, float] = {}
        for name, op in ops.items():
            op(N)  # warm this route's code path once
            meter.reset()
            samples = timed(op, N)
            calls = ", ".join(f"{v / N:g} {k}" for k, v in sorted(meter.calls.items()))
            rows.append((name, calls, meter.units / N, pct(samples, 50), pct(samples, 99)))
            p50[name] = pct(samples, 50)

        # The baseline: a bare boto3 function making the same two calls a purchase makes.
        raw = client(ddb.endpoint)
        profile_key = {"pk": {"S": "MEMBER#bench#m1"}, "sk": {"S": "PROFILE"}}
        item = raw.get_item(TableName="LoyaltyTable", Key=profile_key, ConsistentRead=True)["Item"]

        def bare_purchase(i: int) -> None:
            got = raw.get_item(TableName="LoyaltyTable", Key=profile_key, ConsistentRead=True)["Item"]
            version = got["version"]["N"]
            raw.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": "LoyaltyTable",
                            "Item": {**item, "version": {"N": str(int(version) + 1)}},
                            "ConditionExpression": "version = :v",
                            "ExpressionAttributeValues": {":v": {"N": version}},
                        }
                    },
                    {
                        "Put": {
                            "TableName": "LoyaltyTable",
                            "Item": {
                                "pk": {"S": f"REF#bench#order#bare{i}"},
                                "sk": {"S": "REF"},
                                "response": {"S": "{}"},
                            },
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    {
                        "Put": {
                            "TableName": "LoyaltyTable",
                            "Item": {
                                "pk": {"S": "MEMBER#bench#m1"},
                                "sk": {"S": f"LEDGER#bare{i:08d}"},
                                "points": {"N": "120"},
                            },
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                ]
            )

        def bare_view(i: int) -> None:
            raw.get_item(TableName="LoyaltyTable", Key=profile_key, ConsistentRead=True)

        bare = {"purchase": timed(bare_purchase, N), "member view": timed(bare_view, N)}
        ratio = {name: (p50[name], pct(samples, 50)) for name, samples in bare.items()}
    finally:
        ddb.stop()

    lines = [
        f"DynamoDB Local, warm, sequential, N={N} per operation",
        "",
        "| operation | DynamoDB calls per request | capacity units reported by DynamoDB Local | p50 ms | p99 ms |",
        "| --- | --- | --- | --- | --- |",
        *[f"| {n} | {c} | {u:.1f} | {p50:.1f} | {p99:.1f} |" for n, c, u, p50, p99 in rows],
        "",
        "| same DynamoDB calls | handler p50 ms | bare boto3 p50 ms | ratio |",
        "| --- | --- | --- | --- |",
        *[f"| {n} | {a:.1f} | {b:.1f} | {a / b:.2f}x |" for n, (a, b) in ratio.items()],
    ]
    text = "\n".join(lines)
    print(text)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "latest.md").write_text(text + "\n")
    print(json.dumps({"written": str(out / "latest.md")}))


if __name__ == "__main__":
    main()
