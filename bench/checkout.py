"""`make bench-checkout`: what a checkout costs against a purchase of the same cart (issue 29: a PUT and
its confirm each at most 1.25x a purchase's p50; at most 1 read round trip + 1 write each; the rules'
own Python under 2 ms), and what each would be billed in AWS.

One program (bench/checkout_rule.py's: the demo with 10 checkout campaigns and two coupon templates,
a reward granting one of each) and a pool of gold members. Each round, untimed, a member redeems the
reward for two fresh coupons; then, timed, the warm real handlers against DynamoDB Local: a purchase of
the 20-line cart (the earn function), a checkout PUT of that cart with both coupons and 1,000 points,
and its confirm (the checkout function), and for reference the same purchase in a twin program whose
9 purchase campaigns apply (a purchase as campaign-laden as the cart); the purchases go first in even
rounds and last in odd ones, so the machine's noise falls on all of them alike. Every request's
DynamoDB calls are counted at botocore, and every round must price the cart the same: the bench fails
loudly otherwise.

Billed capacity is computed as AWS bills it, from the items themselves, not from DynamoDB Local's
ConsumedCapacity: each item's size by the "Item sizes and formats" formula (attribute names + values),
a read 1 unit per 4 KB strongly consistent (GetItem, and BatchGetItem per item; a key not found 1
unit), a transaction 2 units per KB per item (rounded up per item) on the larger of the item before
and after the write (a ConditionCheck on the item checked). The TransactWriteItems request is captured
on probe rounds after the timed ones, the items it touches read before and after it.

The rules alone: `rules/checkout.price` plus the `points_to_earn` evaluation (`usecases.checkout.
priced_view`), on the profile and coupons as read, answers served from memory.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sys
import time
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers" / "core"))

from local.dynamodb import client  # noqa: E402
from local.stack import handler_env  # noqa: E402
from tests.integration.ddb_local import ddb_local  # noqa: E402
from tests.support import Context, http_event, load_function  # noqa: E402

from .checkout_rule import CART, ITEMS, document  # noqa: E402
from .common import pct  # noqa: E402
from .warm import BENCH_ENV, WARM_ENV, Meter  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_CHECKOUT_ROUNDS", "300"))
EVALUATIONS = int(os.environ.get("BENCH_CHECKOUT_EVALUATIONS", "2000"))
PROBES = 3  # untimed rounds whose transactions are sized
CONFIRMS_PER_MEMBER = 4  # under the `campaign.uses_by_member < 5` campaign's limit: every round prices alike
POINTS = 1000
SUBTOTAL = sum(i["quantity"] * i["unit_price_minor"] for i in ITEMS)
PURCHASE = {
    "amount_minor": SUBTOTAL,
    "items": [
        {
            "sku": i["sku"],
            "category": i["category"],
            "quantity": i["quantity"],
            "amount_minor": i["quantity"] * i["unit_price_minor"],
        }
        for i in ITEMS
    ],
    "store_id": CART["store_id"],
    "channel": CART["channel"],
    "scene": CART["scene"],
}  # + an order id
CALLS = {
    "purchase": Counter({"GetItem": 1, "TransactWriteItems": 1}),
    "purchase, 9 campaigns": Counter({"GetItem": 1, "TransactWriteItems": 1}),
    "checkout PUT": Counter({"BatchGetItem": 1, "TransactWriteItems": 1}),
    "confirm": Counter({"BatchGetItem": 1, "TransactWriteItems": 1}),
}
REWARD = {"id": "bench-pair", "name": "two coupons", "cost_points": 1, "grant": {"coupons": ["tea15", "c10"]}}
GOAL = 1.25
RESULTS = Path(os.environ.get("BENCH_RESULTS", ROOT / "bench" / "results"))
RULES_GOAL_MS = 2.0


def bench_document() -> dict[str, Any]:
    """The rule bench's program, a reward of its two coupons, and diamond out of reach: the members stay
    gold (as in the rule bench), so the tier campaigns hold every round."""
    doc = document()
    doc["rewards"] = [*doc["rewards"], REWARD]
    for level in doc["tiers"]["levels"]:
        if level["id"] == "diamond":
            level["threshold"] = 10**12
    return doc


def rich_document() -> dict[str, Any]:
    """For reference: the same program whose purchases apply 9 campaigns (a point each), so a purchase
    writes what the confirm writes for its 9 checkout campaigns (a campaign_applied notice each)."""
    doc = bench_document()
    doc["campaigns"] = [
        {"id": f"r{k}", "name": f"r{k}", "trigger": "purchase", "when": "true", "effects": [{"points": 1}]}
        for k in range(9)
    ]
    return doc


def fail(message: str) -> None:
    raise SystemExit(f"bench.checkout: {message}")


# --- Item sizes and billed units, as AWS documents them ---------------------------------------------


def number_size(text: str) -> int:
    """1 byte per two significant digits (leading and trailing zeros trimmed), plus 1."""
    digits = str(Decimal(text).normalize()).lstrip("-").replace(".", "").lstrip("0") or "0"
    digits = digits.split("E")[0]  # a large integer normalises to d.ddE+n: the exponent is not a digit
    return math.ceil(len(digits) / 2) + 1


def value_size(value: dict[str, Any]) -> int:
    """The size of one attribute value (wire format, {"S": ...}), without its name."""
    (kind, v), *_ = value.items()
    if kind == "S":
        return len(v.encode())
    if kind == "N":
        return number_size(v)
    if kind == "B":
        return len(v)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":  # 3 bytes for the list, 1 per element
        return 3 + sum(1 + value_size(e) for e in v)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + value_size(e) for k, e in v.items())
    if kind == "SS":
        return sum(len(e.encode()) for e in v)
    if kind == "NS":
        return sum(number_size(e) for e in v)
    if kind == "BS":
        return sum(len(e) for e in v)
    raise ValueError(f"unknown attribute type {kind}")


def item_size(item: dict[str, Any]) -> int:
    return sum(len(name.encode()) + value_size(v) for name, v in item.items())


def read_units(size: int | None) -> int:
    """A strongly consistent read of one item: 1 unit per 4 KB, rounded up; a key not found 1 unit."""
    return 1 if size is None else max(1, math.ceil(size / 4096))


def write_units(size: int) -> int:
    """One item written in a transaction: 2 units per KB, rounded up per item."""
    return 2 * max(1, math.ceil(size / 1024))


class Billing:
    """Sizes what the handler's client reads (from the answers) and what its transaction touches (the
    items before and after it, read by a second client): the AWS bill of one request."""

    def __init__(self, ddb: Any, raw: Any) -> None:
        self.raw = raw
        self.reads: list[tuple[str, int | None]] = []  # (sort key, size or None for a key not found)
        self.writes: list[tuple[str, str, int]] = []  # (action, sort key, size billed)
        self.params: dict[str, Any] = {}
        self.before: list[int | None] = []
        self.on = False
        events = ddb.meta.events
        events.register("before-parameter-build.dynamodb", self._before)
        events.register("after-call.dynamodb", self._after)

    def start(self) -> None:
        self.reads, self.writes, self.on = [], [], True

    def stop(self) -> dict[str, Any]:
        self.on = False
        return {
            "read_units": sum(read_units(s) for _, s in self.reads),
            "write_units": sum(write_units(s) for _, _, s in self.writes),
            "reads": self.reads,
            "writes": self.writes,
        }

    def _stored(self, table: str, key: dict[str, Any]) -> int | None:
        got = self.raw.get_item(TableName=table, Key=key, ConsistentRead=True)
        return item_size(got["Item"]) if "Item" in got else None

    @staticmethod
    def _target(action: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        (body,) = action.values()
        key = body.get("Key") or {k: body["Item"][k] for k in ("pk", "sk")}
        return body["TableName"], key

    def _before(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        if self.on:
            self.params = params
            if model.name == "TransactWriteItems":
                self.before = [self._stored(*self._target(a)) for a in params["TransactItems"]]

    def _after(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        if not self.on or "Error" in parsed:
            return
        params = self.params
        if model.name == "GetItem":
            self.reads.append((params["Key"]["sk"]["S"], item_size(parsed["Item"]) if "Item" in parsed else None))
        elif model.name == "BatchGetItem":
            found = {i["sk"]["S"]: item_size(i) for items in parsed["Responses"].values() for i in items}
            for ask in params["RequestItems"].values():
                self.reads += [(k["sk"]["S"], found.get(k["sk"]["S"])) for k in ask["Keys"]]
        elif model.name == "TransactWriteItems":
            for action, before in zip(params["TransactItems"], self.before, strict=True):
                (kind, _), *_ = action.items()
                after = None if kind in ("Delete", "ConditionCheck") else self._stored(*self._target(action))
                sk = self._target(action)[1]["sk"]["S"]
                self.writes.append((kind, sk, max(before or 0, after or 0)))


# --- The run ------------------------------------------------------------------------------------------


def main() -> None:
    members = max(1, math.ceil((ROUNDS + PROBES + 1) / CONFIRMS_PER_MEMBER))
    pid, rich = "checkout", "rich"
    base = f"/programs/{pid}/members"
    with ddb_local() as ddb, open(os.devnull, "w") as sink:
        # A warm container keeps the program for the whole run (no re-read in the timed requests).
        os.environ.update(handler_env(ddb.endpoint) | BENCH_ENV | WARM_ENV | {"PROGRAM_CACHE_TTL_SECONDS": "3600"})
        fns = {name: load_function(name).handler for name in ("programs", "enrol", "earn", "redeem", "checkout")}
        from loyalty.runtime import store

        meter = Meter(store().client)
        billing = Billing(store().client, client(ddb.endpoint, store().client.meta.config))
        inside: list[tuple[str, float]] = []  # (operation, seconds in botocore: the call, its (de)serialisation)
        make_call = store().client._make_api_call

        def timed(operation: str, params: dict[str, Any]) -> Any:
            start = time.perf_counter()
            try:
                return make_call(operation, params)
            finally:
                inside.append((operation, time.perf_counter() - start))

        store().client._make_api_call = timed
        # DynamoDB Local's own share: the HTTP exchange of each call (request out, answer read), without
        # botocore's building, validating and parsing around it.
        session = store().client._endpoint.http_session
        send = session.send

        def on_wire(request: Any) -> Any:
            start = time.perf_counter()
            try:
                return send(request)
            finally:
                wire.append(time.perf_counter() - start)

        wire: list[float] = []
        session.send = on_wire

        def request(fn: str, method: str, path: str, body: Any) -> Callable[[], dict[str, Any]]:
            handler, event, context = fns[fn], http_event(method, path, body), Context()
            return lambda: handler(event, context)

        def call(fn: str, method: str, path: str, body: Any) -> dict[str, Any]:
            with contextlib.redirect_stdout(sink):  # the handlers' EMF lines
                reply = request(fn, method, path, body)()
            if reply["statusCode"] >= 300:
                fail(f"{method} {path}: {reply['statusCode']} {reply['body']}")
            return json.loads(reply["body"])

        call("programs", "PUT", f"/programs/{pid}", bench_document())
        call("programs", "PUT", f"/programs/{rich}", rich_document())
        for m in range(members):
            for members_of in (base, f"/programs/{rich}/members"):
                call("enrol", "POST", members_of, {"member_id": f"m{m}"})
                # Untimed: gold (and points to spend), then one purchase like the timed ones.
                big = {"order_id": f"big-{m}", "amount_minor": 150000}
                call("earn", "POST", f"{members_of}/m{m}/purchases", big)
                call("earn", "POST", f"{members_of}/m{m}/purchases", PURCHASE | {"order_id": f"warm-{m}"})

        def cart(r: int) -> tuple[str, dict[str, Any]]:
            """Round r's member, and its cart with two fresh coupons (an untimed redemption)."""
            mid = f"m{r % members}"
            got = call(
                "redeem", "POST", f"{base}/{mid}/redemptions", {"redemption_id": f"rd{r}", "reward_id": "bench-pair"}
            )
            by_template = {c["template_id"]: c["coupon_id"] for c in got["coupons"]}
            return mid, CART | {"coupon_ids": [by_template["tea15"], by_template["c10"]], "points_to_use": POINTS}

        def steps(r: int, mid: str, body: dict[str, Any]) -> list[tuple[str, Callable[[], dict[str, Any]]]]:
            path = f"{base}/{mid}/checkouts/k{r}"
            total: list[int] = []

            def put() -> dict[str, Any]:
                reply = request("checkout", "PUT", path, body)()
                if reply["statusCode"] == 200:
                    total.append(json.loads(reply["body"])["total_minor"])
                return reply

            def confirm() -> dict[str, Any]:
                paid = {"order_id": f"k{r}", "amount_paid_minor": total[0] if total else 0}
                return request("checkout", "POST", f"{path}/confirm", paid)()

            order = PURCHASE | {"order_id": f"o{r}"}
            buy = [
                ("purchase", request("earn", "POST", f"{base}/{mid}/purchases", order)),
                ("purchase, 9 campaigns", request("earn", "POST", f"/programs/{rich}/members/{mid}/purchases", order)),
            ]
            pair = [("checkout PUT", put), ("confirm", confirm)]
            return [*buy, *pair] if r % 2 == 0 else [*pair, *buy[::-1]]

        samples: dict[str, list[float]] = {name: [] for name in CALLS}
        python: dict[str, list[float]] = {name: [] for name in CALLS}  # the same requests outside botocore
        database: dict[str, list[float]] = {name: [] for name in CALLS}  # their HTTP exchanges with DynamoDB
        per_call: dict[tuple[str, str], list[float]] = {}  # (request, operation) -> ms in botocore
        priced: dict[str, Any] = {}
        for r in range(-1, ROUNDS):  # round -1 warms each code path, untimed
            mid, body = cart(r)
            for name, invoke in steps(r, mid, body):
                meter.reset()
                inside.clear()
                wire.clear()
                with contextlib.redirect_stdout(sink):
                    start = time.perf_counter()
                    reply = invoke()
                    elapsed = (time.perf_counter() - start) * 1000
                meter.recorded.clear()
                if reply["statusCode"] not in (200, 201):
                    fail(f"{name} round {r}: {reply['statusCode']} {reply['body']}")
                if meter.calls != CALLS[name]:
                    fail(f"{name} round {r}: made {dict(meter.calls)}, not {dict(CALLS[name])}")
                if name == "checkout PUT":
                    answer = json.loads(reply["body"])
                    shape = {k: answer[k] for k in ("total_minor", "points_used", "campaigns", "points_to_earn")}
                    shape["coupons"] = [c["applied"] for c in answer["coupons"]]
                    if priced.setdefault("shape", shape) != shape:
                        fail(f"round {r}: priced {shape}, not {priced['shape']}")
                if r >= 0:
                    samples[name].append(elapsed)
                    python[name].append(elapsed - sum(t for _, t in inside) * 1000)
                    database[name].append(sum(wire) * 1000)
                    for operation, t in inside:
                        per_call.setdefault((name, operation), []).append(t * 1000)

        bills: dict[str, list[dict[str, Any]]] = {name: [] for name in CALLS}
        for r in range(ROUNDS, ROUNDS + PROBES):
            mid, body = cart(r)
            for name, invoke in steps(r, mid, body):
                billing.start()
                with contextlib.redirect_stdout(sink):
                    invoke()
                bills[name].append(billing.stop())

        rules_ms = evaluation(store(), pid, f"m{(ROUNDS + PROBES) % members}", cart, ROUNDS + PROBES)

    report(samples, python, database, per_call, bills, rules_ms, priced["shape"], members)


