"""Referral: a member's code, what an enrolment's referral fields must look like, and each side's
reward (DESIGN below).

A code is a keyed hash (HMAC-SHA256 under the program's secret `member_key`, as keys.former_key) of the
member id and a collision counter `n`, written in ALPHABET: stable (the same member and key give the
same code), unguessable without the key, and no 0/O/1/I/L a reader could confuse. Uniqueness per
program is the store's (a REFCODE item claimed conditionally; on a collision the caller takes n + 1).

DESIGN. Two members' aggregates are never in one transaction:
- the referee's own write (its enrolment, or its first qualifying order) converts its referral
  (`convert`): its reward, `referred.status` "converted", and where `max_per_fingerprint` is set one
  take of its fingerprint's count (a budget-like item taken conditionally in the same transaction: the
  count can never pass the maximum, whatever the races);
- that profile change is a stream record; its consumer (jobs/streams.referrals) makes the referrer's
  write through pipeline.once keyed by the referee (`RefKey("referral", referee, referrer)`), so a
  redelivered record, a retried batch or a crash between two calls rewards the referrer once. That write
  checks what only the referrer's side knows (`reward_referrer`): blocked, per_referrer, the program's
  budget (another conditional take), and records a refusal with its reason otherwise.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import date, datetime
from typing import Any

from .. import clock
from ..member import Profile, Referred
from ..program import Referral, ReferralReward
from . import grant_notices, pending
from .posting import Change

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # 31 symbols: no 0, O, 1, I, L
LENGTH = 10  # 31**10 ~ 8e14 codes: a guess hits one of a million members about once in 800 million tries
MAX_COLLISIONS = 8  # a 9th collision in a row is not chance
CODE = re.compile(f"^[{ALPHABET}]{{{LENGTH}}}$")
# A fingerprint is a hash the client computed (of a device, a payment card, a phone number): hex of at
# least 128 bits, at most SHA-512's. Anything else (a raw phone number) is refused, never stored.
FINGERPRINT = re.compile(r"^[0-9a-f]{32,128}$")


def code(member_key: str, member_id: str, n: int = 0) -> str:
    """The member's n-th candidate code (n > 0 only after n collisions)."""
    message = f"referral#{member_id}#{n}".encode()
    value = int.from_bytes(hmac.new(bytes.fromhex(member_key), message, hashlib.sha256).digest(), "big")
    out = []
    for _ in range(LENGTH):
        value, digit = divmod(value, len(ALPHABET))
        out.append(ALPHABET[digit])
    return "".join(out)


def normal_code(text: str) -> str | None:
    """A code as typed (any case, spaces or dashes between groups) in its stored form, or None when it
    cannot be a code (no lookup needed to refuse it)."""
    cleaned = re.sub(r"[\s-]", "", text).upper()
    return cleaned if CODE.match(cleaned) else None


def normal_fingerprint(text: str) -> str | None:
    """The fingerprint hash in lower-case hex, or None when it does not look like a hash."""
    lowered = text.lower()
    return lowered if FINGERPRINT.match(lowered) else None


REASONS = ("self", "shared_fingerprint", "max_per_fingerprint", "per_referrer", "budget", "blocked_referrer")
BUDGET_SITE = "referral"  # the program's budget of referrer rewards, ever (span "all")


def fingerprint_site(fingerprint: str) -> str:
    """The budget-like count of referees rewarded with this fingerprint, ever (span "all")."""
    return f"fingerprint:{fingerprint}"


def source(referee_id: str) -> str:
    """What both sides' rewards are traced to (ledger refs, coupon sources): the referee."""
    return f"referral:{referee_id}"


def enrolled(profile: Profile, referrer: Profile, fingerprint: str | None) -> None:
    """An enrolment's referral on the new profile: who referred it, refused at once where the referee
    shares the referrer's fingerprint (the same device, card or phone: one person)."""
    profile.fingerprint = fingerprint
    profile.referred = Referred(by=referrer.member_id)
    if fingerprint is not None and fingerprint == referrer.fingerprint:
        _close(profile.referred, "refused", profile.enrolled_at, "enrolment", "shared_fingerprint")


