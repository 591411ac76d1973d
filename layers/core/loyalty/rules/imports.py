"""Bringing in a member of an existing base: the profile as the old system knew it, and its points as
ledger entries, so the ledger sums to the balance from the first day."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from .. import clock
from ..errors import ValidationFailed
from ..member import Profile
from ..program import MAX_IMPORTED_POINTS, Program
from . import buckets, tags
from .posting import Change
from .profile import check_birthday

if TYPE_CHECKING:
    from ..schemas import ImportMember  # the line's shape; rules read it as data


def profile(program: Program, program_id: str, line: ImportMember, import_id: str, now: datetime) -> Profile:
    """The member before its points: 422 naming the field for what the program cannot hold."""
    if line.enrolled_at > now:
        raise ValidationFailed.field("enrolled_at", "must not be in the future")
    if line.last_purchase_at is not None and line.last_purchase_at > now:
        raise ValidationFailed.field("last_purchase_at", "must not be in the future")
    check_birthday(line.birthday, clock.local_date(now, program.zone))
    held = sum(b.points for b in line.points) + (line.balance or 0)
    if held > MAX_IMPORTED_POINTS:
        raise ValidationFailed.field("points", f"at most {MAX_IMPORTED_POINTS} points in all, {held} given")
    if line.lifetime_earned is not None and line.lifetime_earned < held:
        raise ValidationFailed.field("lifetime_earned", f"less than the {held} points imported")
    tier_id, tier_since = None, None
    if program.tiers is not None:
        tier_id = line.tier_id or program.tiers.levels[0].id
        if program.level(tier_id) is None:
            known = ", ".join(level.id for level in program.tiers.levels)
            raise ValidationFailed.field("tier_id", f"unknown tier {tier_id!r} (the program's: {known})")
        tier_since = line.tier_since or line.enrolled_at
        if tier_since < line.enrolled_at or tier_since > now:
            raise ValidationFailed.field("tier_since", "must lie between enrolled_at and now")
    elif line.tier_id is not None:
        raise ValidationFailed.field("tier_id", "the program has no tiers")
    return Profile(
        program_id=program_id,
        member_id=line.member_id,
        enrolled_at=line.enrolled_at,
        birthday=line.birthday,
        channel=line.channel,
        tier_id=tier_id,
        tier_since=tier_since,
        lifecycle_stage="active",  # not new to the brand: no welcome, no new-member journey
        last_activity_at=max(line.enrolled_at, line.last_purchase_at or line.enrolled_at),
        last_purchase_at=line.last_purchase_at,
        orders_total=line.orders_total,
        lifetime_spend_minor=line.lifetime_spend_minor,
        imported=import_id,
    )


def admit(change: Change, line: ImportMember, import_id: str) -> None:
    """Each bucket an `adjust` credit with its own expiry; buckets already past are recorded and
    expire at once (an `expire` entry), never credited silently. Then the tags and lifetime total."""
    ref = f"import:{import_id}"
    for bucket in sorted(line.points, key=lambda b: (b.expires_on is None, b.expires_on)):
        day = bucket.expires_on.isoformat() if bucket.expires_on is not None else buckets.NEVER
        change.credit("adjust", bucket.points, change.at, ref, "import", expires_on=day)
    if line.balance:  # no expiry known: the program's, counted from the import
        change.credit("adjust", line.balance, change.at, ref, "import")
    change.expire_lapsed("expired before the import")
    if line.lifetime_earned is not None:
        change.profile.lifetime_earned = line.lifetime_earned
    tags.apply(change, line.tags, [])
    change.tags_fired.update(line.tags)  # a migrated member's tags set off no tag_added (as no enrolment)