def evaluation(
    store: Any, pid: str, mid: str, cart: Callable[[int], tuple[str, dict[str, Any]]], r: int
) -> dict[str, list[float]]:
    """ms of the PUT's rules alone (the pricing, then `points_to_earn`), on a member as stored with two
    fresh coupons: one read, then every evaluation from memory."""
    from loyalty import clock
    from loyalty.rules import checkout
    from loyalty.schemas import CheckoutBody
    from loyalty.usecases import checkout as usecase
    from loyalty.usecases import programs

    _, body = cart(r)
    program, now = programs.load(store, pid), clock.now()
    parsed = CheckoutBody.model_validate(body)
    basket, budgets = usecase.cart_of(parsed), usecase.budget_keys(program, now)
    profile, _, coupons, taken = usecase.read(store, pid, mid, "eval", basket.coupon_ids, budgets)
    held = usecase.held(program, profile, taken, now, "eval")
    out: dict[str, list[float]] = {"price": [], "points_to_earn": [], "both": []}
    for i in range(EVALUATIONS + 1):  # the first, untimed
        start = time.perf_counter()
        priced = checkout.price(program, profile, basket, coupons, parsed.points_to_use, now, held)
        middle = time.perf_counter()
        usecase.priced_view(program, profile, basket, priced, now, taken)
        end = time.perf_counter()
        if i:
            out["price"].append((middle - start) * 1000)
            out["points_to_earn"].append((end - middle) * 1000)
            out["both"].append((end - start) * 1000)
    return out