def convert(change: Change, day: date, at: datetime, ref: str, order_minor: int | None = None) -> bool:
    """The referee's side, on its enrolment (`order_minor` None) or an order of `order_minor` on the
    program-local `day`: True when this event converted the referral (the referee rewarded). An order
    too small, or an event the program does not convert on, leaves it waiting; one past `within_days`
    too (nothing more can convert it, but a later order is no refusal)."""
    cfg, referred = change.program.referral, change.profile.referred
    if cfg is None or referred is None or referred.status != "waiting":
        return False
    if not qualifies(cfg, change.profile, change.program.zone, day, order_minor):
        return False
    fp = change.profile.fingerprint
    limit = cfg.max_per_fingerprint if fp is not None else None
    if fp is not None and not change.take_budgets([(limit, fingerprint_site(fp), 1)], period="all"):
        _close(referred, "refused", at, ref, "max_per_fingerprint")
        return False
    give(change, cfg.referee, at, source(change.profile.member_id), "referee")
    _close(referred, "converted", at, ref)
    return True


def qualifies(cfg: Referral, profile: Profile, zone: object, day: date, order_minor: int | None) -> bool:
    if cfg.on == "enrolment" or order_minor is None:
        return cfg.on == "enrolment" and order_minor is None
    if order_minor < cfg.min_order_minor:
        return False
    enrolled_on = clock.local_date(profile.enrolled_at, zone)  # type: ignore[arg-type]
    return cfg.within_days is None or (day - enrolled_on).days <= cfg.within_days


def give(change: Change, reward: ReferralReward, at: datetime, traced_to: str, side: str) -> tuple[int, int]:
    """One side's reward, as a bonus traced to the referee, with its notice: (points, coupons) given."""
    since = grant_notices.mark(change)
    change.credit("bonus", reward.points, at, traced_to, "referral")
    coupons = change.give_coupons(reward.coupons, at, traced_to)
    if reward.wallet is not None:
        change.wallet_credit(reward.wallet.id, reward.wallet.amount, at, traced_to, "bonus", "referral")
    grant_notices.notice(change, since, "referral_reward", traced_to, reason=side)
    return reward.points, len(coupons)


def reward_referrer(change: Change, referee_id: str, at: datetime) -> tuple[str | None, int, int]:
    """The referrer's side, in its own write: (the refusal's reason or None, points, coupons given).
    Checked here, where the referrer's profile is read: blocked, per_referrer, the program's budget."""
    cfg, profile = change.program.referral, change.profile
    if cfg is None:
        return "budget", 0, 0  # the program dropped referral since: nothing left to give
    if profile.blocked is not None:
        return "blocked_referrer", 0, 0
    period = clock.period_key(cfg.per_referrer.per, change.today) or "lifetime"
    used = profile.referral_periods.get(period, 0)
    if used >= cfg.per_referrer.count:
        return "per_referrer", 0, 0
    if not change.take_budgets([(cfg.budget, BUDGET_SITE, 1)], period="all"):
        return "budget", 0, 0
    profile.referral_periods = {period: used + 1}  # only the current period is kept
    profile.referrals += 1
    points, coupons = give(change, cfg.referrer, at, source(referee_id), "referrer")
    return None, points, coupons


def refunded(change: Change, order: dict[str, Any], at: datetime) -> bool:
    """A refund of the order that converted the member's referral, inside its return window (the program
    holds points: `points.pending_days`): the referral is cancelled (what it gave is taken back by
    rules/referral_cancel, the referee's side in this write, the referrer's from the stream). After the
    window, nothing."""
    referred = change.profile.referred
    if not order.get("referral_converted") or referred is None or referred.status != "converted":
        return False
    held_until = pending.available_on(change.program, clock.parse(order["paid_at"]))
    if held_until is None or held_until <= change.today:
        return False
    _close(referred, "cancelled", at, referred.ref or "", "refunded")
    return True


def held_from(referred: dict[str, Any]) -> datetime | None:
    """When a converted referral's rewards start waiting out the order's return window: the order's
    time for an order's conversion (an enrolment's is never refunded: None)."""
    if not str(referred.get("ref") or "").startswith("order:") or not referred.get("at"):
        return None
    return clock.parse(str(referred["at"]))


def _close(referred: Referred, status: str, at: datetime, ref: str, reason: str | None = None) -> None:
    referred.status, referred.at, referred.ref, referred.reason = status, at, ref, reason  # type: ignore[assignment]


def moved(old: dict[str, Any] | None, new: dict[str, Any] | None) -> tuple[str, dict[str, Any]] | None:
    """What a profile change (its stream images) asks of the referrer: ("converted", referred) when it
    converted the referral, ("cancelled", referred) when a refund cancelled it; None otherwise."""
    after = (new or {}).get("referred") or {}
    before = (old or {}).get("referred") or {}
    status = after.get("status")
    if status in ("converted", "cancelled") and before.get("status") != status:
        return str(status), after
    return None
