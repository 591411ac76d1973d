"""The sample events (`events/`, for `sam local invoke -e`) cover every route and work: played in order
against the demo program `make dev` loads, as one member's life, each answers 200 or 201."""

from __future__ import annotations

import json

from local.template import load_template
from tests.handlers.conftest import Api
from tests.support import ROOT, Context, load_function, program

# Enrolment first, points before they are spent, the card bought before it is refunded.
ORDER = [
    "programs-put",  # its own document; then the demo program replaces it, as `make dev` loads it
    "programs-get",
    "programs-card-roi",
    "programs-health",
    "programs-health-days",
    "programs-versions",
    "programs-version",
    "programs-draft-put",  # the sample's own document, published, then the demo program (version 2) restored
    "programs-draft-get",
    "programs-draft-shadow-start",  # running until 2099: the purchases below are also evaluated against it
    "programs-draft-shadow",
    "programs-draft-publish",
    "programs-version-restore",
    "programs-operations-scheduled",
    "programs-campaign",
    "programs-campaign-experiment",
    "programs-campaigns",
    "enrol-server",
    "enrol-me",
    "earn-quote",
    "enrol-tags",
    "enrol-block",  # then at once unblocked: the writes below refuse a blocked member
    "enrol-unblock",
    "enrol-profile-me",  # the member's one birthday change, then the server's correction
    "enrol-profile",
    "earn-purchase",
    "earn-activity-server",
    "earn-activity-me",
    "earn-refund",
    "earn-guest-order",
    "members-view",
    "members-view-me",
    "members-ledger",
    "members-ledger-me",
    "members-coupons",
    "members-coupons-me",
    "members-notices",
    "members-notices-me",
    "members-program",
    "members-program-me",
    "members-list",
    "enrol-referral",
    "enrol-referral-me",
    "enrol-referrals",
    "redeem-redemption",
    "redeem-redemption-me",
    "redeem-coupon-use",
    "redeem-redemption-cancel",  # rd-1, whose coupon no till has used
    "checkout-put",
    "checkout-get",
    "checkout-cancel",
    "checkout-put-next",
    "checkout-confirm",  # the demo program has no checkout campaigns: the cart's subtotal
    "checkout-me",
    "checkout-preview",
    "purchase-paid-card-purchase",
    "purchase-paid-card-refund",
    "evaluate-tier-api",
    "enrol-adjust",
    "members-audit",
    "imports-batch",
    "imports-report",
    "grants-put",  # queued (the handler tests run no worker), then reported and cancelled
    "grants-get",
    "grants-cancel",
    "enrol-erase",  # last of the member's life
    "docs-openapi",
    "docs-ui",
]


def test_every_route_has_a_sample_event_and_each_succeeds_in_order(api: Api) -> None:
    samples = {path.stem: json.loads(path.read_text()) for path in (ROOT / "events").glob("*.json")}
    http = {name: event for name, event in samples.items() if isinstance(event, dict) and "routeKey" in event}
    assert sorted(http) == sorted(ORDER), "a new HTTP sample event belongs in ORDER"
    served = {
        f"{route.method} {route.path}": fn.code_dir.name
        for fn in load_template().functions().values()
        for route in fn.routes
    }
    assert sorted(served) == sorted({event["routeKey"] for event in http.values()}), "a route without a sample"
    handlers = {folder: load_function(folder).handler for folder in set(served.values())}
    for name in ORDER:
        event = http[name]
        reply = handlers[served[event["routeKey"]]](event, Context())
        assert reply["statusCode"] in (200, 201, 202), (name, reply.get("body"))
        if name == "programs-put":
            assert api.call("programs", "PUT", "/programs/demo-coffee", program("demo"))[0] == 200
