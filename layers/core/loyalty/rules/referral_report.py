"""The referral figures (GET /programs/{program_id}/referrals): what a stream record adds to them, and
the figures of a range of days from those counters. Counted by the health counter (rules/health.deltas
calls `deltas`), each record once, into two kinds of STATS items:
- per program-local day (`referral_day`): referees enrolled, referrals converted, rewards given to
  either side (points: the ledger entries a referral credited, released pending ones included when
  they are credited; coupons: those issued with a referral source, less those a cancellation revoked:
  net of cancellations, taken off the day they were issued), refusals by reason;
- per day and referrer (`referrer_day`, "{day}#{referrer}"): referees that referrer converted. The top
  list is summed from these at read time: exact for any range, one Query reading one item per referrer
  per day with a conversion (bounded by the range's conversions, never by the member base), and only
  the TOP first kept in the answer.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from .. import clock
from ..program import Program
from ..records import StreamRecord

Period = tuple[str, str]
Add = Callable[[Period, str, int], None]
TOP = 10
COUNTERS = ("enrolled", "converted", "cancelled", "points", "coupons")


def deltas(change: StreamRecord, program: Program, day: Period, add: Add) -> None:
    """What one committed item change adds to the referral counters (nothing for most)."""
    new, old = change.new, change.old
    if new is None:
        return
    ours: Period = ("referral_day", day[1])
    if change.kind == "member":
        _referee(new.get("referred") or {}, (old or {}).get("referred") or {}, old is None, ours, add)
    elif change.kind == "ledger" and old is None and new.get("reason") == "referral" and not new.get("wallet"):
        add(ours, "points", int(new["points"]))
    elif change.kind == "coupon" and str(new.get("source", "")).startswith("referral:"):
        _coupon(new, old, program, ours, add)
    elif change.kind == "referral" and old is None and new.get("referral_outcome") == "refused":
        add(ours, f"refused:{new.get('referral_reason')}", 1)


def _coupon(new: dict[str, Any], old: dict[str, Any] | None, program: Program, day: Period, add: Add) -> None:
    """A referral coupon issued counts; revoked (its referral cancelled) it no longer does, taken off the
    day it was issued on: the rewards are net of cancellations, as the points are (cancelled pending
    points never reach the ledger), and no range counts below 0."""
    if old is None:
        add(day, "coupons", 1)
    elif new.get("revoked_at") and not old.get("revoked_at") and new.get("valid_from"):
        issued = clock.local_date(clock.parse(str(new["valid_from"])), program.zone).isoformat()
        add(("referral_day", issued), "coupons", -1)


def _referee(after: dict[str, Any], before: dict[str, Any], created: bool, day: Period, add: Add) -> None:
    if not after:
        return
    if created:
        add(day, "enrolled", 1)
    status = after.get("status")
    if status == before.get("status"):
        return
    if status == "converted":
        add(day, "converted", 1)
        add(("referrer_day", f"{day[1]}#{after['by']}"), "converted", 1)
    elif status == "refused":
        add(day, f"refused:{after.get('reason')}", 1)
    elif status == "cancelled":  # a refund inside the window: both sides' pending rewards taken back
        add(day, "cancelled", 1)


def converted(referrers: list[dict[str, Any]], since: Mapping[str, str] | None = None) -> Counter[str]:
    """Referees converted per referrer. With `since` (the referrers still members: the program-local
    day each enrolled) only theirs, and only from that day: an erased referrer's rows are left out, and
    so are those of a former member whose id was enrolled again."""
    counted: Counter[str] = Counter()
    for row in referrers:
        mid = str(row["referrer"])
        if since is None or (mid in since and str(row["day"]) >= since[mid]):
            counted[mid] += int(row.get("converted", 0))
    return counted


def ranked(counted: Counter[str], first: int | None = TOP) -> list[tuple[str, int]]:
    """The `first` referrers with a conversion (None: all), most first, ties by id."""
    return [kv for kv in sorted(counted.items(), key=lambda kv: (-kv[1], kv[0]))[:first] if kv[1]]


def settled(kept: Counter[str], unchecked: int) -> bool:
    """Whether the top list is known from the referrers checked so far: TOP of them count more than
    the most any referrer not checked yet could (`unchecked`: its count before the check)."""
    top = ranked(kept)
    return len(top) == TOP and top[-1][1] > unchecked


def figures(
    days: list[dict[str, Any]], referrers: list[dict[str, Any]], since: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The contract's figures from a range's day counters and its per-referrer day counters (with
    `since`: only the referrers still members, as `converted`)."""
    summed: Counter[str] = Counter()
    for row in days:
        summed.update({k: int(v) for k, v in row.items() if k in COUNTERS or k.startswith("refused:")})
    return {
        "enrolled": summed["enrolled"],
        "converted": summed["converted"],
        "cancelled": summed["cancelled"],
        "rewards": {"points": summed["points"], "coupons": summed["coupons"]},
        "refused": {k.removeprefix("refused:"): n for k, n in sorted(summed.items()) if k.startswith("refused:") and n},
        "top_referrers": [{"member_id": mid, "converted": n} for mid, n in ranked(converted(referrers, since))],
    }
