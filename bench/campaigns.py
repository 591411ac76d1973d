"""`make bench-campaigns`: what campaigns cost a purchase (issue 16: under 1.1x at 5 active campaigns,
under 1.5x at 50, against the same purchase with none), as ratios in one run.

Programs that differ only in their campaigns are PUT side by side: none; 5 and 50 active purchase
campaigns (conditions on member.tier, order.amount_minor, order.items, at.weekday; effects mixing
points, multiply_points with and without on_items, points_per_unit and coupons, some with budgets,
member limits or an active window; one in ten holds for the sample order, so both paths are timed);
the same 5 and 50 with none holding (the evaluation alone: the transaction is the one with none);
and 50 campaigns of the other triggers, which a purchase must not pay for. The same warm purchase
(a new order id each time, a pool of members per program, 5 item lines) goes through the real earn
handler against DynamoDB Local, the cases interleaved round by round (their order shuffled each round), so the
machine's noise falls on all of them alike.

Every purchase must make the same calls, 1 GetItem + 1 TransactWriteItems (counted at botocore as
bench/warm.py counts them), and every round the same campaigns must apply: the bench fails loudly
otherwise. The evaluation alone (`rules.campaigns.run` on a Change, and the purchase's whole rules,
`usecases.earning.evaluate_purchase`, no I/O) is timed too, in µs, so DynamoDB's noise hides nothing.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers" / "core"))

from local.stack import handler_env  # noqa: E402
from tests.integration.ddb_local import ddb_local  # noqa: E402
from tests.support import program  # noqa: E402

from .cel import ITEMS  # noqa: E402 - the sample order's 5 lines: tea x2, two cakes, coffee, a gift
from .common import pct  # noqa: E402
from .warm import BENCH_ENV, WARM_ENV, Handlers, Meter  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_CAMPAIGNS_ROUNDS", "500"))
EVALUATIONS = int(os.environ.get("BENCH_CAMPAIGNS_EVALUATIONS", "2000"))
MEMBERS = 10  # per program: a member's profile and wallet grow by one purchase every MEMBERS rounds
AMOUNT = 7800  # the order; its lines (ITEMS) sum to 6000
PURCHASE = {"amount_minor": AMOUNT, "items": ITEMS, "store_id": "s1", "channel": "app"}  # + an order id
CALLS = Counter({"GetItem": 1, "TransactWriteItems": 1})  # every purchase, whatever its campaigns
OTHER_TRIGGERS = ("activity", "enrolment", "refund", "redemption", "tier_changed", "card_purchase")
BUDGET = {"points": 10**12, "coupons": 10**9}  # taken on every application, never spent in a run
COUPONS = {
    "tea-5": {"name": "5 off tea", "kind": "amount_off", "value_minor": 500, "valid_days": 7},
    "gift-5": {"name": "5 off a gift", "kind": "amount_off", "value_minor": 500, "valid_days": 30},
}


def applying(weekday: int) -> list[dict[str, Any]]:
    """The campaigns that hold for the sample order of a diamond member (`weekday`: today's, local)."""
    every_day = {"per_member": {"count": 10**6, "per": "day"}}
    return [
        {
            "when": "order.amount_minor >= 3000 && member.tier in ['gold', 'diamond']"
            " && order.items.exists(i, i.category == 'tea')",
            "effects": [{"multiply_points": 3, "on_items": "i.category == 'tea'"}, {"coupons": ["tea-5"]}],
            "limits": {"budget": BUDGET},
        },
        {
            "when": f"at.weekday == {weekday} && order.items.filter(i, i.category == 'cake').size() >= 2",
            "effects": [{"points_per_unit": {"points": 1, "unit_minor": 100}, "on_items": "i.category == 'cake'"}],
            "limits": every_day,
        },
        {"when": "order.amount_minor >= 5000 && order.items.size() >= 3", "effects": [{"points": 20}]},
        {"when": "member.tier == 'diamond' && member.orders_total >= 1", "effects": [{"multiply_points": 2}]},
        {
            "when": "order.items.exists(i, i.sku.startsWith('gift-'))",
            "effects": [{"points": 5}, {"coupons": ["gift-5"]}],
            "limits": {"budget": BUDGET} | every_day,
        },
    ]


def idle(k: int) -> dict[str, Any]:
    """The k-th campaign that does not hold for the sample order (each fails on a different fact)."""
    whens = [
        f"member.tier == 'star' && order.amount_minor >= {2000 + 100 * k}",
        f"at.weekday in [6, 7] && order.amount_minor >= {100000 + 1000 * k}",
        f"order.items.exists(i, i.category == 'baby-{k}')",
        f"member.orders_total == 0 && order.amount_minor >= {100 * k}",
        f"order.store_id == 'store-{k}' && order.amount_minor >= 3000",
        f"'vip-{k}' in member.tags",
        f"order.items.filter(i, i.category == 'cake').size() >= {3 + k % 3}",
        f"member.lifetime_spend_minor >= {10**9 + k} && member.tier != 'star'",
        f"order.items.all(i, i.quantity >= {2 + k % 2})",
    ]
    effects = [
        [{"multiply_points": 2, "on_items": f"i.category == 'tea' && i.amount_minor >= {1000 + k}"}],
        [{"points": 10 + k}],
        [{"coupons": ["tea-5"]}],
        [{"points_per_unit": {"points": 2, "unit_minor": 100}, "on_items": "i.category in ['cake', 'coffee']"}],
        [{"multiply_points": 1.5}, {"coupons": ["gift-5"]}],
    ]
    limits = [{}, {"budget": BUDGET}, {"per_member": {"count": 1, "per": "week"}}]
    return {"when": whens[k % len(whens)], "effects": effects[k % len(effects)], "limits": limits[k % len(limits)]}


def purchase_campaigns(n: int, weekday: int, now: datetime, holding: bool = True) -> list[dict[str, Any]]:
    """n active purchase campaigns, one in ten holding (at least one; with `holding` False, that one
    too is an idle one: the same evaluation, nothing more written), priorities mixed, a third of them
    with an active window around now."""
    count = max(1, n // 10)
    holds = applying(weekday)[:count] if holding else [idle(100 + b) for b in range(count)]
    block = n // len(holds)
    window = {"from": (now - timedelta(days=1)).isoformat(), "until": (now + timedelta(days=30)).isoformat()}
    out = []
    for b, first in enumerate(holds):
        out += [first, *(idle(b * block + k) for k in range(block - 1))]
    return [
        {
            "id": f"c{j}",
            "name": f"campaign {j}",
            "trigger": "purchase",
            "priority": (j * 7) % 21 - 10,
            **({"active": window} if j % 3 == 0 else {}),
            **c,
        }
        for j, c in enumerate(out)
    ]


def other_campaigns(n: int) -> list[dict[str, Any]]:
    """n campaigns of the other triggers (a purchase must not even look at them)."""
    out = []
    for k in range(n):
        trigger = OTHER_TRIGGERS[k % len(OTHER_TRIGGERS)]
        when = {
            "activity": f"activity.type == 'check_in' && activity.streak_days == {2 + k % 5}",
            "refund": f"order.amount_minor >= {1000 * k}",
        }.get(trigger, f"member.tier == 'gold' && member.orders_total >= {k}")
        effect = [{"points": 10 + k}, {"coupons": ["tea-5"]}, {"growth": 5}, {"tag": f"t{k}"}][k % 4]
        out.append({"id": f"o{k}", "name": f"other {k}", "trigger": trigger, "when": when, "effects": [effect]})
    return out


def cases(now: datetime) -> dict[str, list[dict[str, Any]]]:
    """program id -> its campaigns; the first is the baseline."""
    weekday = now.astimezone(ZoneInfo(program("demo")["timezone"])).isoweekday()
    return {
        "none": [],
        "p5": purchase_campaigns(5, weekday, now),
        "p50": purchase_campaigns(50, weekday, now),
        "p5-idle": purchase_campaigns(5, weekday, now, holding=False),
        "p50-idle": purchase_campaigns(50, weekday, now, holding=False),
        "other50": other_campaigns(50),
    }


LABELS = {
    "none": "none",
    "p5": "5 purchase campaigns",
    "p50": "50 purchase campaigns",
    "p5-idle": "5 purchase campaigns, none holding",
    "p50-idle": "50 purchase campaigns, none holding",
    "other50": "50 campaigns of other triggers",
}


def document(campaigns: list[dict[str, Any]]) -> dict[str, Any]:
    """The demo program with these campaigns only (and the coupons they give)."""
    doc = program("demo")
    doc["coupons"] |= COUPONS
    doc["campaigns"] = campaigns
    return doc


def fail(message: str) -> None:
    raise SystemExit(f"bench.campaigns: {message}")


def enrol_members(handlers: Handlers, pid: str) -> None:
    """The program's MEMBERS, each enrolled, then (untimed) the first-order bonus and the climb to the
    top tier (no upgrade in the timed rounds), then one purchase like the timed ones."""
    base = f"/programs/{pid}/members"
    for m in range(MEMBERS):
        handlers.call("enrol", "POST", base, {"member_id": f"m{m}"})
        handlers.call("earn", "POST", f"{base}/m{m}/purchases", {"order_id": f"big-{m}", "amount_minor": 600000})
        handlers.call("earn", "POST", f"{base}/m{m}/purchases", PURCHASE | {"order_id": f"warm-{m}"})


def main() -> None:
    now = datetime.now(UTC)
    programs = cases(now)
    with ddb_local() as ddb, open(os.devnull, "w") as sink:
        os.environ.update(handler_env(ddb.endpoint) | BENCH_ENV | WARM_ENV)
        handlers = Handlers(("programs", "enrol", "earn"), sink, fail)
        from loyalty.runtime import store

        meter = Meter(store().client)
        for pid, campaigns in programs.items():
            handlers.call("programs", "PUT", f"/programs/{pid}", document(campaigns))
            enrol_members(handlers, pid)

        samples: dict[str, list[float]] = {pid: [] for pid in programs}
        applied: dict[str, list[str]] = {}
        items: dict[str, int] = {}
        order = list(programs)
        shuffle = random.Random(31)  # seeded: a run is repeatable
        for r in range(ROUNDS):
            # A fresh order every round: a fixed rotation gave each case the same predecessor (the
            # 5-campaign case always ran right after the 50-campaign one's 16-item write), and it paid for it.
            for pid in shuffle.sample(order, len(order)):
                path = f"/programs/{pid}/members/m{r % MEMBERS}/purchases"
                invoke = handlers.request("earn", "POST", path, PURCHASE | {"order_id": f"o{r}"})
                meter.reset()
                meter.recorded.clear()
                reply, ms = handlers.timed(invoke)
                samples[pid].append(ms)
                if reply["statusCode"] != 201:
                    fail(f"{pid} round {r}: {reply['statusCode']} {reply['body']}")
                if meter.calls != CALLS:
                    fail(f"{pid} round {r}: the purchase made {dict(meter.calls)}, not {dict(CALLS)}")
                ids = [c["campaign_id"] for c in json.loads(reply["body"])["breakdown"]["campaigns"]]
                if applied.setdefault(pid, ids) != ids:
                    fail(f"{pid} round {r}: campaigns {ids} applied, not {applied[pid]} (a local midnight?)")
                writes = [p for op, p in meter.recorded if op == "TransactWriteItems"]
                items[pid] = max(items.get(pid, 0), len(writes[0]["TransactItems"]))

        run_us, rules_us = evaluation(store(), programs, applied)

    base = "none"
    lines = [
        f"DynamoDB Local on this machine, one run: the real earn handler, warm, in-process; {ROUNDS} rounds,"
        f" the cases interleaved; a purchase of {AMOUNT} minor with {len(ITEMS)} lines, {MEMBERS} members per"
        f" program. Rules alone: median of {EVALUATIONS} evaluations per case, no I/O.",
        "",
        "| case | campaigns applied | DynamoDB calls per purchase | items in the transaction | p50 ms | p99 ms"
        " | ratio to none (p50) | campaigns.run µs | purchase rules µs | rules ratio |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        *[
            f"| {LABELS[pid]} | {len(applied[pid])} | 1 GetItem, 1 TransactWriteItems | {items[pid]}"
            f" | {pct(samples[pid], 50):.2f} | {pct(samples[pid], 99):.2f}"
            f" | {pct(samples[pid], 50) / pct(samples[base], 50):.2f}x | {pct(run_us[pid], 50):.0f}"
            f" | {pct(rules_us[pid], 50):.0f} | {pct(rules_us[pid], 50) / pct(rules_us[base], 50):.2f}x |"
            for pid in programs
        ],
        "",
        "Goal (issue 16): under 1.1x at 5, under 1.5x at 50: "
        + ", ".join(
            f"{n}: {r:.2f}x ({'met' if r < goal else 'NOT met'})"
            for n, pid, goal in ((5, "p5", 1.1), (50, "p50", 1.5))
            for r in [pct(samples[pid], 50) / pct(samples[base], 50)]
        ),
    ]
    text = "\n".join(lines)
    print(text)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "campaigns.md").write_text(text + "\n")


