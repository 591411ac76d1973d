"""Grants to an audience through the real handlers (moto): PUT, the worker's pages, GET, cancel."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from loyalty.runtime import store
from loyalty.store.codec import dump
from loyalty.store.keys import PROFILE_SK, key, member_pk
from loyalty.usecases import grants
from tests.handlers.conftest import Api
from tests.support import Context, load_function

P = "/programs/demo"
G = f"{P}/grants"
GIFT = {"audience": {"tier": "star"}, "points": 50, "coupons": ["welcome-10"], "reason": "a year with us"}


def drain() -> int:
    """The sweep worker on every message of the work queue until none is left; the messages run."""
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName="work")["QueueUrl"]
    worker = load_function("sweep_worker").handler
    ran = 0
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        records = [
            {"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"], "attributes": {}}
            | {"messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs", "awsRegion": "us-east-1"}
            | {"eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:work"}
            for m in messages
        ]
        assert worker({"Records": records}, Context()) == {"batchItemFailures": []}
        for m in messages:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        ran += len(messages)
    return ran


def enrol(api: Api, *mids: str) -> None:
    for mid in mids:
        assert api.call("enrol", "POST", f"{P}/members", {"member_id": mid})[0] == 201


def block(mid: str) -> None:
    """A blocked member, as the block route will leave it (set directly: that route is another part's)."""
    store().client.update_item(
        TableName="LoyaltyTable",
        Key=key(member_pk("demo", mid), PROFILE_SK),
        UpdateExpression="SET blocked = :b",
        ExpressionAttributeValues=dump({":b": {"at": "2026-11-01T00:00:00+00:00", "reason": "fraud"}}),
    )


def report(api: Api, gid: str) -> dict[str, Any]:
    status, body = api.call("grants", "GET", f"{G}/{gid}")
    assert status == 200, body
    return body


def test_a_grant_gives_every_member_of_the_audience_its_share_once_and_skips_the_blocked(
    api: Api, demo: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(grants, "PAGE", 2)  # three pages of the five members
    enrol(api, "m1", "m2", "m3", "m4", "m5")
    block("m3")
    status, body = api.call("grants", "PUT", f"{G}/g1", GIFT)
    assert (status, body) == (202, {"grant_id": "g1", "status": "queued"})
    assert report(api, "g1")["status"] == "queued"
    assert drain() == 3
    got = report(api, "g1")
    assert got["status"] == "done" and got["pages"] == 3 and got["finished_at"]
    assert (got["members_read"], got["members_matched"], got["members_granted"], got["members_skipped"]) == (5, 5, 4, 1)
    assert got["skipped"] == {"blocked": 1, "erased": 0}
    assert (got["points"], got["coupons"]) == (200, 4)
    ledger = api.call("members", "GET", f"{P}/members/m1/ledger")[1]["entries"]
    assert (ledger[0]["type"], ledger[0]["points"], ledger[0]["ref"]) == ("bonus", 50, "grant:g1")
    coupons = api.call("members", "GET", f"{P}/members/m1/coupons")[1]["coupons"]
    assert [c["source"] for c in coupons].count("grant:g1") == 1
    assert api.call("members", "GET", f"{P}/members/m3")[1]["points"]["balance"] == 100  # the welcome only
    # The same body again answers the same grant; a page run again (a redelivery) changes nothing.
    assert api.call("grants", "PUT", f"{G}/g1", GIFT) == (200, {"grant_id": "g1", "status": "done"})
    assert grants.page(store(), grants.GrantWork(program_id="demo", grant_id="g1", page=1), grants.clock.now()) == (
        {},
        [],
    )
    assert report(api, "g1") == got
    assert api.call("members", "GET", f"{P}/members/m1")[1]["points"]["balance"] == 150


def test_a_page_run_twice_counts_once_and_grants_once(api: Api, demo: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(grants, "PAGE", 2)
    enrol(api, "m1", "m2", "m3")
    api.call("grants", "PUT", f"{G}/g1", GIFT)
    work = grants.GrantWork(program_id="demo", grant_id="g1")
    # A worker that wrote the members and died before the page was recorded: the retry counts them once.
    real = store().record_page
    monkeypatch.setattr(store(), "record_page", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("died")))
    with pytest.raises(RuntimeError):
        grants.page(store(), work, grants.clock.now())
    monkeypatch.setattr(store(), "record_page", real)
    counted, following = grants.page(store(), work, grants.clock.now())
    assert counted["members_granted"] == 2 and [f.page for f in following] == [1]
    assert grants.page(store(), work, grants.clock.now()) == ({}, following)  # a redelivery: the chain goes on
    drain()
    grants.page(store(), following[0], grants.clock.now())
    got = report(api, "g1")
    assert (got["status"], got["members_granted"], got["points"], got["pages"]) == ("done", 3, 150, 2)
    assert api.call("members", "GET", f"{P}/members/m1")[1]["points"]["balance"] == 150


def test_when_narrows_the_audience(api: Api, demo: str) -> None:
    enrol(api, "m1", "m2")
    assert api.call("earn", "POST", f"{P}/members/m2/purchases", {"order_id": "o1", "amount_minor": 100})[0] == 201
    body = {**GIFT, "audience": {"stage": "active", "when": "member.orders_total >= 1"}, "coupons": []}
    body["audience"] = {"tier": "star", "when": "member.orders_total >= 1"}
    assert api.call("grants", "PUT", f"{G}/g2", body)[0] == 202
    drain()
    got = report(api, "g2")
    assert (got["members_read"], got["members_matched"], got["members_granted"], got["points"]) == (2, 1, 1, 50)
    assert got["audience"] == {"tier": "star", "when": "member.orders_total >= 1"}


def test_cancel_stops_the_pages_not_yet_run(api: Api, demo: str) -> None:
    enrol(api, "m1")
    api.call("grants", "PUT", f"{G}/g1", GIFT)
    status, got = api.call("grants", "POST", f"{G}/g1/cancel", {})
    assert status == 200 and got["status"] == "cancelled" and got["cancelled_at"]
    assert api.call("grants", "POST", f"{G}/g1/cancel", {})[1] == got  # again: the same answer
    drain()
    assert report(api, "g1") == got and got["members_granted"] == 0
    assert api.call("members", "GET", f"{P}/members/m1")[1]["points"]["balance"] == 100


def test_a_done_grant_cannot_be_cancelled(api: Api, demo: str) -> None:
    enrol(api, "m1")
    api.call("grants", "PUT", f"{G}/g1", GIFT)
    drain()
    status, body = api.call("grants", "POST", f"{G}/g1/cancel", {})
    assert status == 409 and body["error"]["code"] == "conflict"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"audience": {"tier": "star", "when": "member.nope > 1"}}, "audience.when"),
        ({"audience": {"tier": "star", "when": "order.amount_minor > 1"}}, "audience.when"),
        ({"audience": {"tier": "star", "when": "member.tier"}}, "audience.when"),
        ({"audience": {"tier": "star", "tag": "vip"}}, "audience"),
        ({"audience": {"segment": "nobody"}}, "audience.segment"),
        ({"audience": {"tier": "platinum"}}, "audience.tier"),
        ({"reason": "   "}, "reason"),
        ({"coupons": ["no-such"]}, "coupons[0]"),
        ({"wallet": {"id": "stamps", "amount": 1}}, "wallet.id"),
        ({"points": 0, "coupons": []}, "body"),
        ({"points": -1}, "points"),
        ({"reason": "a\u0007b"}, "reason"),
    ],
)
def test_a_bad_grant_is_a_422_naming_the_field(api: Api, demo: str, change: dict[str, Any], field: str) -> None:
    status, body = api.call("grants", "PUT", f"{G}/g1", {**GIFT, **change})
    assert status == 422, body
    assert field in [d["field"] for d in body["error"]["details"]], body
    assert api.call("grants", "GET", f"{G}/g1")[0] == 404


