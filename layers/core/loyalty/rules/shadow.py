"""A shadow run: what a draft would have given on a live event, beside what the live program gave on
it, each side from its own Change of the same event (the draft's is evaluated on a copy and never
committed). Pure: the write keeps the figures on the event's reference, the stream counter adds them up.

One side's figures on an event: `points` (everything the event gave: base earn, bonuses, its campaigns',
the upgrade gifts and the campaigns its tier change set off), `coupons` issued, `discount_minor`
(checkout campaigns' money off), `cost_minor` (the points at that side's point value, rounded down, plus
the money off: a coupon costs only once used, which a draft's never is) and `members_reached`: 1 on the
member's first event of this shadow run on which the side gave anything (in total, and per campaign
on the first event that campaign gave on), remembered on the profile (`shadow_reach`): exact, no scan.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from ..member import Profile
from .posting import Change

SIDES = ("draft", "live")
FIGURES = ("points", "coupons", "discount_minor", "members_reached", "cost_minor")
TOTAL = "*"  # the figures' key of the event's total (a campaign's is its id, which has no "*")


def given(change: Change, points: int) -> dict[str, Counter[str]]:
    """One side's figures on one event, by campaign id and in total (TOTAL): `points` is the event's
    total points as its use case answers them (a purchase's wait out the return window off the ledger)."""
    out: dict[str, Counter[str]] = {TOTAL: Counter(points=points, coupons=len(change.coupons))}
    for n in change.notices:
        if n.kind != "campaign_applied" or n.campaign_id is None:
            continue
        one = out.setdefault(n.campaign_id, Counter())
        one.update(points=n.points, coupons=len(n.coupon_ids), discount_minor=n.discount_minor)
        out[TOTAL]["discount_minor"] += n.discount_minor
    value = change.program.points.value
    for figures in out.values():
        figures["cost_minor"] = figures["points"] * value.worth_minor // value.points + figures["discount_minor"]
    return out


def record(
    profile: Profile, draft_id: str, live: dict[str, Counter[str]], draft: dict[str, Counter[str]]
) -> dict[str, Any]:
    """What the event's reference keeps of a shadow run (`shadow`), marking on the live profile (the one
    the write puts) whom each side reached first."""
    marks = set(profile.shadow_reach.get(draft_id, []))
    sides = {"live": live, "draft": draft}
    for side, figures in sides.items():
        for cid, one in figures.items():
            mark = f"{side}:{cid}"
            if any(one[k] for k in ("points", "coupons", "discount_minor")) and mark not in marks:
                marks.add(mark)
                one["members_reached"] = 1
    # Only this run's marks are kept: an earlier shadow's go when another starts.
    profile.shadow_reach = {draft_id: sorted(marks)}
    ids = sorted({cid for figures in sides.values() for cid in figures})
    return {
        "draft_id": draft_id,
        "figures": {
            cid: {side: {k: v for k, v in sides[side].get(cid, Counter()).items() if v} for side in SIDES}
            for cid in ids
        },
    }


def deltas(kept: dict[str, Any]) -> dict[str, Counter[str]]:
    """What one event's `shadow` adds to the run's counters, by campaign id (TOTAL: the total, with the
    event counted)."""
    out: dict[str, Counter[str]] = {TOTAL: Counter(events=1)}
    for cid, sides in kept["figures"].items():
        one = out.setdefault(cid, Counter())
        for side, figures in sides.items():
            one.update({f"{side}:{k}": int(v) for k, v in figures.items()})
    return out


def report(rows: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The comparison from the run's counters (campaign id -> counter item; TOTAL the total's)."""

    def sides(row: dict[str, Any]) -> dict[str, dict[str, int]]:
        return {side: {k: int(row.get(f"{side}:{k}", 0)) for k in FIGURES} for side in SIDES}

    total = rows.get(TOTAL, {})
    campaigns = [{"campaign_id": cid, **sides(row)} for cid, row in sorted(rows.items()) if cid != TOTAL]
    return {"events": int(total.get("events", 0)), "total": sides(total), "campaigns": campaigns}
