"""The per-member limits beyond a count of applications per period (API.md "The rule engine's
reach"): `{"points": N, "per": ...}`, at most N points a member per period (an application that would
pass it gives what is left), and `{"count": N, "per": "object"}`, at most N applications per member
and `activity.object_id` ("one review per product").

Both live on the member's CampaignUse, so they cost no round trip and commit with the write. Points
are kept per period as the counts are (rules/campaigns prunes the periods it no longer keeps). The
objects are kept as 12-hex-digit digests (48 bits: a collision among one member's objects is
negligible), at most MAX_OBJECTS per campaign and member, and at most MAX_OBJECT_CAMPAIGNS campaigns
of a program limit per object, so they add at most ~2 x 5 x 200 x 20 bytes to a profile; a member at
MAX_OBJECTS gets nothing more from that campaign for a new object (never twice for the same one)."""

from __future__ import annotations

import hashlib

from ..member import CampaignUse
from ..program import MAX_OBJECT_CAMPAIGNS, PerMember
from . import distribute

MAX_OBJECTS = 200
__all__ = ["MAX_OBJECTS", "MAX_OBJECT_CAMPAIGNS"]


def object_key(object_id: str) -> str:
    return hashlib.sha256(object_id.encode()).hexdigest()[:12]


def object_reached(limit: PerMember | None, use: CampaignUse | None, object_id: str | None) -> bool:
    """A per-object limit the event cannot pass: its object has had `count` applications, the member
    has MAX_OBJECTS objects counted already, or the activity names no object (nothing to count by)."""
    if limit is None or limit.per != "object":
        return False
    if not object_id:
        return True
    objects = use.objects if use else {}
    key = object_key(object_id)
    if key in objects:
        return objects[key] >= (limit.count or 1)
    return len(objects) >= MAX_OBJECTS


def points_left(limit: PerMember | None, use: CampaignUse | None, period: str) -> int | None:
    """Points the member may still get in the period (None: no points limit)."""
    if limit is None or limit.points is None:
        return None
    return max(0, limit.points - (use.points.get(period, 0) if use else 0))


def trim(total: int, parts: list[int], left: int) -> list[int]:
    """The parts of `total` points cut down to `left` in proportion (what the campaign gives is
    made of: ordinary points, points on lines, points with an expiry of their own)."""
    if total <= left:
        return parts
    return distribute.proportional(left, parts)


def counted(
    use: CampaignUse, limit: PerMember | None, period: str, keep: str, points: int, obj: str | None
) -> CampaignUse:
    """The use after an application: its points in the period (the periods older than `keep`, of
    another kind, dropped), and its object."""
    if limit is None:
        return use
    given, objects = use.points, use.objects
    if limit.points is not None:
        kept = {k: n for k, n in use.points.items() if len(k) == len(keep) and k >= keep}
        given = {**kept, period: kept.get(period, 0) + points}
    if limit.per == "object" and obj:
        key = object_key(obj)
        objects = {**use.objects, key: use.objects.get(key, 0) + 1}
    return CampaignUse.model_construct(total=use.total, periods=use.periods, points=given, objects=objects)
