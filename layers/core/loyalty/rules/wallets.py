"""Wallets (API.md "The rule engine's reach"): stamps and other currencies of the program's own.

A wallet is held like points, in buckets by expiry day on the profile (`Profile.wallets`), and moves
only through the Change (`wallet_credit`, `wallet_debit`, `wallet_restore`, `expire_wallets`), whose
every entry carries its wallet: each wallet's balance is the sum of its ledger entries. Campaigns give
wallet amounts (one entry per wallet per event), rewards priced in a wallet spend them, refunds take
back what an order's campaigns gave, and the points run expires them by the wallet's own policy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime
from fractions import Fraction
from typing import Any, Protocol

from ..errors import InsufficientPoints
from ..member import Profile
from ..program import Program, Reward
from . import buckets, refunds
from .posting import Change


class Applied(Protocol):
    """What one campaign gave (rules/campaigns.Applied), as far as wallets go."""

    campaign_id: str
    wallets: dict[str, int]
    wallet_lines: dict[str, dict[int, int]]


def balances(program: Program, profile: Profile) -> dict[str, int]:
    """Every wallet of the program, with its balance (the fact `member.wallets.<id>`)."""
    return {w: buckets.total(profile.wallets.get(w, {})) for w in program.wallets}


def credit(change: Change, applied: Sequence[Applied], at: datetime, source: str) -> None:
    """What an event's campaigns gave in wallets: one `bonus` entry per wallet, naming the campaigns."""
    for wallet in sorted({w for a in applied for w in a.wallets}):
        by = [a for a in applied if a.wallets.get(wallet)]
        amount = sum(a.wallets[wallet] for a in by)
        change.wallet_credit(wallet, amount, at, source, "bonus", "campaign:" + ",".join(a.campaign_id for a in by))


def given(applied: Sequence[Applied]) -> dict[str, Any]:
    """What an order's reference keeps of its campaigns' wallet amounts, for its refunds: by campaign
    and wallet, and those given on items by line (`refunds.line_share` takes them back with their lines)."""
    kept: dict[str, Any] = {}
    amounts = {a.campaign_id: dict(a.wallets) for a in applied if a.wallets}
    if amounts:
        kept["campaign_wallets"] = amounts
    lines = {
        a.campaign_id: {w: {str(k): n for k, n in by.items()} for w, by in a.wallet_lines.items()}
        for a in applied
        if a.wallet_lines
    }
    if lines:
        kept["wallet_lines"] = lines
    return kept


def spend(change: Change, reward: Reward, quantity: int, ref: str) -> dict[str, int]:
    """A reward priced in a wallet: its amount leaves the wallet, or 409 insufficient_points naming the
    wallet with nothing changed. Returns {wallet: amount spent}."""
    wallet, amount = check_funds(change, reward, quantity)
    change.wallet_debit(wallet, amount, change.at, ref, "redeem")
    return {wallet: amount}


def check_funds(change: Change, reward: Reward, quantity: int) -> tuple[str, int]:
    """(wallet, amount) a reward priced in a wallet costs, or 409 insufficient_points naming the wallet."""
    assert reward.cost is not None
    wallet, amount = reward.cost.wallet, reward.cost.amount * quantity
    held = change.wallet_balance(wallet)
    if amount > held:
        error = InsufficientPoints(needed=amount, available=held)
        error.message = f"needs {amount} of wallet {wallet!r}, {held} available"
        error.args = (error.message,)
        error.details = [{"field": "reward_id", "wallet": wallet, "needed": amount, "available": held}]
        raise error
    return wallet, amount


def owed(order: dict[str, Any], r: refunds.Refunded) -> dict[str, dict[str, int]]:
    """What this refund takes back of each campaign's wallet amounts (campaign -> wallet -> amount):
    order-wide amounts follow the money (`share`), amounts on items their lines (`line_share`),
    cumulatively over the order's refunds (`wallets_reversed`), as points do."""
    given_: dict[str, dict[str, int]] = order.get("campaign_wallets") or {}
    on_lines: dict[str, dict[str, dict[str, int]]] = order.get("wallet_lines") or {}
    taken: dict[str, dict[str, int]] = order.get("wallets_reversed") or {}
    found: dict[str, dict[str, int]] = {}
    for cid, by_wallet in given_.items():
        for wallet, amount in by_wallet.items():
            lines = on_lines.get(cid, {}).get(wallet, {})
            target = _part(amount - sum(lines.values()), r.share)
            target += sum(_part(n, r.line_share(int(k))) for k, n in lines.items())
            due = target - int(taken.get(cid, {}).get(wallet, 0))
            if due > 0:
                found.setdefault(cid, {})[wallet] = due
    return found


