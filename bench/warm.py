"""Warm latency per route through the real handlers on DynamoDB Local, against a bare boto3 function
making exactly the same DynamoDB calls, in the same run.

The baseline is recorded, not hand-written: every call a handler request makes is captured (operation
and parameters) and replayed by a plain boto3 client on a twin program that has lived the same history,
so its conditions pass or fail as the handler's did and every item written is the same size. The ratio
is what the handler adds (event parsing, validation, rules, item building, logging, metrics) to the
calls it cannot avoid.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections import Counter
from collections.abc import Callable
from typing import Any, TextIO

from local.dynamodb import client, create_tables_from_template
from local.template import load_template
from tests.support import Context, http_event, load_function, program

from .common import pct, replay

FUNCTIONS = ("programs", "enrol", "earn", "members", "redeem", "purchase_paid_card")
# The handlers' environment in every bench run, beside the local runtime's (local.stack.handler_env).
BENCH_ENV = {
    "TABLE_NAME": "LoyaltyTable",
    "POWERTOOLS_SERVICE_NAME": "loyalty",
    "POWERTOOLS_METRICS_NAMESPACE": "Bench",
    "POWERTOOLS_LOG_LEVEL": "ERROR",
}
# In-process warm requests: the program cached as a warm container keeps it, and metrics on, as in
# Lambda (each request prints its EMF line; `run` sends them to /dev/null).
WARM_ENV = {"PROGRAM_CACHE_TTL_SECONDS": "300", "POWERTOOLS_METRICS_DISABLED": "false"}
TWIN = {"bench": "bare"}


class Handlers:
    """The real handlers of `names`, in-process and warm, as bench.campaigns and bench.shadow drive
    them: `request` builds an invocation (its event built beforehand: Lambda hands the handler a parsed
    event), `timed` makes one and measures only the handler, `call` makes one untimed; the handlers'
    EMF lines go to `sink`, and an error answer stops the bench (`fail`)."""

    def __init__(self, names: tuple[str, ...], sink: TextIO, fail: Callable[[str], None]) -> None:
        self.fns = {name: load_function(name).handler for name in names}
        self.sink, self.fail = sink, fail

    def request(self, fn: str, method: str, path: str, body: Any) -> Callable[[], dict[str, Any]]:
        handler, event, context = self.fns[fn], http_event(method, path, body), Context()
        return lambda: handler(event, context)

    def timed(self, invoke: Callable[[], dict[str, Any]]) -> tuple[dict[str, Any], float]:
        """The reply and the ms the handler took."""
        with contextlib.redirect_stdout(self.sink):
            start = time.perf_counter()
            reply = invoke()
            return reply, (time.perf_counter() - start) * 1000

    def call(self, fn: str, method: str, path: str, body: Any) -> dict[str, Any]:
        reply, _ = self.timed(self.request(fn, method, path, body))
        if reply["statusCode"] >= 300:
            self.fail(f"{method} {path}: {reply['statusCode']} {reply['body']}")
        return reply


class Meter:
    """Counts calls, sums the capacity DynamoDB reports (asked for on every call), and records each
    call's parameters for the bare replay."""

    def __init__(self, ddb: Any) -> None:
        self.calls: Counter[str] = Counter()
        self.units = 0.0
        self.refused = 0  # calls DynamoDB refused (a cancelled transaction) in the current request
        self.recorded: list[tuple[str, dict[str, Any]]] = []
        events = ddb.meta.events
        events.register("provide-client-params.dynamodb", self._ask)
        events.register("before-parameter-build.dynamodb", self._record)
        events.register("after-call.dynamodb", self._count)

    def _ask(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        if "ReturnConsumedCapacity" in model.input_shape.members:
            params["ReturnConsumedCapacity"] = "TOTAL"

    def _record(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        # A reference, not a copy: copying here would be timed as the handler's. `twin()` copies it
        # after the request.
        self.recorded.append((model.name, params))

    def _count(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        self.calls[model.name] += 1
        self.refused += "Error" in parsed
        used = parsed.get("ConsumedCapacity") or []
        for item in used if isinstance(used, list) else [used]:
            self.units += float(item.get("CapacityUnits", 0))

    def reset(self) -> None:
        self.calls.clear()
        self.units = 0.0


def twin(value: Any) -> Any:
    """A copy of the parameters aimed at the twin program (`bench` -> `bare` in every key and value),
    without the idempotency token botocore adds to a transaction (the replay gets its own)."""
    if isinstance(value, dict):
        return {k: twin(v) for k, v in value.items() if k != "ClientRequestToken"}
    if isinstance(value, list | tuple):  # the recorded calls are (operation, parameters) tuples
        return [twin(v) for v in value]
    if isinstance(value, str):
        if value == "bench":
            return "bare"
        return value.replace("#bench#", "#bare#").replace("PROGRAM#bench", "PROGRAM#bare")
    return value


def run(endpoint: str, n: int) -> list[dict[str, Any]]:
    os.environ.update(BENCH_ENV | WARM_ENV)
    create_tables_from_template(client(endpoint), load_template())
    fns = {name: load_function(name).handler for name in FUNCTIONS}
    from loyalty.runtime import store

    meter = Meter(store().client)
    raw = client(endpoint, store().client.meta.config)  # the same client settings (retries and timeouts)
    Meter(raw)  # the same instrumentation on both sides: its hooks are the bench's cost, not the handler's

    def request(fn: str, method: str, path: str, body: Any = None, **kw: Any) -> Callable[[], dict[str, Any]]:
        """The invocation, its event built beforehand (Lambda hands the handler a parsed event)."""
        handler, event, context = fns[fn], http_event(method, path, body, **kw), Context()
        return lambda: handler(event, context)

    def call(fn: str, method: str, path: str, body: Any = None, **kw: Any) -> dict[str, Any]:
        reply = request(fn, method, path, body, **kw)()
        assert reply["statusCode"] < 300, reply
        return reply

    for pid in ("bench", "bare"):
        call("programs", "PUT", f"/programs/{pid}", program("demo"))
    base = "/programs/bench/members"
    coupon: dict[int, str] = {}

    def first_coupon(i: int) -> str:
        reply = call("members", "GET", f"{base}/m{i}/coupons")
        return str(json.loads(reply["body"])["coupons"][0]["coupon_id"])

    ops: dict[str, Callable[[int], Callable[[], dict[str, Any]]]] = {
        "enrol": lambda i: request("enrol", "POST", base, {"member_id": f"m{i}"}),
        "purchase": lambda i: request(
            "earn", "POST", f"{base}/m{i}/purchases", {"order_id": f"o{i}", "amount_minor": 60000}
        ),
        "purchase, repeated": lambda i: request(
            "earn", "POST", f"{base}/m{i}/purchases", {"order_id": f"o{i}", "amount_minor": 60000}
        ),
        "refund": lambda i: request(
            "earn", "POST", f"{base}/m{i}/refunds", {"refund_id": f"r{i}", "order_id": f"o{i}", "amount_minor": 100}
        ),
        "activity": lambda i: request(
            "earn", "POST", f"{base}/m{i}/activities", {"activity_id": f"a{i}", "type": "check_in"}
        ),
        "redemption": lambda i: request(
            "redeem", "POST", f"{base}/m{i}/redemptions", {"redemption_id": f"rd{i}", "reward_id": "coupon-5"}
        ),
        "coupon use": lambda i: request(
            "redeem",
            "POST",
            f"{base}/m{i}/coupons/{coupon[i]}/use",
            {"order_id": f"t{i}", "order_amount_minor": 6000},
        ),
        "paid-card purchase": lambda i: request(
            "purchase_paid_card",
            "POST",
            f"{base}/m{i}/paid-cards",
            {"payment_id": f"p{i}", "plan_id": "plus-quarter", "amount_paid_minor": 4500},
        ),
        "member view": lambda i: request("members", "GET", f"{base}/m{i}"),
        "member view (/me)": lambda i: request("members", "GET", "/programs/bench/me", sub=f"m{i}"),
        "ledger page": lambda i: request("members", "GET", f"{base}/m{i}/ledger"),
        "coupon wallet": lambda i: request("members", "GET", f"{base}/m{i}/coupons"),
    }

    def measure(name: str, op: Callable[[int], Callable[[], dict[str, Any]]]) -> dict[str, Any]:
        if name == "coupon use":
            # The twin's members hold the same coupons: their ids derive from the same sources.
            coupon.update({i: first_coupon(i) for i in range(n + 1)})
        handler_ms, bare_ms = [], []
        for i in [n, *range(n)]:  # the first request warms this route's code path, untimed
            meter.recorded.clear()
            meter.refused = 0
            invoke = op(i)
            start = time.perf_counter()
            reply = invoke()
            elapsed = (time.perf_counter() - start) * 1000
            assert reply["statusCode"] < 300, reply
            recorded = twin(meter.recorded)
            start = time.perf_counter()
            refused = replay(raw, recorded)
            bare = (time.perf_counter() - start) * 1000
            # The twin lived the same history, so DynamoDB must answer its calls as it did the handler's.
            assert refused == meter.refused, f"{name}: the replay was refused {refused}, the handler {meter.refused}"
            if i == n:
                meter.reset()
            else:
                handler_ms.append(elapsed)
                bare_ms.append(bare)
        calls = ", ".join(f"{v / n:g} {k}" for k, v in sorted(meter.calls.items()))
        return {
            "operation": name,
            "calls": calls,
            "units": meter.units / n,
            "p50": pct(handler_ms, 50),
            "p99": pct(handler_ms, 99),
            "bare_p50": pct(bare_ms, 50),
        }

    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        return [measure(name, op) for name, op in ops.items()]
