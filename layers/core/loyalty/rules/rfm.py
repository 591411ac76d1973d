"""RFM: recency, frequency and monetary scores (1-5) from the program's cut-offs, and the segment they
put a member in. The segment is kept on the profile (refreshed by every write, and by the scheduled
`rfm` kind on the day recency alone would change it), so its changes reach the stream and the health
figures count members per segment without reading members."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from .. import clock
from ..member import Profile
from ..program import Program, Rfm
from .posting import Change


def scores(rfm: Rfm, profile: Profile, today: date, zone: ZoneInfo) -> tuple[int, int, int] | None:
    """(recency, frequency, monetary), or None for a member who never bought."""
    if profile.last_purchase_at is None:
        return None
    idle = (today - clock.local_date(profile.last_purchase_at, zone)).days
    months = set(clock.months_back(today, rfm.window_months))
    orders = sum(n for m, n in profile.orders_by_month.items() if m in months)
    spend = sum(n for m, n in profile.spend_by_month.items() if m in months)
    recency = 5 - bisect_left(rfm.recency_days, idle)  # within the first cut-off: 5
    return (
        max(recency, 1),
        1 + bisect_right(rfm.frequency_orders, orders),  # 1 + the cut-offs reached
        1 + bisect_right(rfm.monetary_minor, spend),
    )


def segment(r: int, f: int, m: int) -> str:
    if r >= 4 and f >= 4 and m >= 4:
        return "champions"
    if r >= 3 and f >= 4:
        return "loyal"
    if r >= 4:
        return "promising"
    if r <= 2 and f >= 3:
        return "at_risk"
    if r <= 2:
        return "hibernating"
    return "needs_attention"


def segment_of(program: Program, profile: Profile, today: date) -> str | None:
    if program.rfm is None:
        return None
    found = scores(program.rfm, profile, today, program.zone)
    return segment(*found) if found else "prospect"


def next_change(program: Program, profile: Profile, today: date) -> date | None:
    """The next day the recency score drops with no purchase (the segment may change then)."""
    if program.rfm is None or profile.last_purchase_at is None:
        return None
    last = clock.local_date(profile.last_purchase_at, program.zone)
    for cut in program.rfm.recency_days:
        day = last + timedelta(days=cut + 1)
        if day > today:
            return day
    return None


def refresh(change: Change) -> None:
    """The `rfm` kind, and every write: the segment as of the change's day."""
    change.profile.segment = segment_of(change.program, change.profile, change.today)
