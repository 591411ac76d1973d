"""A grant to an audience, member by member: what the program must hold for it (checked at PUT), whether
its `when` holds for a member, and what one member's share gives (through the Change, like every grant).

`when` reads `member` and `at` only (as a restricted item's `who`): the facts of a member, not of an
event. It is evaluated on the profile the member's share is written on.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..member import Profile
from ..program import SEGMENTS, Grant, Program
from . import expressions, facts
from .campaigns import Event
from .posting import Change

TRIGGER = "checkout"  # whose facts' `member` and `at` a grant's `when` reads (the checker's scope)
ROOTS = ("member", "at")


def problems(program: Program, body: Any) -> list[dict[str, str]]:
    """Every problem of a grant's body against its program, by field: its `when`, an unknown coupon
    template, wallet or segment. The checker is loaded only here (the PUT), never by the worker."""
    from . import conditions  # the CEL checker: only the programs function and a grant's PUT load it

    found: list[dict[str, str]] = []
    if body.audience.when is not None:
        wallets, counters = list(program.wallets), [c.id for c in program.counters]
        scope = expressions.program_facts(TRIGGER, wallets, counters)
        scope = {root: fact for root, fact in scope.items() if root in ROOTS}
        for message in conditions.problems(body.audience.when, TRIGGER, facts=scope):
            found.append({"field": "audience.when", "message": message})
    if body.audience.tier is not None and program.level(body.audience.tier) is None:
        found.append({"field": "audience.tier", "message": f"the program has no tier {body.audience.tier!r}"})
    if body.audience.segment is not None and body.audience.segment not in SEGMENTS:
        found.append({"field": "audience.segment", "message": f"one of {', '.join(SEGMENTS)}"})
    for i, template in enumerate(body.coupons):
        if template not in program.coupons:
            found.append({"field": f"coupons[{i}]", "message": f"the program has no coupon template {template!r}"})
    if body.wallet is not None and body.wallet.id not in program.wallets:
        found.append({"field": "wallet.id", "message": f"the program has no wallet {body.wallet.id!r}"})
    return found


def condition(source: str | None) -> tuple[expressions.Compiled, frozenset[str]] | None:
    """A `when` compiled once for a page, with the fact paths it reads; None: no `when`."""
    if source is None:
        return None
    return expressions.compile(source), facts.reads(source, TRIGGER)


def matches(
    program: Program, profile: Profile, when: tuple[expressions.Compiled, frozenset[str]] | None, at: datetime
) -> bool:
    if when is None:
        return True
    compiled, paths = when
    built = facts.build(program, profile, Event(TRIGGER, at, ""), paths)
    return expressions.test(compiled, expressions.activation(built))


def give(change: Change, body: Any, grant_id: str) -> dict[str, int]:
    """One member's share: points (a `bonus` entry with the grant's reason), coupons (Change.grant, its
    site `grant:{id}`, no budget) and a wallet amount, all traced to `grant:{id}`. What it gave."""
    source = f"grant:{grant_id}"
    change.credit("bonus", body.points, change.at, source, body.reason)
    coupons = change.grant(Grant(coupons=body.coupons), "bonus", change.at, source, source)
    wallet = body.wallet.amount if body.wallet is not None else 0
    if body.wallet is not None:
        change.wallet_credit(body.wallet.id, wallet, change.at, source, "bonus", body.reason)
    return {"points": body.points, "coupons": len(coupons), "wallet": wallet}
