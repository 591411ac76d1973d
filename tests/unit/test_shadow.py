"""rules/shadow: a side's first reach is marked once on the profile, the reference's figures add up to
the run's counters, and the report reads them back side by side."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from loyalty.member import Profile
from loyalty.rules import shadow


def member() -> Profile:
    return Profile(program_id="p", member_id="m", enrolled_at=datetime(2026, 1, 1, tzinfo=UTC))


def test_a_side_reaches_a_member_once_per_run_and_per_campaign() -> None:
    p = member()
    live = {shadow.TOTAL: Counter(points=10), "c1": Counter(points=5)}
    draft = {shadow.TOTAL: Counter(points=0)}
    first = shadow.record(p, "d", live, draft)
    assert first["figures"]["*"] == {"draft": {}, "live": {"points": 10, "members_reached": 1}}
    assert first["figures"]["c1"] == {"draft": {}, "live": {"points": 5, "members_reached": 1}}
    again = shadow.record(p, "d", {shadow.TOTAL: Counter(points=3)}, {shadow.TOTAL: Counter(coupons=1)})
    assert again["figures"]["*"] == {"draft": {"coupons": 1, "members_reached": 1}, "live": {"points": 3}}
    shadow.record(p, "other", {shadow.TOTAL: Counter(points=1)}, {})
    assert list(p.shadow_reach) == ["other"]  # another run: the earlier run's marks go


def test_the_events_figures_add_up_to_the_report() -> None:
    p = member()
    kept = shadow.record(p, "d", {shadow.TOTAL: Counter(points=10, cost_minor=10)}, {shadow.TOTAL: Counter(points=7)})
    rows: dict[str, dict[str, int]] = {}
    for _ in range(2):
        for cid, counts in shadow.deltas(kept).items():
            row = rows.setdefault(cid, {})
            for name, value in counts.items():
                row[name] = row.get(name, 0) + value
    report = shadow.report(rows)
    assert report["events"] == 2 and report["campaigns"] == []
    assert report["total"]["live"] == {
        "points": 20,
        "coupons": 0,
        "discount_minor": 0,
        "members_reached": 2,
        "cost_minor": 20,
    }
    assert report["total"]["draft"]["points"] == 14
