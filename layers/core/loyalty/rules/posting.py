"""One write to a member: the new profile plus the ledger entries and coupons it creates.

Every change of points goes through `credit`/`debit`, which keep the invariant the table relies on:
each ledger entry carries the balance after it, so the profile's balance is the sum of the ledger.
A change starts by expiring due buckets, so no write ever builds on points that have expired.
A change ends with `due.finish` (the RFM segment, the due days it moved), just before it is committed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, time

from .. import clock
from ..member import Coupon, EntryType, LedgerEntry, Notice, Pending, Profile, TierChange
from ..program import Grant, Level, Program
from . import buckets, holds, pending


def coupon_id(member_id: str, source: str, template_id: str, index: int) -> str:
    """Derived from what issued it, so issuing the same thing twice yields the same id; and from the
    member, since many sources (`tier:gold:2026-03`, `birthday:2026-03`) name none: every member's
    copy of one grant is a coupon of its own."""
    digest = hashlib.sha256(f"{member_id}|{source}|{template_id}|{index}".encode()).hexdigest()[:20]
    return f"cpn-{digest}"


def issue_coupon(
    program: Program,
    member_id: str,
    template_id: str,
    at: datetime,
    source: str,
    index: int = 0,
    scene: str | None = None,
    valid_through: date | None = None,
) -> Coupon:
    """`valid_through` (a program-local day) lengthens the template's `valid_days`, never shortens it:
    a birthday gift stays usable through the birthday month however early it is issued."""
    template = program.coupons[template_id]
    start = at.astimezone(program.zone)
    # Valid through the end of the last local day, which is what a member reads on the coupon.
    last_day = (start + clock.days(template.valid_days - 1)).date()
    if valid_through is not None:
        last_day = max(last_day, valid_through)
    until = datetime.combine(last_day, time(23, 59, 59), tzinfo=program.zone)
    return Coupon(
        coupon_id=coupon_id(member_id, source, template_id, index),
        template_id=template_id,
        name=template.name,
        kind=template.kind,
        value_minor=template.value_minor,
        percent_off=template.percent_off,
        max_off_minor=template.max_off_minor,
        min_spend_minor=template.min_spend_minor,
        valid_from=at,
        valid_until=until.astimezone(clock.UTC),
        source=source,
        scene=scene,
    )


def reversal(order_amount: int, order_minor: int, refunded_minor_after: int, reversed_before: int) -> int:
    """What to take back of what an order gave (points, growth) so that, over all its refunds, the order
    keeps it in proportion to what remains paid. Cumulative, so three partial refunds round the same
    way as one full refund."""
    should_have_reversed = order_amount * refunded_minor_after // order_minor
    return max(0, should_have_reversed - reversed_before)


def budget_key(site: str, span: str) -> str:
    """A budget's key: its site ("welcome", "campaign:c1:points", ...) and its span (a month, or "all")."""
    return f"{site}:{span}"


def upgrade_site(level: Level) -> str:
    return f"upgrade:{level.id}"


def upgrade_budget_keys(program: Program, today: date) -> list[str]:
    """The budget keys of the upgrade gifts a write on `today` may take (a quote reads them)."""
    levels = program.tiers.levels if program.tiers is not None else []
    month = clock.month_key(today)
    return [budget_key(upgrade_site(lv), month) for lv in levels if lv.on_upgrade and lv.on_upgrade.budget is not None]


