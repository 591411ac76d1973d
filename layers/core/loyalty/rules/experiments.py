"""Experiments (issue 34, API.md "Experiments"): a campaign's members split into a holdout and arms by a
stable hash, the exposure each member's profile remembers (its arm, its first exposure and what it
bought since), what a stream record adds to the per-arm counters, and the report: per arm what its
members did after exposure, and each arm's uplift over the holdout with a 95% interval.

Pure: no I/O. The counters are kept by rules/health (`deltas`), read by usecases/experiments.
"""

from __future__ import annotations

import hashlib
import math
from datetime import datetime
from typing import Any

from ..member import Exposure, Profile
from ..program import Campaign, Effect, Program

SCALE = 10_000  # a member's position in [0, SCALE): holdout_percent * 100 positions are the holdout
HOLDOUT, MAIN = "holdout", "main"
# What the counter adds per arm (the STATS item `X#{campaign_id}#{arm}`).
COUNTERS = ("members_exposed", "orders", "spend_minor", "spend_sq", "repurchasers", "points_given", "coupons_minor")


def position(program_id: str, campaign_id: str, member_id: str) -> int:
    """The member's place in [0, SCALE): sha256 of the three ids, so the same in every version."""
    digest = hashlib.sha256(f"{program_id}\x1f{campaign_id}\x1f{member_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % SCALE


def assign(program_id: str, campaign: Campaign, member_id: str) -> str:
    """The arm the hash gives: `holdout` below holdout_percent, then the variants by weight over what
    the holdout leaves (`main` when there are none, or no experiment)."""
    experiment = campaign.experiment
    if experiment is None:
        return MAIN
    at, holdout = position(program_id, campaign.id, member_id), experiment.holdout_percent * SCALE // 100
    if at < holdout:
        return HOLDOUT
    if not experiment.variants:
        return MAIN
    total = sum(v.weight for v in experiment.variants)
    point = (at - holdout) * total // (SCALE - holdout)  # in [0, total)
    for v in experiment.variants:
        if point < v.weight:
            return v.id
        point -= v.weight
    return experiment.variants[-1].id  # not reached: point < total


def arm(program_id: str, campaign: Campaign, profile: Profile) -> str:  # program_id: the profile's
    """The member's arm: the one it was first exposed in while that arm still exists (a member stays in
    its arm when weights change), else the hash's."""
    experiment = campaign.experiment
    if experiment is None:
        return MAIN
    seen = profile.experiments.get(campaign.id)
    if seen is not None and seen.arm in arms(campaign):
        return seen.arm
    return assign(program_id, campaign, profile.member_id)


def arms(campaign: Campaign) -> list[str]:
    """The campaign's arms, the holdout first (when it has one), then its variants or `main`."""
    experiment = campaign.experiment
    if experiment is None:
        return [MAIN]
    rest = [v.id for v in experiment.variants] or [MAIN]
    return ([HOLDOUT] if experiment.holdout_percent else []) + rest


def effects(campaign: Campaign, arm_id: str) -> list[Effect]:
    """A variant's effects replace the campaign's for its arm."""
    experiment = campaign.experiment
    found = next((v for v in experiment.variants if v.id == arm_id), None) if experiment else None
    return found.effects if found is not None else campaign.effects


def expose(profile: Profile, campaign_id: str, arm_id: str, at: datetime) -> None:
    """The member's first exposure to an experiment campaign: later ones change nothing (its later
    orders are attributed from the first)."""
    if campaign_id not in profile.experiments:
        profile.experiments[campaign_id] = Exposure(arm=arm_id, at=at)


def attribute(profile: Profile, amount_minor: int, paid_at: datetime) -> None:
    """A purchase counts for every experiment the member was exposed to before it (called before the
    order's own campaigns run, so the order that exposes a member is not one of its orders after)."""
    for seen in profile.experiments.values():
        if paid_at >= seen.at:
            seen.orders += 1
            seen.spend_minor += amount_minor


def deltas(old: dict[str, Any] | None, new: dict[str, Any] | None) -> dict[tuple[str, str], dict[str, int]]:
    """What a member record's change adds to the per-arm counters, by (campaign id, arm): a new
    exposure, its orders and spend since exposure, the sum of squares of each member's spend (new^2 -
    old^2, so a member's spend over several orders counts as one value), and members reaching 2 orders.
    An erasure (no new image) leaves them counted."""
    before = (old or {}).get("experiments") or {}
    out: dict[tuple[str, str], dict[str, int]] = {}
    for cid, now in ((new or {}).get("experiments") or {}).items():
        was = before.get(cid) or {}
        spend, spent = int(now.get("spend_minor", 0)), int(was.get("spend_minor", 0))
        orders, ordered = int(now.get("orders", 0)), int(was.get("orders", 0))
        counts = {
            "members_exposed": 0 if was else 1,
            "orders": orders - ordered,
            "spend_minor": spend - spent,
            "spend_sq": spend * spend - spent * spent,
            "repurchasers": 1 if ordered < 2 <= orders else 0,
        }
        if any(counts.values()):
            out[(str(cid), str(now["arm"]))] = counts
    return out


def given(program: Program, notice: dict[str, Any]) -> dict[str, int]:
    """What an arm's application cost, from its campaign_applied notice: the points, and its coupons'
    face value (`value_minor` of their templates; a percent coupon's is 0)."""
    coupons = program.coupons
    face = sum(coupons[t].value_minor for t in notice.get("coupon_templates") or [] if t in coupons)
    return {"points_given": int(notice.get("points", 0)), "coupons_minor": face}


# t(0.975) for 1..30 degrees of freedom; beyond, the Cornish-Fisher expansion (`t975`).
_T975 = (12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281, 2.2010, 2.1788, 2.1604,
         2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860, 2.0796, 2.0739, 2.0687, 2.0639, 2.0595, 2.0555,
         2.0518, 2.0484, 2.0452, 2.0423)  # fmt: skip
Z975 = 1.959964


def t975(df: float) -> float:
    """The 97.5% quantile of Student's t: the table at the whole degrees of freedom below `df` (the
    Welch df is fractional: rounding down is the wider, cautious interval), past 30 the expansion
    z + (z^3+z)/4v + (5z^5+16z^3+3z)/96v^2 + (3z^7+19z^5+17z^3-15z)/384v^3 (within 1e-4 there)."""
    nu = max(1, math.floor(df))
    if nu <= len(_T975):
        return _T975[nu - 1]
    z = Z975
    return (
        z
        + (z**3 + z) / (4 * nu)
        + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * nu**2)
        + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * nu**3)
    )