def cancel(change: Change, kept: dict[str, Any], ref: str) -> dict[str, dict[str, int]]:
    """A redemption cancelled: the wallet amounts it paid back into the buckets they came from (a
    lapsed one gives nothing), and what its campaigns gave in wallets taken back (never below 0).
    Returns the answer's wallet fields, those not empty."""
    restored: dict[str, int] = {}
    lapsed: dict[str, int] = {}
    for wallet, taken in sorted((kept.get("wallet_paid") or {}).items()):
        restored[wallet], lapsed[wallet] = change.wallet_restore(wallet, taken, change.at, ref, "redemption cancelled")
    given_: dict[str, int] = {}
    for by_wallet in (kept.get("wallets_given") or {}).values():
        for wallet, n in by_wallet.items():
            given_[wallet] = given_.get(wallet, 0) + int(n)
    reversed_ = {w: min(n, change.wallet_balance(w)) for w, n in sorted(given_.items())}
    for wallet, n in reversed_.items():
        change.wallet_debit(wallet, n, change.at, ref, "reverse", "redemption cancelled")
    found = {"wallet_restored": restored, "wallet_lapsed": lapsed, "wallet_reversed": reversed_}
    return {k: {w: n for w, n in v.items() if n} for k, v in found.items() if any(v.values())}


def _part(amount: int, share: Fraction) -> int:
    return math.floor(amount * share)


def reverse(
    change: Change, order: dict[str, Any], r: refunds.Refunded, ref: str, reason: str
) -> tuple[dict[str, dict[str, int]], dict[str, dict[str, int]]]:
    """A refund's wallet reversal: (the answer's `wallets_reversed` and `wallets_unrecovered` per
    wallet, the order's `wallets_reversed` after it). An amount already spent is not taken below a
    balance of 0: the member owes it (`wallets_owed`, settled by what a cancel gives back, as
    `points_owed`), and the order counts it as reversed all the same, so a later refund does not take
    it again."""
    due = owed(order, r)
    handled = {cid: dict(by) for cid, by in (order.get("wallets_reversed") or {}).items()}
    per_wallet: dict[str, int] = {}
    for cid, by_wallet in due.items():
        for wallet, n in by_wallet.items():
            handled.setdefault(cid, {})[wallet] = int(handled.get(cid, {}).get(wallet, 0)) + n
            per_wallet[wallet] = per_wallet.get(wallet, 0) + n
    taken, unrecovered = take_back(change, per_wallet, ref, reason)
    return {"wallets_reversed": taken, "wallets_unrecovered": unrecovered}, handled


def take_back(
    change: Change, per_wallet: dict[str, int], ref: str, reason: str
) -> tuple[dict[str, int], dict[str, int]]:
    """Amounts given taken back (a refund, a cancelled referral), never below a balance of 0: what is
    spent already the member owes (`wallets_owed`). Returns (taken, unrecovered) per wallet."""
    taken = {w: min(n, change.wallet_balance(w)) for w, n in sorted(per_wallet.items())}
    debts = change.profile.wallets_owed
    for wallet, n in taken.items():
        change.wallet_debit(wallet, n, change.at, ref, "reverse", reason)
        if per_wallet[wallet] > n:
            debts[wallet] = debts.get(wallet, 0) + per_wallet[wallet] - n
    unrecovered = {w: n - taken[w] for w, n in per_wallet.items() if n > taken[w]}
    return {w: n for w, n in taken.items() if n}, unrecovered


def view(program: Program, profile: Profile, today: date) -> dict[str, dict[str, Any]]:
    """The member view's `wallets`: each wallet of the program, its balance and what expires when
    (lapsed buckets left out even before the points run)."""
    shown = {}
    for wallet in program.wallets:
        live, _ = buckets.split_expired(profile.wallets.get(wallet, {}), today)
        expiring = [{"amount": n, "expires_on": d} for d, n in sorted(live.items()) if d != buckets.NEVER]
        owed = profile.wallets_owed.get(wallet, 0)
        shown[wallet] = {"balance": buckets.total(live), "owed": owed, "expiring": expiring}
    return shown
