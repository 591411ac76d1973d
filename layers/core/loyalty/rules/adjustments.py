"""An adjustment: a support agent's correction of a member's balance."""

from __future__ import annotations

from ..errors import points_asked_by
from .posting import Change


def adjust(change: Change, points: int, ref: str, reason: str, actor: str | None, agent: str | None = None) -> None:
    """A credit counts as earned (new points, with the program's expiry); a debit spends the
    earliest-expiring points first and is refused (409 insufficient_points) past the balance."""
    if points > 0:
        change.credit("adjust", points, change.at, ref, reason)
    else:
        with points_asked_by("points"):
            change.debit("adjust", -points, change.at, ref, reason)
    change.entries[-1].actor = actor
    change.entries[-1].agent = agent
