"""Campaigns: the rules operators write (API.md "Campaigns, growth and tags"), applied to the Change
of the write whose event triggers them, so they commit with it or not at all.

An event (a purchase, an activity, an enrolment...) runs the campaigns of its trigger by priority
(highest first; an `exclusive` one that applies stops the rest). A campaign applies when it is
active at the event's time, its member limit for the period is not reached, its `when` holds on the
event's facts, and its budgets can pay for what it gives (taken in the same transaction: a spent
budget stops the campaign silently). Its expressions are compiled once per program version (cached
on the Program) and evaluated on one set of facts per event (rules/expressions.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from .. import clock
from ..member import CampaignUse, Notice, Profile
from ..program import Campaign, Effect, PerMember, Program, Trigger
from . import amounts, distribute, earning, experiments, expressions, growth, limits, tags, wallets
from . import facts as event_facts
from .posting import Change, budget_key

LIFE = "all"  # a campaign's budgets span its life (a grant's span a month)


@dataclass(frozen=True)
class Ready:
    """A campaign with its expressions compiled."""

    campaign: Campaign
    when: expressions.Compiled
    on_items: tuple[expressions.Compiled | None, ...]  # one per effect
    per_campaign: bool  # `when` reads `campaign.uses_by_member`: facts of its own


def ready(program: Program) -> dict[str, list[Ready]]:
    """The program's campaigns by trigger, highest priority first, compiled once per Program object
    (programs.load keeps one per version per container)."""
    cached: dict[str, list[Ready]] | None = program.derived.get("campaigns")
    if cached is not None:
        return cached
    by_trigger: dict[str, list[Ready]] = {}
    ordered = sorted(program.campaigns, key=lambda c: -c.priority)  # stable: document order breaks ties
    for c in ordered:
        on_items = tuple(expressions.compile(e.on_items) if e.on_items else None for e in c.effects)
        reads = "campaign" in c.when or amounts.reads_campaign([s for e in c.effects for s in amounts.sources(e)])
        compiled = Ready(c, expressions.compile(c.when), on_items, reads)
        by_trigger.setdefault(c.trigger, []).append(compiled)
    program.derived["campaigns"] = by_trigger
    return by_trigger


def reads(program: Program, trigger: str) -> frozenset[str]:
    """The fact paths the campaigns of a trigger read (their `when` and `on_items`): the only facts
    its events build (rules/facts.py), found once per Program object."""
    cached: dict[str, frozenset[str]] = program.derived.setdefault("campaign_reads", {})
    if trigger not in cached:
        paths: set[str] = set()
        for r in ready(program).get(trigger, []):
            paths |= event_facts.reads(r.campaign.when, trigger)
            for e in r.campaign.effects:
                paths |= event_facts.reads(e.on_items, trigger, on_items=True) if e.on_items else set()
                for source in amounts.sources(e):  # computed amounts read facts too
                    paths |= event_facts.reads(source, trigger)
        cached[trigger] = frozenset(paths)
    return cached[trigger]


@dataclass
class Order:
    """The order facts of a purchase (or of the order a refund refers to)."""

    amount_minor: int
    items: list[dict[str, Any]] = field(default_factory=list)  # sku, category, amount_minor, quantity
    store_id: str = ""
    channel: str = ""
    scene: str = ""
    base_exact: Fraction = Fraction(0)  # the order's points at 1x, unrounded (rules/earning.exact_base)
    rate: Fraction = Fraction(0)  # points per minor unit, for a share of the order
    factors: dict[str, Decimal] = field(default_factory=dict)  # the program's multipliers that applied


def order(
    program: Program,
    amount_minor: int,
    items: list[dict[str, Any]],
    factors: dict[str, Decimal],
    store_id: str | None = None,
    channel: str | None = None,
    scene: str | None = None,
) -> Order:
    """An order's facts and what its points are made of (the program's earn rule and multipliers)."""
    rule = program.points.earn
    lines = [
        {
            "sku": i["sku"],
            "category": i.get("category") or "",
            "amount_minor": i["amount_minor"],
            "quantity": i.get("quantity", 1),
        }
        for i in items
    ]
    return Order(
        amount_minor=amount_minor,
        items=lines,
        store_id=store_id or "",
        channel=channel or "",
        scene=scene or "",
        base_exact=earning.exact_base(program, amount_minor),
        rate=Fraction(rule.points_per_unit, rule.unit_minor),
        factors=factors,
    )


def recorded(o: Order, line_ids: list[str] | None = None) -> dict[str, Any]:
    """What a purchase's order reference keeps for the facts of its refunds: each line as [sku,
    category, amount_minor, quantity, line_id] (no key names: a reference holds up to 500 lines in one
    item) and the store, channel and scene the order had."""
    kept: dict[str, Any] = {
        k: v for k, v in (("store_id", o.store_id), ("channel", o.channel), ("scene", o.scene)) if v
    }
    if o.items:
        line_ids = line_ids or [str(k) for k in range(1, len(o.items) + 1)]
        kept["items"] = [
            [i["sku"], i["category"], i["amount_minor"], i["quantity"], line_id]
            for i, line_id in zip(o.items, line_ids, strict=True)
        ]
    return kept


def given(change: Change, applied: list[Applied], order_source: str) -> dict[str, Any]:
    """What an order's reference keeps of what its campaigns gave, for its refunds: points by campaign,
    those on items by line (rules/refunds), and the coupons they issued on it."""
    kept: dict[str, Any] = {}
    if applied:  # the campaigns report's orders and GMV, net of refunds (rules/health._order)
        kept["campaigns_applied"] = [a.campaign_id for a in applied]
    points = {a.campaign_id: a.points for a in applied if a.points}
    if points:
        kept["campaign_points"] = points
    on_lines = {a.campaign_id: {str(k): n for k, n in a.line_points.items()} for a in applied if a.line_points}
    if on_lines:
        kept["item_points"] = on_lines
    sources = {f"campaign:{a.campaign_id}:{order_source}" for a in applied}  # grant_source's
    coupons = [c.coupon_id for c in change.coupons if c.source in sources]
    if coupons:
        kept["campaign_coupons"] = coupons
    return kept | wallets.given(applied)


def refunded(program: Program, kept: dict[str, Any] | None, amount_minor: int) -> Order:
    """A refund's order facts: the refunded order's, as its purchase recorded them (`recorded`), with
    the refunded amount. An order whose reference predates them has none ("" and no items)."""
    kept = kept or {}
    items = [{"sku": i[0], "category": i[1], "amount_minor": i[2], "quantity": i[3]} for i in kept.get("items", [])]
    return order(program, amount_minor, items, {}, kept.get("store_id"), kept.get("channel"), kept.get("scene"))


def view(applied: list[Applied]) -> list[dict[str, Any]]:
    """breakdown.campaigns: what each applied campaign gave."""
    return [
        {
            "campaign_id": a.campaign_id,
            "points": a.points,
            "coupons": a.coupons,
            "growth": a.growth,
            "tags": a.tags,
            "untags": a.untags,
            **({"wallets": a.wallets} if a.wallets else {}),
            **({"multiplier": earning.decimal_text(a.multiplier)} if a.multiplier is not None else {}),
        }
        for a in applied
    ]


def skipped(change: Change, applied: list[dict[str, Any]]) -> list[dict[str, str]]:
    """campaigns_skipped: each campaign of the write that did not apply, with its first reason (one
    that applied on another of the write's events, a tag_added for another tag, is not listed)."""
    gave = {a["campaign_id"] for a in applied}
    out: dict[str, dict[str, str]] = {}
    for s in change.skipped:
        if s["campaign_id"] not in gave:
            out.setdefault(s["campaign_id"], s)
    return list(out.values())


def after(change: Change) -> list[Applied]:
    """The campaigns a write's own outcome triggers: its tier change (once per write), then each tag
    it added (once per tag). A use case that answers what they gave calls it after its last tier move
    and tag; `rules/due.finish` calls it for every write, and it does nothing there when the use case
    already did."""
    applied: list[Applied] = []
    if not change.followed and change.tier_changes:
        change.followed = True
        moved = tier_change(change)
        if "tier_changed" in ready(change.program) and moved["from"] != moved["to"]:
            source = f"tier_change:{change.profile.version}"
            applied += run(change, Event("tier_changed", change.at, source, change=moved))
    return applied + _tags_added(change)


def tier_change(change: Change) -> dict[str, str]:
    """The write's tier change as one (`change.from/to/direction`): from before its first move to after
    its last, `up` when that is a higher level."""
    first, last = change.tier_changes[0], change.tier_changes[-1]
    levels = [lv.id for lv in change.program.tiers.levels] if change.program.tiers is not None else []
    rank = {tier_id: k for k, tier_id in enumerate(levels)}
    up = rank.get(last.to_tier, -1) > rank.get(first.from_tier or "", -1)
    return {"from": first.from_tier or "", "to": last.to_tier, "direction": "up" if up else "down"}


def _tags_added(change: Change) -> list[Applied]:
    """tag_added, once per tag the write added that the member still holds, after the write's other
    campaigns; the tags its campaigns add do not set it off again."""
    new = [t for t in dict.fromkeys(change.tags_added) if t not in change.tags_fired and t in change.profile.tags]
    change.tags_fired.update(change.tags_added)
    if not new or "tag_added" not in ready(change.program):
        return []
    applied: list[Applied] = []
    for tag in new:
        applied += run(change, Event("tag_added", change.at, f"tag:{tag}:{change.profile.version}", tag=tag))
    change.tags_fired.update(change.tags_added)  # the tags they added: no tag_added of their own
    return applied


def budget_keys(program: Program, triggers: tuple[Trigger, ...]) -> list[str]:
    """The budget keys the campaigns of these triggers may take (a quote reads them with the profile)."""
    return [
        campaign_budget_key(r.campaign, kind)
        for trigger in triggers
        for r in ready(program).get(trigger, [])
        for kind in budget_limits(r.campaign)
    ]


def budget_limits(c: Campaign) -> dict[str, int]:
    """The campaign's budgets that are set, by kind (points, coupons, members, discount_minor)."""
    budget = c.limits.budget
    if budget is None:
        return {}
    kinds = ("points", "coupons", "members", "discount_minor")
    return {k: limit for k in kinds if (limit := getattr(budget, k)) is not None}


def campaign_budget_key(c: Campaign, kind: str) -> str:
    """The key of one of a campaign's budgets (they span its life, `LIFE`)."""
    return budget_key(_site(c, kind), LIFE)


def _site(c: Campaign, kind: str) -> str:
    return f"campaign:{c.id}:{kind}"


@dataclass
class Event:
    trigger: Trigger
    at: datetime  # when it happened: the active window, the `at` facts and the limit's period
    source: str  # what the campaign's grants are traced to ("order:o1", "activity:a1", ...)
    order: Order | None = None
    activity: dict[str, Any] | None = None  # type, streak_days, object_id?, attributes?
    # The event's facts converted for CEL, when rules/counting built them first (the same facts, before
    # the event): its campaigns evaluate on them rather than converting them again.
    shared: expressions.Activation | None = None
    change: dict[str, str] | None = None  # a tier change: from, to, direction
    tag: str | None = None  # the tag added (tag_added)
    referee: str | None = None  # referral_converted: the referee whose conversion rewards the referrer


@dataclass
class Applied:
    """What one campaign gave on one event (breakdown.campaigns; the Campaign Applied event)."""

    campaign_id: str
    points: int = 0
    coupons: list[str] = field(default_factory=list)
    growth: int = 0
    tags: list[str] = field(default_factory=list)
    untags: list[str] = field(default_factory=list)
    multiplier: Decimal | None = None  # an order-level multiply_points, combined with the program's
    discount_minor: int = 0  # a checkout campaign's money off the order it was confirmed with
    line_points: dict[int, int] = field(default_factory=dict)  # of `points`, those given on items, by line
    wallets: dict[str, int] = field(default_factory=dict)  # wallet id -> amount given
    wallet_lines: dict[str, dict[int, int]] = field(default_factory=dict)  # of those, given on items: by line
    expiring: dict[int, int] = field(default_factory=dict)  # of `points`, those with expires_in_days, by days
    empty: bool = False  # a computed amount came to nothing: the campaign does not apply (rules/amounts)

    @property
    def nothing(self) -> bool:
        """It gives nothing (effects on items that match no line, or whose lines earn nothing): not an
        application, so its figures count only the events it gave on."""
        given = (self.points, self.coupons, self.growth, self.tags, self.untags, self.wallets, self.discount_minor)
        return not any(given) and self.multiplier is None


def run(change: Change, event: Event) -> list[Applied]:
    """Apply every campaign of the event's trigger that holds, in order. Returns what each gave; those
    that did not apply are in `change.skipped` with why (a quote lists them)."""
    queue = ready(change.program).get(event.trigger)
    if not queue or change.profile.blocked is not None:  # a blocked member is given nothing (rules/abuse.py)
        return []
    profile = change.profile
    shared: Any = event.shared  # the event's facts, built on first need (or by its counters) and shared
    applied: list[Applied] = []
    order_factors = dict(event.order.factors) if event.order else {}
    stopped_by: str | None = None  # an exclusive campaign that applied
    for r in queue:
        c = r.campaign
        reason = _ineligible(change, c, event, stopped_by)
        arm = experiments.arm(profile.program_id, c, profile) if c.experiment else experiments.MAIN
        if reason is None:
            if shared is None:  # only the paths the trigger's campaigns read (rules/facts.py)
                paths = reads(change.program, event.trigger)
                shared = expressions.activation(facts(change.program, profile, event, None, paths, change.today))
            act = shared.for_campaign(campaign_facts(profile, c.id, arm)) if r.per_campaign else shared
            r_arm = _arm_ready(change.program, r, arm) if c.experiment else r
            gives = _gives(change.program, r_arm, event, act, order_factors) if expressions.test(r.when, act) else None
            if gives is None or gives.empty or gives.nothing:  # giving nothing is no application
                reason = "condition not met"
            elif arm == experiments.HOLDOUT:  # it would have applied: an exposure, counted, with no gift
                reason = _hold_out(change, c, event)
            else:
                _points_limit(change, c, gives, event.at)
                if not _take_budgets(change, c, gives):
                    reason = "budget spent"  # the campaign stops applying (its figures show it)
        if reason is not None:
            change.skipped.append({"campaign_id": c.id, "reason": reason})
            continue
        assert gives is not None
        _apply(change, c, gives, event, arm if c.experiment else None)
        if gives.multiplier is not None:
            order_factors[f"campaign:{c.id}"] = gives.multiplier
        applied.append(gives)
        stopped_by = c.id if c.exclusive else None
    # One ledger entry for what every campaign of the event gave (breakdown.campaigns and each
    # Campaign Applied event say who gave what): one item in the transaction, not one per campaign.
    ordinary = sum(a.points - sum(a.expiring.values()) for a in applied)
    change.credit("bonus", ordinary, event.at, event.source, _named(applied, None))
    # Points with an expiry of their own: a bucket of their own (an entry each: one per distinct days).
    for days in sorted({d for a in applied for d in a.expiring}):
        points = sum(a.expiring.get(days, 0) for a in applied)
        change.credit("bonus", points, event.at, event.source, _named(applied, days), lasts_days=days)
    wallets.credit(change, applied, event.at, event.source)
    return applied


def _named(applied: list[Applied], days: int | None) -> str:
    """A campaign entry's reason: the campaigns whose points it holds (`days`: those lasting that long;
    None: those without an expiry of their own), so a refund inside the return window cuts each
    campaign's share from its own pending entry (rules/pending.cancel reads the names)."""
    part = {a.campaign_id: a.expiring.get(days, 0) if days else a.points - sum(a.expiring.values()) for a in applied}
    held = [cid for cid, points in part.items() if points]
    return "campaign:" + ",".join(held)


def _object(event: Event) -> str | None:
    return (event.activity or {}).get("object_id") or None


def _points_limit(change: Change, c: Campaign, gives: Applied, at: datetime) -> None:
    """A points limit gives what is left of it in the period (none left: `limit_reached` stopped it):
    each part of what the campaign gives cut in proportion."""
    limit = c.limits.per_member
    if limit is None or limit.points is None:
        return
    left = limits.points_left(limit, change.profile.campaigns.get(c.id), period_key(limit.per, at, change.program))
    if left is None or gives.points <= left:
        return
    lines, days = list(gives.line_points), list(gives.expiring)
    on_lines, expiring = [gives.line_points[k] for k in lines], [gives.expiring[d] for d in days]
    ordinary = gives.points - sum(on_lines) - sum(expiring)
    cut = limits.trim(gives.points, [ordinary, *on_lines, *expiring], left)
    gives.points = sum(cut)
    gives.line_points = {k: n for k, n in zip(lines, cut[1 : 1 + len(lines)], strict=True) if n}
    gives.expiring = {d: n for d, n in zip(days, cut[1 + len(lines) :], strict=True) if n}


def settle_checkout(change: Change, discounts: dict[str, int], at: datetime) -> list[str]:
    """The checkout campaigns a confirm settles (campaign id -> its money off, as priced): each takes
    its budgets (the pricing gave no more than was left: a race for the rest fails the transaction,
    and the confirm prices again) and counts a use for its per-member limit. Returns those applied to
    the member for the first time. No notice each: the confirmed checkout's own item announces them and
    their figures count from it (one item in the write, not one per campaign)."""
    by_id = {r.campaign.id: r.campaign for r in ready(change.program).get("checkout", [])}
    first = []
    for campaign_id, off in discounts.items():
        c = by_id[campaign_id]
        if c.id not in change.profile.campaigns:
            first.append(c.id)
        _take_budgets(change, c, Applied(campaign_id, discount_minor=off))
        change.profile.campaigns[c.id] = _count_use(change, c, at)
    return first


def checkout_taken(change: Change, discounts: dict[str, int], at: datetime) -> dict[str, dict[str, Any]]:
    """What a confirm's checkout campaigns took (settle_checkout, on `change`), kept on the
    order's reference for its full refund: by campaign, the `discount_minor` budget's key and what it
    took (none for a campaign without that budget), and the period its use counted in."""
    by_id = {r.campaign.id: r.campaign for r in ready(change.program).get("checkout", [])}
    kept = {}
    for cid in discounts:
        c = by_id[cid]
        key = campaign_budget_key(c, "discount_minor")
        per = c.limits.per_member.per if c.limits.per_member else "campaign"
        taken = change.budget_takes.get(key, (0, 0))[1]
        kept[cid] = {"period": period_key(per, at, change.program)} | (
            {"budget": key, "discount_minor": taken} if taken else {}
        )
    return kept


def checkout_back(change: Change, order: dict[str, Any], full: bool) -> dict[str, int] | None:
    """A full refund (`full`) of a checkout's order gives its checkout campaigns back what they took: their
    `discount_minor` budget (returned: budget key -> minor units) and one use each off the member's
    counts (in the period it counted in, if still kept). None: nothing to give back (not full, not a
    checkout's order, or given back already: the reference then says `checkout_returned`). The
    member's first application stays counted (a members budget is not given back, as a grant's is not)."""
    taken: dict[str, dict[str, Any]] = order.get("checkout_campaigns") or {}
    if not full or not taken or order.get("checkout_returned"):
        return None
    returns: dict[str, int] = {}
    uses = change.profile.campaigns
    for cid, took in taken.items():
        if took.get("budget"):
            returns[str(took["budget"])] = int(took["discount_minor"])
        use = uses.get(cid)
        if use is None:
            continue
        periods = dict(use.periods)
        key = str(took["period"])
        if periods.get(key, 0) > 1:
            periods[key] -= 1
        else:
            periods.pop(key, None)
        uses[cid] = CampaignUse(total=max(0, use.total - 1), periods=periods)
    return returns


def _ineligible(change: Change, c: Campaign, event: Event, stopped_by: str | None) -> str | None:
    """Why a campaign cannot apply before its condition is read (rules/checkout.py's reasons)."""
    if stopped_by is not None:
        return f"excluded by {stopped_by}"
    if not active(c, event.at, change.program):
        return "not active"
    return "limit reached" if _limit_reached(change, c, event) else None


def active(c: Campaign, at: datetime, program: Program) -> bool:
    window = c.active
    if window is None:
        return True
    start = window.from_ and (window.from_ if window.from_.tzinfo else window.from_.replace(tzinfo=program.zone))
    end = window.until and (window.until if window.until.tzinfo else window.until.replace(tzinfo=program.zone))
    return (start is None or at >= start) and (end is None or at < end)


# How many periods back a member limit keeps its counts (the newest included), so the profile stays
# small as its monthly spend does (rules/earning.record_purchase). An event older than that has no
# count to check: a campaign limited per day, week or month does not apply to it.
KEPT = {"day": 62, "week": 14, "month": 13, "year": 2}


def period_key(per: str, at: datetime, program: Program) -> str:
    """The program-local period a member limit counts in: day, ISO week, month, or the campaign's life."""
    return _period(per, clock.local_date(at, program.zone))


def _period(per: str, day: date) -> str:
    # "campaign": its life; and "object" counts by object (rules/limits), not by period
    return clock.period_key(per, day) or "campaign"


def _oldest(per: str, today: date) -> str:
    """The oldest period whose count is kept. Keys of one kind sort as their periods do."""
    if per == "day":
        return _period(per, today - timedelta(days=KEPT[per] - 1))
    if per == "week":
        return _period(per, today - timedelta(weeks=KEPT[per] - 1))
    if per == "month":
        return _period(per, clock.add_months(today, 1 - KEPT[per]))
    if per == "year":
        return str(today.year - KEPT[per] + 1)
    return "campaign"


def _limit_reached(change: Change, c: Campaign, event: Event) -> bool:
    limit = c.limits.per_member
    if limit is not None and limit.per == "object":
        return limits.object_reached(limit, change.profile.campaigns.get(c.id), _object(event))
    return limit is not None and limit_reached(change.program, change.profile, c, event.at, change.today)


def limit_reached(program: Program, profile: Profile, c: Campaign, at: datetime, today: date) -> bool:
    """The member's applications in the event's own period (however late it comes) reach the limit;
    an event older than the kept periods counts as reaching it (its period's count is gone)."""
    limit: PerMember | None = c.limits.per_member
    if limit is None:
        return False
    if limit.per == "object":
        return False  # counted by the event's object (rules/limits.object_reached)
    key = period_key(limit.per, at, program)
    if key < _oldest(limit.per, today):
        return True
    use = profile.campaigns.get(c.id)
    if limit.points is not None:
        return limits.points_left(limit, use, key) == 0
    return use is not None and use.periods.get(key, 0) >= (limit.count or 0)


def _count_use(change: Change, c: Campaign, at: datetime) -> CampaignUse:
    """The use after one more application in the event's period; periods no longer kept are dropped."""
    use = change.profile.campaigns.get(c.id) or CampaignUse()
    per = c.limits.per_member.per if c.limits.per_member else "campaign"
    key, oldest = period_key(per, at, change.program), _oldest(per, change.today)
    # Same length: keys of the limit's own kind (an operator may have changed `per` since).
    periods = {k: n for k, n in use.periods.items() if len(k) == len(oldest) and k >= oldest}
    periods[key] = periods.get(key, 0) + 1
    # Built unvalidated (its parts are): a copy or a validation would cost ~5 µs a campaign applied.
    return CampaignUse.model_construct(total=use.total + 1, periods=periods, points=use.points, objects=use.objects)


def facts(
    program: Program,
    profile: Profile,
    event: Event,
    campaign_id: str | None,
    paths: frozenset[str] | None = None,
    write_day: date | None = None,
) -> dict[str, Any]:
    """The facts a campaign's expressions read (rules/expressions.FACTS declares them, rules/facts.BUILD
    computes them): those at `paths` (`reads`), or all of the trigger's. The member's are as of before
    the event; `write_day`, the write's day (which counter periods a late event may still read)."""
    built = event_facts.build(program, profile, event, paths, write_day)
    return built | {"campaign": campaign_facts(profile, campaign_id)}


def campaign_facts(profile: Profile, campaign_id: str | None, arm: str = experiments.MAIN) -> dict[str, Any]:
    uses = profile.campaigns[campaign_id].total if campaign_id in profile.campaigns else 0
    return {"uses_by_member": uses, "arm": arm}


def _arm_ready(program: Program, r: Ready, arm: str) -> Ready:
    """The campaign as a variant arm gives it (its effects replace the campaign's), compiled once per
    Program object; the campaign itself for every other arm."""
    variants = r.campaign.experiment.variants if r.campaign.experiment else []
    if not any(v.id == arm for v in variants):
        return r
    cached: dict[tuple[str, str], Ready] = program.derived.setdefault("experiment_arms", {})
    key = (r.campaign.id, arm)
    if key not in cached:
        effects = experiments.effects(r.campaign, arm)
        on_items = tuple(expressions.compile(e.on_items) if e.on_items else None for e in effects)
        cached[key] = Ready(r.campaign.model_copy(update={"effects": effects}), r.when, on_items, r.per_campaign)
    return cached[key]


def _hold_out(change: Change, c: Campaign, event: Event) -> str:
    """A holdout member the campaign would have applied to: its exposure is remembered (its later
    orders count for the holdout) and it counts as a use (its per-member limit holds it as it would
    an arm's member), but nothing is given, no budget taken, no notice sent."""
    experiments.expose(change.profile, c.id, experiments.HOLDOUT, event.at)
    change.profile.campaigns[c.id] = _count_use(change, c, event.at)
    return "holdout"


def _gives(program: Program, r: Ready, event: Event, act: Any, factors: dict[str, Decimal]) -> Applied:
    """What the campaign would give on this event (nothing is applied yet: budgets decide)."""
    gives = Applied(r.campaign.id)
    for effect, on_items in zip(r.campaign.effects, r.on_items, strict=True):
        kind = effect.kind
        if kind in ("points", "growth"):
            n = getattr(effect, kind)
            if isinstance(n, str):  # a computed amount: nothing is no application (rules/amounts)
                n = amounts.amount(program, n, effect.max, act)
                if n is None:
                    return Applied(r.campaign.id, empty=True)
            if kind == "growth":
                gives.growth += n
                continue
            gives.points += n
            if effect.expires_in_days:
                gives.expiring[effect.expires_in_days] = gives.expiring.get(effect.expires_in_days, 0) + n
        elif kind == "coupons":
            gives.coupons += effect.coupons or []
        elif kind == "tag":
            gives.tags.append(effect.tag or "")
        elif kind == "untag":
            gives.untags.append(effect.untag or "")
        elif kind == "wallet":
            amount = amounts.amount(program, effect.wallet.amount if effect.wallet else 0, effect.max, act)
            if amount is None:  # computed to nothing: no application, as for points
                return Applied(r.campaign.id, empty=True)
            _wallet(gives, effect, amount, on_items, event, act)
        elif event.order is not None:
            matched = None if on_items is None else [expressions.test(on_items, act, i) for i in event.order.items]
            points = _order_points(program, effect, matched, event.order, factors)
            gives.points += points
            if matched is not None:
                per_unit = effect.points_per_unit is not None and effect.points_per_unit.per == "unit"
                _on_lines(gives, points, matched, event.order, "quantity" if per_unit else "amount_minor")
            if kind == "multiply_points" and on_items is None:
                gives.multiplier = effect.multiply_points
    return gives


def _wallet(
    gives: Applied, effect: Effect, amount: int, on_items: expressions.Compiled | None, event: Event, act: Any
) -> None:
    """A wallet's amount (computed already: rules/amounts): once, or with `on_items` per unit of each
    matching line (kept by line, for a refund of lines)."""
    assert effect.wallet is not None
    wallet = effect.wallet.id
    if on_items is None:
        gives.wallets[wallet] = gives.wallets.get(wallet, 0) + amount
        return
    lines = gives.wallet_lines.setdefault(wallet, {})
    for k, item in enumerate(event.order.items if event.order else []):
        if expressions.test(on_items, act, item) and item["quantity"] > 0:
            lines[k] = lines.get(k, 0) + amount * item["quantity"]
            gives.wallets[wallet] = gives.wallets.get(wallet, 0) + amount * item["quantity"]
    if not lines:
        del gives.wallet_lines[wallet]


def _on_lines(gives: Applied, points: int, matched: list[bool], order: Order, by: str = "amount_minor") -> None:
    """Points on items, spread over the lines they were given on by amount (by quantity for points per
    unit; a refund of a line takes back its part). The weights are scaled by the points so that none
    caps its share: points may outnumber the money."""
    weights = [i[by] * points if hit else 0 for i, hit in zip(order.items, matched, strict=True)]
    for k, share in enumerate(distribute.proportional(points, weights)):
        if share:
            gives.line_points[k] = gives.line_points.get(k, 0) + share


def _order_points(
    program: Program,
    effect: Effect,
    matched: list[bool] | None,
    order: Order,
    factors: dict[str, Decimal],
) -> int:
    """Points an order effect adds: a multiplier's extra over what the order already earns (combined
    with the program's multipliers by its `stacking`), or points per unit of the matching amount
    (`matched`: which lines `on_items` picks; None, the whole order)."""
    lines = order.items if matched is None else [i for i, hit in zip(order.items, matched, strict=True) if hit]
    if matched is None:
        amount, base = order.amount_minor, order.base_exact
    else:
        amount = sum(i["amount_minor"] for i in lines)
        base = order.rate * amount if order.base_exact else Fraction(0)
    per = effect.points_per_unit
    if per is not None and per.unit_minor is None:  # per unit of quantity (an order without items has none)
        return sum(i["quantity"] for i in lines) * per.points
    if per is not None and per.unit_minor is not None:
        return (amount // per.unit_minor) * per.points
    factor = effect.multiply_points or Decimal(1)
    before = Fraction(earning.combined(program, factors))
    after = Fraction(earning.combined(program, {**factors, "campaign": factor}))
    return max(0, math.floor(base * (after - before)))  # its exact extra, rounded down once (not floor - floor)


def _take_budgets(change: Change, c: Campaign, gives: Applied) -> bool:
    """All of the campaign's budgets, or none: points, coupons, and a member the first time."""
    first = c.id not in change.profile.campaigns
    counts = {
        "points": gives.points,
        "coupons": len(gives.coupons),
        "members": 1 if first else 0,
        "discount_minor": gives.discount_minor,
    }
    takes = [(limit, _site(c, kind), counts[kind]) for kind, limit in budget_limits(c).items()]
    return change.take_budgets([t for t in takes if t[2] > 0], period=LIFE)


def grant_source(c: Campaign, event_source: str) -> str:
    """What a campaign's grants on an event are traced to (its coupons carry it)."""
    return f"campaign:{c.id}:{event_source}"


def _apply(change: Change, c: Campaign, gives: Applied, event: Event, arm: str | None = None) -> None:
    source = grant_source(c, event.source)
    if arm is not None:  # an experiment's arm: the member's exposure, and its notice says the arm (cost per arm)
        experiments.expose(change.profile, c.id, arm, event.at)
    issued = change.give_coupons(gives.coupons, event.at, source)
    if gives.growth:
        growth.add_growth(change, gives.growth, clock.month_key(clock.local_date(event.at, change.program.zone)))
    if gives.tags or gives.untags:
        tags.apply(change, gives.tags, gives.untags, refuse=False)
    p = change.profile
    use = p.campaigns.get(c.id) or CampaignUse()
    p.campaigns[c.id] = _count_use(change, c, event.at)
    limit = c.limits.per_member
    if limit is not None and (limit.points is not None or limit.per == "object"):  # what rules/limits counts
        keep, key = _oldest(limit.per, change.today), period_key(limit.per, event.at, change.program)
        p.campaigns[c.id] = limits.counted(p.campaigns[c.id], limit, key, keep, gives.points, _object(event))
    change.notices.append(
        Notice(
            notice_id=f"campaign.{c.id}.{event.source}",
            kind="campaign_applied",
            at=event.at,
            points=gives.points,
            coupon_ids=[cp.coupon_id for cp in issued],
            coupon_templates=[cp.template_id for cp in issued],
            wallets=dict(gives.wallets),
            campaign_id=c.id,
            ref=event.source,
            growth=gives.growth,
            tags=gives.tags,
            first=use.total == 0,
            discount_minor=gives.discount_minor,
            arm=arm,
        )
    )
