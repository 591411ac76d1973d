"""A coupon of a grant that names no member (a tier's monthly benefit) is each member's own (issue 27,
item 1): the benefits run through the real handlers, then each member uses its copy once."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import boto3
import pytest

from tests.handlers.conftest import Api
from tests.handlers.test_api import assert_error
from tests.handlers.test_erasure import everything
from tests.support import ROOT, Context, load_function

P = "/programs/demo"


def scheduled_run(monkeypatch: pytest.MonkeyPatch, function: str, at: datetime) -> None:
    """A scheduled function's run, then the sweep worker on every work item it queued."""
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="work")["QueueUrl"]
    monkeypatch.setenv("WORK_QUEUE_URL", url)
    event = json.loads((ROOT / "events" / "issue-benefits-scheduled.json").read_text())
    load_function(function).handler({**event, "time": at.isoformat().replace("+00:00", "Z")}, Context())
    worker = load_function("sweep_worker").handler
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        records = [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": {},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:work",
                "awsRegion": "us-east-1",
            }
            for m in messages
        ]
        assert worker({"Records": records}, Context()) == {"batchItemFailures": []}
        for m in messages:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


def tier_coupon(api: Api, member: str, month: str) -> dict:
    wallet = api.call("members", "GET", f"{P}/members/{member}/coupons")[1]["coupons"]
    [coupon] = [c for c in wallet if c["source"] == f"tier:gold:{month}"]
    return coupon


def test_two_gold_members_each_use_their_own_monthly_coupon(
    api: Api, demo: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for member in ("m1", "m2"):
        assert api.call("enrol", "POST", f"{P}/members", {"member_id": member})[0] == 201
        status, body = api.call(
            "earn", "POST", f"{P}/members/{member}/purchases", {"order_id": f"o-{member}", "amount_minor": 150000}
        )
        assert (status, body["tier"]) == (201, "gold"), body
    now = datetime.now(UTC)
    scheduled_run(monkeypatch, "issue_benefits", now)
    month = now.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")  # the demo program's month
    first, second = tier_coupon(api, "m1", month), tier_coupon(api, "m2", month)

    for member, coupon in (("m1", first), ("m2", second)):
        use = f"{P}/members/{member}/coupons/{coupon['coupon_id']}/use"
        status, body = api.call("redeem", "POST", use, {"order_id": f"till-{member}", "order_amount_minor": 6000})
        assert status == 200 and body["discount_minor"] == 1500, body  # gold's monthly "15 off 60"
        assert api.call("redeem", "POST", use, {"order_id": f"till-{member}", "order_amount_minor": 6000}) == (
            200,
            body,
        )
        again = api.call("redeem", "POST", use, {"order_id": f"other-{member}", "order_amount_minor": 6000})
        assert_error(*again, 409, "coupon_unavailable")
    assert [tier_coupon(api, m, month)["status"] for m in ("m1", "m2")] == ["used", "used"]
    assert first["coupon_id"] != second["coupon_id"]


def gold_member(api: Api, member: str, order_id: str) -> None:
    assert api.call("enrol", "POST", f"{P}/members", {"member_id": member})[0] == 201
    body = {"order_id": order_id, "amount_minor": 150000}
    assert api.call("earn", "POST", f"{P}/members/{member}/purchases", body)[1]["tier"] == "gold"


def test_an_erased_member_s_coupon_use_is_not_a_later_member_s_of_the_same_id(
    api: Api, demo: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same member id enrolled again gets the same coupon id for the same grant: the erased member's
    use reference goes with the pseudonym, so the new member's use is its own (not a repeat, not a 409)."""
    now = datetime.now(UTC)
    month = now.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")
    till = {"order_id": "till-1", "order_amount_minor": 6000}
    gold_member(api, "m1", "o1")
    scheduled_run(monkeypatch, "issue_benefits", now)
    erased = tier_coupon(api, "m1", month)
    use = f"{P}/members/m1/coupons/{erased['coupon_id']}/use"
    assert api.call("redeem", "POST", use, till)[0] == 200
    assert api.call("enrol", "DELETE", f"{P}/members/m1")[0] == 200
    [profile] = [i for i in everything(api) if i["sk"] == "PROFILE" and "erased_at" in i]
    pseudonym = profile["member_id"]
    naming = [i["pk"] for i in everything(api) if "m1" in json.dumps(i)]
    assert naming == ["ERASED#demo#m1"]
    [moved] = [i for i in everything(api) if i["pk"].startswith("REF#demo#coupon_use#")]
    assert (moved["pk"], moved["member_id"]) == (f"REF#demo#coupon_use#{pseudonym}:{erased['coupon_id']}", pseudonym)

    gold_member(api, "m1", "o2")
    scheduled_run(monkeypatch, "issue_benefits", now)
    again = tier_coupon(api, "m1", month)
    assert again["coupon_id"] == erased["coupon_id"]  # the same member id and grant: the same id
    status, body = api.call("redeem", "POST", use, till)
    assert status == 200 and body["discount_minor"] == 1500, body  # gold's monthly "15 off 60"
    assert tier_coupon(api, "m1", month)["status"] == "used"  # a use of its own, not the erased one's repeat


def test_uses_written_before_member_references_are_still_answered(api: Api, demo: str) -> None:
    """A table written before coupon ids and use references named the member: a coupon's use reference
    under the coupon id alone. A repeat of that use still gets its first answer; another member's
    copy of a shared id is usable although such a reference names it (no migration needed)."""
    from loyalty.runtime import store
    from loyalty.schemas import CouponUseBody
    from loyalty.store import CouponUse, MemberWrite, Ref
    from loyalty.usecases.pipeline import request_hash

    for member in ("m1", "m2"):
        assert api.call("enrol", "POST", f"{P}/members", {"member_id": member})[0] == 201
    mine = api.call("members", "GET", f"{P}/members/m1/coupons")[1]["coupons"][0]["coupon_id"]
    theirs = api.call("members", "GET", f"{P}/members/m2/coupons")[1]["coupons"][0]["coupon_id"]
    till = {"order_id": "till-1", "order_amount_minor": 6000}
    first = {"coupon_id": mine, "discount_minor": 1000, "order_id": "till-1", "kind": "amount_off"}
    digest = request_hash("demo", "m1", CouponUseBody(**till))
    # As the former code wrote m1's use: the coupon used, its reference under the coupon id alone; and
    # a reference so named for m2's coupon id too, as a use of a shared id by m1 left it.
    use = CouponUse(member_id="m1", coupon_id=mine, order_id="till-1", at="2026-12-03T04:00:00Z")
    for coupon, used in ((mine, use), (theirs, None)):
        old = Ref("coupon_use", coupon, "m1", digest, first)
        store().commit(
            MemberWrite(change=None, expected_version=None, coupon_uses=[used] if used else [], ref=old), "demo"
        )

    assert api.call("redeem", "POST", f"{P}/members/m1/coupons/{mine}/use", till) == (200, first)
    again = api.call("redeem", "POST", f"{P}/members/m1/coupons/{mine}/use", {**till, "order_id": "t2"})
    assert_error(*again, 409, "coupon_unavailable")
    changed = api.call("redeem", "POST", f"{P}/members/m1/coupons/{mine}/use", {**till, "order_amount_minor": 6001})
    assert_error(*changed, 409, "idempotency_conflict", "order_id")  # the same order, another payload
    status, body = api.call("redeem", "POST", f"{P}/members/m2/coupons/{theirs}/use", till)
    assert status == 200 and body["coupon_id"] == theirs, body