def evaluation(
    store: Any, programs: dict[str, Any], applied: dict[str, list[str]]
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """µs per purchase of `rules.campaigns.run` alone and of the purchase's whole rules, on each
    program as the handler holds it (compiled, cached) and its member m0 as stored, interleaved."""
    from loyalty.rules import campaigns, earning
    from loyalty.rules.posting import Change
    from loyalty.schemas import Purchase
    from loyalty.usecases import programs as loaded
    from loyalty.usecases.earning import evaluate_purchase

    run_us: dict[str, list[float]] = {pid: [] for pid in programs}
    rules_us: dict[str, list[float]] = {pid: [] for pid in programs}
    at = datetime.now(UTC)
    body = Purchase.model_validate(PURCHASE | {"order_id": "eval"})
    setup = {}
    for pid in programs:
        p, profile = loaded.load(store, pid), store.get_member(pid, "m0")
        factors = earning.multipliers(p, profile, at, at.astimezone(p.zone).date(), body.scene)
        o = campaigns.order(p, AMOUNT, ITEMS, factors, body.store_id, body.channel, body.scene)
        setup[pid] = (p, profile, o)
    for i in range(EVALUATIONS + 1):  # the first, untimed
        for pid, (p, profile, o) in setup.items():
            change = Change.start(p, profile, at)
            event = campaigns.Event("purchase", at, f"order:e{i}", order=o)
            start = time.perf_counter()
            gave = campaigns.run(change, event)
            run_s = time.perf_counter() - start
            start = time.perf_counter()
            evaluate_purchase(p, profile, body, at, at, set())
            rules_s = time.perf_counter() - start
            if [a.campaign_id for a in gave] != applied[pid]:
                fail(f"{pid}: the rules alone applied {[a.campaign_id for a in gave]}, the handler {applied[pid]}")
            if i:
                run_us[pid].append(run_s * 1e6)
                rules_us[pid].append(rules_s * 1e6)
    return run_us, rules_us


if __name__ == "__main__":
    main()
