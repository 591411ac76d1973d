"""Computed amounts: an effect's `points`, `growth` or `wallet.amount` as a CEL integer expression
over the event's facts (`{"points": "activity.streak_days * 2", "max": 20}`,
`{"wallet": {"id": "stamps", "amount": "order.units"}, "max": 10}`), capped at the effect's `max`. A result of 0 or
less, or an evaluation error, gives nothing, and the campaign does not apply (rules/campaigns.run).
Checked at PUT by rules/conditions (an int over the trigger's facts, within the cost bounds) and
program.amount_problems (`max` with an expression, and only with one)."""

from __future__ import annotations

from ..program import Effect, Program, computed_amount
from . import expressions


def compiled(program: Program, source: str) -> expressions.Compiled:
    """Compiled once per program version (kept with the Program, as the campaigns' conditions are)."""
    cache: dict[str, expressions.Compiled] = program.derived.setdefault("amounts", {})
    if source not in cache:
        cache[source] = expressions.compile(source)
    return cache[source]


def amount(program: Program, value: int | str | None, cap: int | None, act: expressions.Activation) -> int | None:
    """A fixed amount as it is (0 when absent); a computed one evaluated on the event's facts and
    capped at `cap`, None when it comes to nothing (0 or less, not an int, an error)."""
    if not isinstance(value, str):
        return value or 0
    result = expressions.value(compiled(program, value), act)
    if type(result) is not int or result <= 0:  # a bool is no amount
        return None
    return min(result, cap) if cap is not None else result


def reads_campaign(sources: list[int | str | None]) -> bool:
    """Whether any computed amount reads the `campaign` facts (its evaluation then needs its own view)."""
    return any(isinstance(s, str) and "campaign" in s for s in sources)


def sources(effect: Effect) -> list[str]:
    """The effect's computed amounts (the facts they read are built for them: rules/facts.py)."""
    source = computed_amount(effect)
    return [source] if source is not None else []
