"""The birthday gift is valid at least through the birthday month (issue 14, section 5)."""

from __future__ import annotations

from datetime import UTC, datetime

from loyalty.runtime import store
from loyalty.schemas import Enrol
from loyalty.usecases import members, scheduler
from tests.handlers.conftest import Api
from tests.support import program


def test_a_birthday_coupon_issued_on_the_3rd_covers_a_birthday_on_the_20th(api: Api) -> None:
    doc = program("demo")
    doc["coupons"]["welcome-10"]["valid_days"] = 14
    status, body = api.call("programs", "PUT", "/programs/demo", doc)
    assert status == 200, body
    third = datetime(2026, 3, 3, 4, tzinfo=UTC)  # 12:00 in Shanghai
    members.enrol(store(), "demo", Enrol(member_id="m1", birthday="1990-03-20"), third)
    for item in scheduler.plan(third, ["benefits"]):
        scheduler.work(store(), item, lambda: 900)
    status, wallet = api.call("members", "GET", "/programs/demo/members/m1/coupons")
    assert status == 200, wallet
    coupons = {c["source"].split(":")[0]: c for c in wallet["coupons"]}
    assert coupons["welcome"]["valid_until"].startswith("2026-03-16T15:59:59")  # 14 days, as the template
    assert coupons["birthday"]["valid_until"].startswith("2026-03-31T15:59:59")  # the birthday month's end
