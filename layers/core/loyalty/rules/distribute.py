"""The integer distributor: an amount of money split over lines in proportion to their weights (what
each still costs), so that the shares sum to the amount exactly and no share passes its weight."""

from __future__ import annotations


def proportional(amount: int, weights: list[int]) -> list[int]:
    """Shares of `amount` (at most the sum of `weights`, which are >= 0), each `amount * w // total`
    rounded down; the remainder goes to the heaviest line (the first of equals), and what would take a
    line past its weight to the next heaviest, so that every share stays within its weight."""
    total = sum(weights)
    amount = min(amount, total)
    if amount <= 0:
        return [0] * len(weights)
    shares = [amount * w // total for w in weights]
    left = amount - sum(shares)
    for at in sorted(range(len(weights)), key=lambda k: -weights[k]):  # stable: first of equals first
        if not left:
            break
        take = min(left, weights[at] - shares[at])
        shares[at] += take
        left -= take
    return shares
