"""Member tags: the one way they change (the tags route, campaigns' `tag` and `untag` effects).

A member's tags are a sorted set of Ids (validated where they come in: the request body, the program
document), at most MAX_TAGS. Adding a tag held already, or removing one not held, changes nothing, so
applying the same change twice gives the same tags.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..errors import ValidationFailed
from ..program import MAX_TAGS
from .posting import Change


def apply(change: Change, add: Iterable[str], remove: Iterable[str], *, refuse: bool = True) -> list[str]:
    """The member's tags after removing `remove` and adding `add` (a tag in both is added). Over
    MAX_TAGS: a 422 naming `add` when `refuse` (a request), else the adds past the bound are skipped
    in the order given (a campaign effect must not fail the purchase that triggers it)."""
    before = set(change.profile.tags)
    held = before - set(remove)
    new = [tag for tag in dict.fromkeys(add) if tag not in held]
    room = MAX_TAGS - len(held)
    if len(new) > room:
        if refuse:
            message = f"at most {MAX_TAGS} tags per member"
            detail = {"field": "add", "message": message, "limit": MAX_TAGS, "held": len(held)}
            raise ValidationFailed(f"add: {message}", [detail])
        new = new[: max(room, 0)]
    change.profile.tags = sorted(held.union(new))
    change.tags_added += [tag for tag in new if tag not in before]  # for tag_added (rules/campaigns.after)
    return change.profile.tags
