"""Browser: the console's Campaigns page (issue 31): every campaign with its status, its figures and cost
over a range, a chart per day for those that counted anything, and each one's definition; the figures
are the report's (GET /programs/{id}/campaigns), counted from the local runtime's stream."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from local.stack import put_program
from tests.browser.conftest import PID, By, call, check_page, drawn_canvases, open_page, text_of, wait
from tests.support import program

pytestmark = pytest.mark.integration

SHOP, BUYER = "cmp-coffee", "m-campaigns"  # a program of its own: the demo's document stays as the others read it


@pytest.fixture(scope="module")
def shop(base: str) -> str:
    """The demo with four more campaigns (running, scheduled, ended, one whose budget a purchase spends),
    a member who bought twice, used the campaign's coupon and returned part of an order."""
    doc = program("demo")
    doc["coupons"]["tea-5"] = {"name": "5 off", "kind": "amount_off", "value_minor": 500, "valid_days": 30}
    now = datetime.now(UTC)
    doc["campaigns"] += [
        {
            "id": "big-order",
            "name": "Big orders: 200 points and 5 off",
            "trigger": "purchase",
            "when": "order.amount_minor >= 8000",
            "effects": [{"points": 200}, {"coupons": ["tea-5"]}],
        },
        {
            "id": "spring",
            "name": "Spring double",
            "trigger": "purchase",
            "active": {"from": (now + timedelta(days=60)).isoformat()},
            "effects": [{"multiply_points": 2}],
        },
        {
            "id": "autumn",
            "name": "Autumn bonus",
            "trigger": "purchase",
            "active": {"until": (now - timedelta(days=60)).isoformat()},
            "effects": [{"points": 50}],
        },
        {
            "id": "first-100",
            "name": "The first 100 points",
            "trigger": "purchase",
            "effects": [{"points": 100}],
            "limits": {"budget": {"points": 100}},
        },
    ]
    status, body = put_program(base, SHOP, doc)
    assert status == 200, body
    member = f"/programs/{SHOP}/members/{BUYER}"
    assert call(base, "POST", f"/programs/{SHOP}/members", {"member_id": BUYER})[0] in (200, 201)
    status, bought = call(base, "POST", f"{member}/purchases", {"order_id": "o-1", "amount_minor": 12800})
    assert status == 201, bought
    [coupon] = [c["coupon_id"] for c in bought["coupons"] if c["template_id"] == "tea-5"]
    use = {"order_id": "o-2", "order_amount_minor": 6000}
    assert call(base, "POST", f"{member}/coupons/{coupon}/use", use)[0] == 200
    assert (
        call(base, "POST", f"{member}/refunds", {"refund_id": "r-1", "order_id": "o-1", "amount_minor": 2800})[0] == 201
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # the stream is counted a moment behind the writes
        _, report = call(base, "GET", f"/programs/{SHOP}/campaigns")
        big = next(c for c in report["campaigns"] if c["campaign_id"] == "big-order")
        if big["points_reversed"] and big["coupons_used"]:
            return SHOP
        time.sleep(0.5)
    raise AssertionError(f"the stream was not counted: {report}")


@pytest.fixture
def console(browser: Any) -> Iterator[Any]:
    """Pages opened here name their program; the one the console remembers is the demo's again after."""
    yield browser
    browser.execute_script("localStorage.setItem('loyalty-console.program', arguments[0]);", PID)


def test_campaigns_page_shows_status_cost_a_chart_per_day_and_the_definition(
    console: Any, base: str, shop: str, tmp_path: Path
) -> None:
    _, report = call(base, "GET", f"/programs/{shop}/campaigns")
    big = next(c for c in report["campaigns"] if c["campaign_id"] == "big-order")
    open_page(console, base, f"campaigns?program={shop}")
    wait(console, "the campaigns", lambda d: "Every campaign in the range" in text_of(d, "main .results"))
    rows = {r.text.split(")")[0]: r.text for r in console.find_elements(By.CSS_SELECTOR, "main table tbody tr")}
    assert len(rows) == 5, rows  # the demo's check-in streak and the four above
    statuses = {
        c.get_attribute("id"): c.get_attribute("data-status")
        for c in console.find_elements(By.CSS_SELECTOR, "section.card")
    }
    assert statuses == {
        "campaign-check-in-streak": "running",
        "campaign-big-order": "running",
        "campaign-spring": "scheduled",
        "campaign-autumn": "ended",
        "campaign-first-100": "budget_spent",
    }
    card = text_of(console, "#campaign-big-order")
    assert "Big orders: 200 points and 5 off (big-order) · Running" in card
    cost = f"CN¥{big['cost_minor'] / 100:,.2f}"
    assert big["cost_minor"] == 200 - big["points_reversed"] + 500 and cost in card, (big, card)  # 1 point = 1 fen
    assert "Budget spent" in text_of(console, "#campaign-first-100")
    assert "Nothing counted in this range." in text_of(console, "#campaign-spring")
    # A chart per campaign that counted anything (big-order, first-100), each drawn.
    charts = console.find_elements(By.CSS_SELECTOR, "section.card canvas")
    assert len(charts) == 2 and "cost and applications per day" in charts[0].get_attribute("aria-label")
    assert wait(console, "drawn charts", lambda d: (p := drawn_canvases(d)) and all(p) and p)
    # The definition, as written in the program document.
    console.find_element(By.CSS_SELECTOR, "#campaign-big-order details summary").click()
    definition = text_of(console, "#campaign-big-order details pre")
    assert '"when": "order.amount_minor >= 8000"' in definition, definition
    check_page(console, "campaigns", tmp_path)

    # A range before any of it: no figures, no charts; the range is kept in the page's address.
    for element_id, day in (("campaigns-from", "2020-01-01"), ("campaigns-to", "2020-01-31")):
        # A date input's typing order is the browser locale's: its value is set as a picker would.
        console.execute_script("arguments[0].value = arguments[1];", console.find_element(By.ID, element_id), day)
    console.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    wait(console, "the old range", lambda d: "2020-01-01 to 2020-01-31" in text_of(d, "main .results h2"))
    assert not console.find_elements(By.CSS_SELECTOR, "section.card canvas")
    assert "from=2020-01-01" in console.current_url