def floor(samples: dict[str, list[float]], database: dict[str, list[float]]) -> str:
    """What DynamoDB Local's answers alone allow: a request that does a purchase's Python and more can be
    no faster than the purchase plus the extra time DynamoDB Local takes over its own calls."""
    base, base_db = pct(samples["purchase"], 50), pct(database["purchase"], 50)
    parts = [
        f"{name} {(base + pct(database[name], 50) - base_db) / base:.2f}x"
        f" ({pct(database[name], 50):.2f} ms in DynamoDB Local against the purchase's {base_db:.2f} ms)"
        for name in ("checkout PUT", "confirm")
    ]
    return (
        "Floor on this DynamoDB Local (the purchase's p50 plus only the extra time DynamoDB Local spends"
        " answering the request's calls, each call's HTTP exchange timed under botocore): " + "; ".join(parts) + "."
    )


def report(
    samples: dict[str, list[float]],
    python: dict[str, list[float]],
    database: dict[str, list[float]],
    per_call: dict[tuple[str, str], list[float]],
    bills: dict[str, list[dict[str, Any]]],
    rules_ms: dict[str, list[float]],
    shape: dict[str, Any],
    members: int,
) -> None:
    base = pct(samples["purchase"], 50)
    calls = {
        name: ", ".join(f"{v} {k} ({pct(per_call[name, k], 50):.1f} ms)" for k, v in sorted(c.items()))
        for name, c in CALLS.items()
    }

    def bill(name: str) -> str:
        b = max(bills[name], key=lambda b: b["read_units"] + b["write_units"])
        kinds = Counter(kind for kind, _, _ in b["writes"])
        return (
            f"{b['read_units']} RCU ({len(b['reads'])} items read) + {b['write_units']} WCU"
            f" ({', '.join(f'{v} {k}' for k, v in sorted(kinds.items()))})"
        )

    rules = {k: pct(v, 50) for k, v in rules_ms.items()}
    lines = [
        f"DynamoDB Local on this machine (2 cores, shared), one run: the real handlers, warm, in-process;"
        f" {ROUNDS} rounds, {members} gold members; a cart of {len(ITEMS)} lines ({SUBTOTAL} minor at unit prices),"
        f" 10 checkout campaigns ({len(shape['campaigns'])} apply), 2 coupons ({sum(shape['coupons'])} apply),"
        f" {shape['points_used']} points; the purchase is the same 20 lines at unit prices.",
        "",
        "| request | DynamoDB calls (p50 in botocore) | p50 ms | p95 ms | ratio to the purchase (p50)"
        f" | outside botocore p50 ms | DynamoDB Local p50 ms | billed in AWS (largest of {PROBES} probes) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
        *[
            f"| {name} | {calls[name]} | {pct(s, 50):.2f} | {pct(s, 95):.2f} | {pct(s, 50) / base:.2f}x"
            f" | {pct(python[name], 50):.2f} | {pct(database[name], 50):.2f} | {bill(name)} |"
            for name, s in samples.items()
        ],
        "",
        floor(samples, database),
        "",
        f"Rules alone (median of {EVALUATIONS}, no I/O): rules/checkout.price {rules['price']:.2f} ms,"
        f" points_to_earn {rules['points_to_earn']:.2f} ms, together {rules['both']:.2f} ms"
        f" (p95 {pct(rules_ms['both'], 95):.2f} ms).",
        "",
        f"Goals (issue 29): each at most {GOAL}x the purchase: "
        + ", ".join(
            f"{name} {r:.2f}x ({'met' if r <= GOAL else 'NOT met'})"
            for name in ("checkout PUT", "confirm")
            for r in [pct(samples[name], 50) / base]
        )
        + f"; rules under {RULES_GOAL_MS} ms: {rules['both']:.2f} ms"
        f" ({'met' if rules['both'] < RULES_GOAL_MS else 'NOT met'}). For reference, the confirm against a"
        f" purchase applying 9 campaigns (as campaign-laden as the cart, one notice each):"
        f" {pct(samples['confirm'], 50) / pct(samples['purchase, 9 campaigns'], 50):.2f}x.",
    ]
    for name, b in bills.items():
        worst = max(b, key=lambda b: b["read_units"] + b["write_units"])
        lines += ["", f"{name}, items billed: reads " + ", ".join(f"{sk} {s} B" for sk, s in worst["reads"])]
        lines += ["  writes " + ", ".join(f"{k} {sk} {s} B" for k, sk, s in worst["writes"])]
    text = "\n".join(lines)
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "checkout.md").write_text(text + "\n")


if __name__ == "__main__":
    main()
