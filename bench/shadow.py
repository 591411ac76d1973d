"""`make bench-shadow`: what an active shadow run costs a purchase (issue 34: at most 1.3x its p50,
and no round trip more, with a draft of 20 campaigns), as a ratio in one run.

Two programs differ only in their shadow run: both have the same 20 active purchase campaigns
(bench/campaigns.py's mix: conditions on member.tier, order.amount_minor, order.items, at.weekday; two
of them hold for the sample order), and one has a draft of 20 other campaigns (the same with their
points doubled and their coupons dropped) shadowing it until tomorrow. The same warm purchase goes
through the real earn handler against DynamoDB Local, the two cases interleaved round by round in a
shuffled order. Every purchase must make 1 GetItem + 1 TransactWriteItems (the bench fails otherwise):
the draft rides on the program's item, its figures on the order's reference. The purchase's rules
alone, with and without the draft's evaluation, are timed too (µs, no I/O).
"""

from __future__ import annotations

import copy
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers" / "core"))

from local.stack import handler_env  # noqa: E402
from tests.integration.ddb_local import ddb_local  # noqa: E402
from tests.support import program  # noqa: E402

from .campaigns import CALLS, MEMBERS, PURCHASE, document, enrol_members, purchase_campaigns  # noqa: E402
from .common import pct  # noqa: E402
from .warm import BENCH_ENV, WARM_ENV, Handlers, Meter  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_SHADOW_ROUNDS", "400"))
CAMPAIGNS = 20
GOAL = 1.3


def draft_of(campaigns: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Other campaigns of the same shape: points doubled, coupons dropped (a draft worth comparing)."""
    out = copy.deepcopy(campaigns)
    for c in out:
        effects = [e for e in c["effects"] if "coupons" not in e] or [{"points": 1}]
        c["effects"] = [{**e, "points": e["points"] * 2} if "points" in e else e for e in effects]
    return out


def fail(message: str) -> None:
    raise SystemExit(f"bench.shadow: {message}")


def main() -> None:
    now = datetime.now(UTC)
    weekday = now.astimezone(ZoneInfo(program("demo")["timezone"])).isoweekday()
    live = purchase_campaigns(CAMPAIGNS, weekday, now)
    cases = {"plain": None, "shadowed": draft_of(live)}
    with ddb_local() as ddb, open(os.devnull, "w") as sink:
        os.environ.update(handler_env(ddb.endpoint) | BENCH_ENV | WARM_ENV)
        handlers = Handlers(("programs", "enrol", "earn"), sink, fail)
        from loyalty.runtime import store

        meter = Meter(store().client)
        until = {"until": (now + timedelta(days=1)).isoformat()}
        for pid, draft in cases.items():
            handlers.call("programs", "PUT", f"/programs/{pid}", document(live))
            if draft is not None:
                handlers.call("programs", "PUT", f"/programs/{pid}/drafts/d20", document(draft))
                handlers.call("programs", "POST", f"/programs/{pid}/drafts/d20/shadow", until)
            enrol_members(handlers, pid)

        samples: dict[str, list[float]] = {pid: [] for pid in cases}
        shuffle = random.Random(34)
        for r in range(ROUNDS):
            for pid in shuffle.sample(list(cases), len(cases)):
                path = f"/programs/{pid}/members/m{r % MEMBERS}/purchases"
                invoke = handlers.request("earn", "POST", path, PURCHASE | {"order_id": f"o{r}"})
                meter.reset()
                reply, ms = handlers.timed(invoke)
                samples[pid].append(ms)
                if reply["statusCode"] != 201:
                    fail(f"{pid} round {r}: {reply['statusCode']} {reply['body']}")
                if meter.calls != CALLS:
                    fail(f"{pid} round {r}: the purchase made {dict(meter.calls)}, not {dict(CALLS)}")
        rules = evaluation(store(), cases)

    ratio = pct(samples["shadowed"], 50) / pct(samples["plain"], 50)
    lines = [
        f"DynamoDB Local on this machine, one run: the real earn handler, warm, in-process; {ROUNDS} rounds, the"
        f" two cases interleaved; {CAMPAIGNS} live purchase campaigns in both, a draft of {CAMPAIGNS} shadowing"
        " one of them.",
        "",
        "| case | DynamoDB calls per purchase | p50 ms | p99 ms | purchase rules µs (p50) |",
        "| --- | --- | --- | --- | --- |",
        *[
            f"| {'no shadow run' if pid == 'plain' else f'a shadow draft of {CAMPAIGNS} campaigns'}"
            f" | 1 GetItem, 1 TransactWriteItems | {pct(samples[pid], 50):.2f} | {pct(samples[pid], 99):.2f}"
            f" | {pct(rules[pid], 50):.0f} |"
            for pid in cases
        ],
        "",
        f"Ratio (p50, with / without): {ratio:.2f}x; goal (issue 34) at most {GOAL}x:"
        f" {'met' if ratio <= GOAL else 'NOT met'}. (The stream counter, which adds the figures up, runs"
        " apart from the purchase and is not timed.)",
    ]
    text = "\n".join(lines)
    print(text)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "shadow.md").write_text(text + "\n")


def evaluation(store: Any, cases: dict[str, Any]) -> dict[str, list[float]]:
    """µs of a purchase's rules on member m0 as stored: alone, and with the draft's beside it."""
    from loyalty.rules.posting import Change
    from loyalty.schemas import Purchase
    from loyalty.usecases import programs, shadows
    from loyalty.usecases.earning import evaluate_purchase

    at = datetime.now(UTC)
    body = Purchase.model_validate(PURCHASE | {"order_id": "eval"})
    out: dict[str, list[float]] = {pid: [] for pid in cases}

    def side(other: Any, profile: Any) -> tuple[Change, int]:
        c, r, _ = evaluate_purchase(other, profile, body, at, at, set())
        return c, r["points_earned"]

    setup = {
        pid: (programs.load(store, pid), programs.shadow(store, pid, at), store.get_member(pid, "m0")) for pid in cases
    }
    for i in range(1001):
        for pid, (p, run, profile) in setup.items():
            start = time.perf_counter()
            change, result, _ = evaluate_purchase(p, profile, body, at, at, set())
            if run is not None:
                shadows.observe(run, (change, result["points_earned"]), lambda other, p=profile: side(other, p))
            if i:
                out[pid].append((time.perf_counter() - start) * 1e6)
    return out


if __name__ == "__main__":
    main()
