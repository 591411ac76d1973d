"""The audiences a member is in (tier, tag, segment, stage): what the audience index holds of it.

The profile records the entries its index items hold (`Profile.audiences`), as it records its due
days: a write compares them with what the profile says now and moves only those that changed, so a
write that changes none of the four attributes writes no index item. A profile from before the index
(None) gets all of its entries at its next write (or from the migration, usecases/audiences.py).
"""

from __future__ import annotations

from ..member import Profile


def entry(attr: str, value: str) -> str:
    """One entry, `attr#value` (`#` never occurs in an id, a segment or a stage)."""
    return f"{attr}#{value}"


def entries(profile: Profile) -> set[str]:
    """Every audience the profile is in now."""
    held = {entry("stage", profile.lifecycle_stage)} | {entry("tag", t) for t in profile.tags}
    if profile.tier_id:
        held.add(entry("tier", profile.tier_id))
    if profile.segment:
        held.add(entry("segment", profile.segment))
    return held


def moves(profile: Profile) -> dict[str, bool]:
    """The entries to put (True) or delete (False) so the index says what the profile says; records
    the new entries on the profile (written in the same transaction as the moves)."""
    before = set(profile.audiences or ())
    now = entries(profile)
    profile.audiences = sorted(now)
    return {e: True for e in sorted(now - before)} | {e: False for e in sorted(before - now)}