def test_another_body_under_the_same_id_is_an_idempotency_conflict(api: Api, demo: str) -> None:
    assert api.call("grants", "PUT", f"{G}/g1", GIFT)[0] == 202
    status, body = api.call("grants", "PUT", f"{G}/g1", {**GIFT, "points": 51})
    assert status == 409 and body["error"]["code"] == "idempotency_conflict"
    assert api.call("grants", "PUT", "/programs/nope/grants/g1", GIFT)[0] == 404
    assert json.loads(json.dumps(report(api, "g1")))["status"] == "queued"


def test_a_lost_first_message_is_a_503_and_the_same_put_sends_it_again(
    api: Api, demo: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from loyalty import workqueue

    enrol(api, "m1")
    real = workqueue.send

    def down(messages: Any) -> int:
        raise RuntimeError("SQS refused 1 messages")

    monkeypatch.setattr(workqueue, "send", down)
    status, body = api.call("grants", "PUT", f"{G}/g1", GIFT)
    assert status == 503 and body["error"]["code"] == "unavailable"
    monkeypatch.setattr(workqueue, "send", real)
    assert api.call("grants", "PUT", f"{G}/g1", GIFT) == (200, {"grant_id": "g1", "status": "queued"})
    assert drain() == 1 and report(api, "g1")["members_granted"] == 1


def test_a_fact_outside_a_grants_when_is_named_as_not_here(api: Api, demo: str) -> None:
    body = {**GIFT, "audience": {"tier": "star", "when": "order.amount_minor > 1"}}
    status, answer = api.call("grants", "PUT", f"{G}/g1", body)
    assert status == 422, answer
    (detail,) = [d for d in answer["error"]["details"] if d["field"] == "audience.when"]
    assert detail["message"].startswith("order is not a fact here (facts: member, at"), detail
