"""Browser: the Health page's guest figures (issue 33): guest GMV, the members' share of GMV, guest
customers, conversions and their rate, and new members by channel, counted from the local runtime's
stream for a program of its own."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from local.stack import put_program
from tests.browser.conftest import By, call, check_page, drawn_canvases, open_page, text_of, wait
from tests.support import program

pytestmark = pytest.mark.integration

SHOP = "guest-coffee"  # a program of its own: the demo's figures stay as the other tests read them


@pytest.fixture(scope="module")
def shop(base: str) -> str:
    """Two guest customers, one of whom enrols (channel `app`), one member from `web`, one order each."""
    assert put_program(base, SHOP, program("demo"))[0] == 200
    for order in (
        {"order_id": "g-1", "amount_minor": 3000, "customer_ref": "crm-1"},
        {"order_id": "g-2", "amount_minor": 1000, "customer_ref": "crm-2"},
    ):
        assert call(base, "POST", f"/programs/{SHOP}/guest-orders", order)[0] in (200, 201)
    for body in (
        {"member_id": "m-g1", "customer_ref": "crm-1", "channel": "app"},
        {"member_id": "m-g2", "channel": "web"},
    ):
        assert call(base, "POST", f"/programs/{SHOP}/members", body)[0] in (200, 201)
    purchase = {"order_id": "o-g1", "amount_minor": 4000}
    assert call(base, "POST", f"/programs/{SHOP}/members/m-g1/purchases", purchase)[0] in (200, 201)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # the stream counts a moment behind the writes
        _, health = call(base, "GET", f"/programs/{SHOP}/health")
        if (health["guest_gmv_minor"], health["member_gmv_minor"], health["converted_guests"]) == (4000, 4000, 1):
            return SHOP
        time.sleep(0.5)
    raise AssertionError(f"the guest figures were not counted: {health}")


def test_health_page_shows_the_guest_figures(browser: Any, base: str, shop: str, tmp_path: Path) -> None:
    open_page(browser, base, f"health?program={shop}")
    shown = wait(browser, "the guest figures", lambda d: (t := text_of(d, ".figures")) and "Conversion rate" in t and t)
    lines = shown.split("\n")

    def value(name: str) -> str:
        return lines[lines.index(name) + 1]

    assert "40.00" in value("Guest GMV") and "CN¥" in value("Guest GMV")
    assert value("Member share of GMV") == "50.0%"  # 40.00 of members' over 40.00 + 40.00
    assert value("Guest customers") == "2" and value("Converted guests") == "1"
    assert value("Conversion rate") == "50.0%"
    channels = wait(
        browser,
        "the channels chart",
        lambda d: [
            c
            for c in d.find_elements(By.CSS_SELECTOR, "canvas")
            if "New members by channel" in (c.get_attribute("aria-label") or "")
        ],
    )
    assert "app 1" in channels[0].get_attribute("aria-label") and "web 1" in channels[0].get_attribute("aria-label")
    assert wait(browser, "drawn charts", lambda d: (p := drawn_canvases(d)) and all(p) and p)
    check_page(browser, "health-guests", tmp_path)
