"""Back-dated events (moto): a purchase's points are earned in the month of its `paid_at`, an
activity's in the month of its `at` (program-local), so they expire as if posted on time; points whose
expiry has already passed when they are credited lapse in the same write (an `expire` entry)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from tests.handlers.conftest import Api
from tests.handlers.test_api import M, buy, enrol, ledger

SHANGHAI = ZoneInfo("Asia/Shanghai")


def month_end_after(at: datetime, months: int) -> str:
    """The last day of the program-local month `months` after the one of `at`."""
    local = at.astimezone(SHANGHAI).date()
    y, m = divmod(local.month - 1 + months + 1, 12)
    return (date(local.year + y, m + 1, 1) - timedelta(days=1)).isoformat()


def migrated(api: Api) -> None:
    enrol(api, enrolled_at="2020-01-02T03:04:05+08:00")  # no welcome, no first-order bonus


def test_a_back_dated_order_expires_from_the_month_it_was_paid(api: Api, demo: str) -> None:
    migrated(api)
    paid = datetime.now(UTC).replace(microsecond=0) - timedelta(days=40)
    status, reply = buy(api, "o1", 60000, paid_at=paid.isoformat())
    assert status == 201, reply
    view = api.call("members", "GET", M)[1]
    assert view["points"]["expiring"] == [{"points": reply["points_earned"], "expires_on": month_end_after(paid, 12)}]


def test_an_order_paid_longer_ago_than_the_expiry_lapses_in_the_same_write(api: Api, demo: str) -> None:
    migrated(api)
    paid = datetime.now(UTC).replace(microsecond=0) - timedelta(days=400)
    status, reply = buy(api, "o1", 10000, paid_at=paid.isoformat())
    assert status == 201 and reply["points_earned"] == 100 and reply["balance"] == 0, reply
    view = api.call("members", "GET", M)[1]
    assert view["points"]["balance"] == 0 and view["points"]["expiring"] == []
    assert view["points"]["lifetime_earned"] == 100
    entries = ledger(api)  # newest first; the ledger still sums to the balance
    assert [(e["type"], e["points"], e["balance_after"]) for e in entries] == [("expire", -100, 0), ("earn", 100, 100)]
    # A later order on time is unaffected, and its points are not taken by the lapsed ones.
    status, reply = buy(api, "o2", 10000)
    assert status == 201 and reply["balance"] == 100, reply


def share(api: Api, activity_id: str, at: datetime) -> tuple[int, dict]:
    return api.call(
        "earn", "POST", f"{M}/activities", {"activity_id": activity_id, "type": "share", "at": at.isoformat()}
    )


def test_a_back_dated_activity_expires_from_the_month_of_its_at(api: Api, demo: str) -> None:
    migrated(api)
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(days=45)
    status, reply = share(api, "a1", at)
    assert status == 201 and reply["points_earned"] == 10, reply
    view = api.call("members", "GET", M)[1]
    assert view["points"]["expiring"] == [{"points": 10, "expires_on": month_end_after(at, 12)}]
    old = datetime.now(UTC).replace(microsecond=0) - timedelta(days=400)
    status, reply = share(api, "a2", old)
    assert status == 201 and reply["balance"] == 10, reply