def welch(a: tuple[int, float, float], b: tuple[int, float, float]) -> dict[str, float] | None:
    """Mean of `a` less mean of `b`, each (n, sum, sum of squares), with Welch's 95% interval; None
    with fewer than 2 in either."""
    (na, sa, qa), (nb, sb, qb) = a, b
    if na < 2 or nb < 2:
        return None
    ma, mb = sa / na, sb / nb
    va, vb = max(0.0, (qa - na * ma * ma) / (na - 1)) / na, max(0.0, (qb - nb * mb * mb) / (nb - 1)) / nb
    if va + vb == 0:  # every member spent the same: no spread to estimate
        return _interval(ma - mb, 0.0, 2)
    df = (va + vb) ** 2 / (va**2 / (na - 1) + vb**2 / (nb - 1))
    half = t975(df) * math.sqrt(va + vb)
    return _interval(ma - mb, half, 2)


def wald(a: tuple[int, int], b: tuple[int, int]) -> dict[str, float] | None:
    """Proportion `a` less proportion `b`, each (successes, n), with the Wald 95% interval."""
    (xa, na), (xb, nb) = a, b
    if na == 0 or nb == 0:
        return None
    pa, pb = xa / na, xb / nb
    return _interval(pa - pb, Z975 * math.sqrt(pa * (1 - pa) / na + pb * (1 - pb) / nb), 4)


def _interval(estimate: float, half: float, digits: int) -> dict[str, float]:
    ends = (("estimate", estimate), ("low", estimate - half), ("high", estimate + half))
    return {k: round(v, digits) for k, v in ends}


def report(program: Program, campaign: Campaign, by_arm: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per arm (`arms`, then any arm counted that the campaign no longer has), each non-holdout
    arm with its uplift over the holdout when both can be compared."""
    declared = arms(campaign) if campaign.experiment else []  # none: only the arms it counted (an ended one)
    order = declared + sorted(set(by_arm) - set(declared))
    counted = {a: {k: int(by_arm.get(a, {}).get(k, 0)) for k in COUNTERS} for a in order}
    value = program.points.value
    hold = counted.get(HOLDOUT)
    rows = []
    for a in order:
        c, n = counted[a], counted[a]["members_exposed"]
        row: dict[str, Any] = {
            "arm": a,
            "members_exposed": n,
            "cost_minor": c["points_given"] * value.worth_minor // value.points + c["coupons_minor"],
            "orders_per_member": round(c["orders"] / n, 4) if n else 0.0,
            "spend_per_member_minor": round(c["spend_minor"] / n, 2) if n else 0.0,
            "repurchase_rate": round(c["repurchasers"] / n, 4) if n else 0.0,
        }
        if a != HOLDOUT and hold is not None:
            uplift = _uplift(c, hold)
            if uplift is not None:
                row["uplift"] = uplift
        rows.append(row)
    return rows


def _uplift(arm_counts: dict[str, int], hold: dict[str, int]) -> dict[str, Any] | None:
    n, h = arm_counts["members_exposed"], hold["members_exposed"]
    """None until both the arm and the holdout have 2 members exposed (no variance before)."""
    spend = welch((n, arm_counts["spend_minor"], arm_counts["spend_sq"]), (h, hold["spend_minor"], hold["spend_sq"]))
    rate = wald((arm_counts["repurchasers"], n), (hold["repurchasers"], h))
    return None if spend is None or rate is None else {"spend_per_member_minor": spend, "repurchase_rate": rate}