@dataclass
class Change:
    program: Program
    profile: Profile
    today: date
    at: datetime
    entries: list[LedgerEntry] = field(default_factory=list)
    coupons: list[Coupon] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    tier_changes: list[TierChange] = field(default_factory=list)
    # Budget key (site and month) -> (its limit, what this change takes): one item each in the write.
    budget_takes: dict[str, tuple[int, int]] = field(default_factory=dict)
    exhausted: set[str] = field(default_factory=set)  # budget keys found spent by an earlier attempt
    growth: int = 0  # growth value this write added (rules/growth.add_growth): a purchase keeps it for its refund
    followed: bool = False  # the campaigns its tier changes set off have run (rules/campaigns.after)
    tags_added: list[str] = field(default_factory=list)  # by rules/tags.apply: each sets off tag_added once
    tags_fired: set[str] = field(default_factory=set)  # those whose tag_added campaigns have run
    skipped: list[dict[str, str]] = field(default_factory=list)  # campaigns that did not apply, and why
    # What each spending debit took, by bucket (ref -> expires_on -> points): what a refund or a
    # cancellation gives back goes into the buckets it came from.
    spent: dict[str, dict[str, int]] = field(default_factory=dict)
    # While a purchase credits its own points inside the return window: the day they become
    # spendable. Until then `credit` keeps them on the profile as pending (rules/pending.py).
    defer_until: date | None = None
    # The program-local day the points this write credits count as earned (a purchase's paid_at, an
    # activity's `at`): their expiry counts from it, as if the event had been posted on time. None: today.
    earned_on: date | None = None
    # What each spending debit of a wallet took (ref -> wallet -> expires_on -> amount), as `spent`.
    wallet_spent: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)

    @classmethod
    def start(cls, program: Program, current: Profile, at: datetime, exhausted: set[str] | None = None) -> Change:
        # A deep copy through pydantic's core: 3x quicker than model_copy(deep=True)'s deepcopy.
        profile = Profile.model_validate({**current.model_dump(), "version": current.version + 1})
        change = cls(program=program, profile=profile, today=clock.local_date(at, program.zone), at=at)
        change.exhausted = exhausted or set()
        holds.prune(profile, at)
        change.expire_lapsed("expire")
        change.expire_wallets("expire")
        change.release_pending()
        return change

    def release_pending(self) -> None:
        """Pending points whose day has come are credited now, each as it would have been at once; their
        expiry counts from the day they became spendable, not from the write that credits them."""
        waiting, due = pending.split(self.profile.pending, self.today)
        self.profile.pending = waiting
        for p in due:
            expiry = pending.expires_on(p, self.today, self.program.points.expiry)
            self.credit(p.type, p.points, self.at, p.ref, p.reason, expiry)

    def expire_lapsed(self, reason: str) -> None:
        """Buckets whose day has passed leave the balance as one `expire` entry."""
        live, expired = buckets.split_expired(self.profile.buckets, self.today)
        if expired:
            self.profile.buckets = live
            self._entry("expire", -buckets.total(expired), self.at, f"expiry:{max(expired)}", reason)

    def move_tier(self, level: Level, reason: str, source: str) -> None:
        """Every tier change goes through here, so each leaves a history item."""
        p = self.profile
        self.tier_changes.append(TierChange(at=self.at, from_tier=p.tier_id, to_tier=level.id, reason=reason))  # type: ignore[arg-type]
        # The member's notice of it (GET .../notices); its event is the tier history item's `Tier Changed`.
        self.notices.append(
            Notice(
                notice_id=f"tier_changed.{p.version}.{len(self.tier_changes)}",
                kind="tier_changed",
                at=self.at,
                from_tier=p.tier_id,
                to_tier=level.id,
                reason=reason,
            )
        )
        p.tier_id, p.tier_since = level.id, self.at
        if reason == "upgrade":
            self.grant(level.on_upgrade, "bonus", self.at, source, budget=upgrade_site(level))

    @property
    def balance(self) -> int:
        return buckets.total(self.profile.buckets)

    def _entry(
        self,
        type_: EntryType,
        points: int,
        at: datetime,
        ref: str | None,
        reason: str | None = None,
        wallet: str | None = None,
    ) -> None:
        self.profile.ledger_seq += 1
        self.entries.append(
            LedgerEntry(
                entry_id=f"{self.profile.ledger_seq:012d}",
                type=type_,
                points=points,
                balance_after=self.balance if wallet is None else self.wallet_balance(wallet),
                at=at,
                ref=ref,
                reason=reason,
                wallet=wallet,
            )
        )

    def credit(
        self,
        type_: EntryType,
        points: int,
        at: datetime,
        ref: str | None,
        reason: str | None = None,
        expires_on: str | None = None,
        lasts_days: int | None = None,
    ) -> None:
        """`expires_on`: a bucket brought with its own expiry (an import); `lasts_days`: points that
        expire that many days after they are credited (a campaign's expires_in_days); otherwise the
        program's policy."""
        if points <= 0:
            return
        if self.defer_until is not None and self.defer_until > self.today:
            day = self.defer_until.isoformat()
            self.profile.pending.append(
                Pending(
                    points=points, available_on=day, ref=ref or "", type=type_, reason=reason, lasts_days=lasts_days
                )
            )
            return
        earned = min(self.earned_on or self.today, self.today)
        expiry = expires_on or buckets.expires_on(earned, self.program.points.expiry, lasts_days)
        self.profile.buckets = buckets.add(self.profile.buckets, expiry, points)
        self.profile.lifetime_earned += points
        self._entry(type_, points, at, ref, reason)
        if expires_on is None and expiry < self.today.isoformat():
            # A back-dated event's points whose expiry has passed: earned, then lapsed in this same
            # write (an `expire` entry after the credit), so the ledger sums and nothing spends them.
            self.expire_lapsed("expire")

    def debit(self, type_: EntryType, points: int, at: datetime, ref: str | None, reason: str | None = None) -> None:
        if points <= 0:
            return
        if type_ == "redeem":  # spending: only what no open checkout holds (a confirm releases its own first)
            holds.check_spendable(self.profile, points, self.at)
        before = self.profile.buckets
        self.profile.buckets = buckets.take(before, points)
        if type_ == "redeem" and ref is not None:
            taken = {day: n - self.profile.buckets.get(day, 0) for day, n in before.items()}
            self.spent[ref] = {day: n for day, n in taken.items() if n}
        self._entry(type_, -points, at, ref, reason)

    def restore(self, taken: dict[str, int], at: datetime, ref: str, reason: str | None = None) -> tuple[int, int]:
        """Points spent coming back (a refund of an order paid with points, a redemption cancelled) into
        the buckets they were taken from (`taken`: expires_on -> points, as `spent` recorded them); a
        bucket past its expiry restores nothing, and what the member still owes (`points_owed`: points a
        refund could not take back, spent already) is settled first, so that buy, spend, refund and
        cancel never leave it better off. One `restore` entry; returns (restored, lapsed). Not lifetime
        earned: they were earned once already."""
        live, lapsed = buckets.split_expired({day: n for day, n in taken.items() if n > 0}, self.today)
        settled = min(self.profile.points_owed, buckets.total(live))
        if settled:
            self.profile.points_owed -= settled
            live = buckets.take(live, settled)
        if live:
            for day, n in live.items():
                self.profile.buckets = buckets.add(self.profile.buckets, day, n)
            self._entry("restore", buckets.total(live), at, ref, reason)
        return buckets.total(live), buckets.total(lapsed)

    # ---- wallets (stamps...): buckets of their own, each entry carrying its wallet --------------------

    def wallet_balance(self, wallet: str) -> int:
        return buckets.total(self.profile.wallets.get(wallet, {}))

    def expire_wallets(self, reason: str) -> None:
        """A wallet's lapsed buckets leave it as one `expire` entry of that wallet, as points do."""
        for wallet, held in sorted(self.profile.wallets.items()):
            live, expired = buckets.split_expired(held, self.today)
            if expired:
                self._set_wallet(wallet, live)
                self._entry("expire", -buckets.total(expired), self.at, f"expiry:{max(expired)}", reason, wallet)

    def _set_wallet(self, wallet: str, held: buckets.Buckets) -> None:
        if held:
            self.profile.wallets[wallet] = held
        else:
            self.profile.wallets.pop(wallet, None)

    def wallet_credit(
        self, wallet: str, amount: int, at: datetime, ref: str | None, type_: EntryType, reason: str | None = None
    ) -> None:
        """Into the wallet, expiring by its own policy (never, for a wallet the program no longer has)."""
        if amount <= 0:
            return
        policy = self.program.wallets.get(wallet)
        expiry = buckets.expires_on(self.today, policy.expiry) if policy else buckets.NEVER
        self._set_wallet(wallet, buckets.add(self.profile.wallets.get(wallet, {}), expiry, amount))
        self._entry(type_, amount, at, ref, reason, wallet)

    def wallet_debit(
        self, wallet: str, amount: int, at: datetime, ref: str | None, type_: EntryType, reason: str | None = None
    ) -> None:
        """Out of the wallet, earliest-expiring first (InsufficientPoints when it holds less); a
        spending (`redeem`) records the buckets it took in `wallet_spent`, for a cancel."""
        if amount <= 0:
            return
        before = self.profile.wallets.get(wallet, {})
        self._set_wallet(wallet, buckets.take(before, amount))
        if type_ == "redeem" and ref is not None:
            after = self.profile.wallets.get(wallet, {})
            taken = {day: n - after.get(day, 0) for day, n in before.items() if n - after.get(day, 0)}
            self.wallet_spent.setdefault(ref, {})[wallet] = taken
        self._entry(type_, -amount, at, ref, reason, wallet)

    def wallet_restore(
        self, wallet: str, taken: dict[str, int], at: datetime, ref: str, reason: str
    ) -> tuple[int, int]:
        """A wallet's spending given back into the buckets it came from (a lapsed one gives nothing),
        what the member owes of that wallet settled first, as `restore` does for points: one `restore`
        entry; returns (restored, lapsed)."""
        live, lapsed = buckets.split_expired({day: n for day, n in taken.items() if n > 0}, self.today)
        owed = self.profile.wallets_owed
        if settled := min(owed.get(wallet, 0), buckets.total(live)):
            owed[wallet] -= settled
            live = buckets.take(live, settled)
            self.profile.wallets_owed = {w: n for w, n in owed.items() if n}
        held = self.profile.wallets.get(wallet, {})
        for day, n in live.items():
            held = buckets.add(held, day, n)
        self._set_wallet(wallet, held)
        if live:
            self._entry("restore", buckets.total(live), at, ref, reason, wallet)
        return buckets.total(live), buckets.total(lapsed)

    def grant(
        self,
        grant: Grant | None,
        type_: EntryType,
        at: datetime,
        source: str,
        budget: str,
        scene: str | None = None,
        valid_through: date | None = None,
    ) -> list[Coupon]:
        """Points and coupons of a grant (welcome pack, upgrade gift, ...), all traced to `source`;
        returns the coupons issued. `budget` names the grant site ("welcome", "upgrade:gold", ...):
        a grant with a budget takes one from that site's monthly budget in the same transaction, or
        is skipped once that budget is spent (the rest of the write goes through)."""
        if grant is None or not self.take_budget(grant.budget, budget):
            return []
        self.credit(type_, grant.points, at, source, budget)  # the grant site is the reason: "recall", "tier:gold"
        return self.give_coupons(grant.coupons, at, source, scene, valid_through)

    def take_budget(self, limit: int | None, site: str, count: int = 1) -> bool:
        """Take `count` from the site's budget for this program-local month; False when an earlier
        attempt of this write found it spent, or when this write alone would go over it. The store
        turns the takes into conditional updates, so no race can overspend a budget."""
        return self.take_budgets([(limit, site, count)])

    def take_budgets(self, takes: list[tuple[int | None, str, int]], period: str | None = None) -> bool:
        """Take from several budgets at once, all or none: (limit, site, count) each. `period` names the
        budgets' span; by default the program-local month (a new month, a new budget); a campaign's
        budgets span its life ("all")."""
        span = period or clock.month_key(self.today)
        keyed = [(limit, budget_key(site, span), count) for limit, site, count in takes if limit is not None]
        for limit, key, count in keyed:
            _, taken = self.budget_takes.get(key, (limit, 0))
            if key in self.exhausted or taken + count > limit:
                return False
        for limit, key, count in keyed:
            self.budget_takes[key] = (limit, self.budget_takes.get(key, (limit, 0))[1] + count)
        return True

    def overspent(self, taken: dict[str, int]) -> set[str]:
        """The budget keys this change would take past their limit, given what each has given (`taken`,
        read from the budget items): the keys whose condition the store's transaction would refuse."""
        return {key for key, (limit, count) in self.budget_takes.items() if taken.get(key, 0) + count > limit}

    def give_coupons(
        self,
        template_ids: list[str],
        at: datetime,
        source: str,
        scene: str | None = None,
        valid_through: date | None = None,
    ) -> list[Coupon]:
        mid = self.profile.member_id
        issued = [
            issue_coupon(self.program, mid, t, at, source, i, scene, valid_through) for i, t in enumerate(template_ids)
        ]
        self.coupons += issued
        return issued
