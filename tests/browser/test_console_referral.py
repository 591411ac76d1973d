"""Browser: the Health page's referral panel: the funnel (enrolled by referral, converted, rewarded,
refused by reason) and the top referrers, counted from the local runtime's stream."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local.stack import put_program
from tests.browser.conftest import PID, By, call, check_page, drawn_canvases, open_page, text_of, wait
from tests.support import program

pytestmark = pytest.mark.integration

SHOP = "ref-coffee"  # a program of its own: the demo's document stays as the other pages read it


@pytest.fixture(scope="module")
def shop(base: str) -> str:
    """alice refers bob (converted by his order) and carol (her own device: refused); alice tries her own code."""
    doc = program("demo")
    doc["referral"] = {
        "on": "first_order",
        "referrer": {"points": 300},
        "referee": {"points": 150},
        "per_referrer": {"count": 10, "per": "month"},
    }
    assert put_program(base, SHOP, doc)[0] == 200
    m = f"/programs/{SHOP}/members"
    device = secrets.token_hex(32)
    assert call(base, "POST", m, {"member_id": "alice", "fingerprint": device})[0] in (200, 201)
    code = call(base, "GET", f"{m}/alice/referral")[1]["code"]
    call(base, "POST", m, {"member_id": "alice", "referral_code": code})  # self: 422, counted
    for mid, fp in (("bob", secrets.token_hex(32)), ("carol", device)):
        assert call(base, "POST", m, {"member_id": mid, "referral_code": code, "fingerprint": fp})[0] in (200, 201)
        call(base, "POST", f"{m}/{mid}/purchases", {"order_id": f"o-{mid}", "amount_minor": 5000})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        figures = call(base, "GET", f"/programs/{SHOP}/referrals")[1]
        if figures["top_referrers"] and figures["rewards"]["points"] == 450:
            break
        time.sleep(0.5)
    return SHOP


@pytest.fixture
def console(browser: Any) -> Iterator[Any]:
    """The page opened here names its program; the one the console remembers is the demo's again after."""
    yield browser
    browser.execute_script("localStorage.setItem('loyalty-console.program', arguments[0]);", PID)


def test_health_page_shows_the_referral_funnel_and_top_referrers(
    console: Any, base: str, shop: str, tmp_path: Path
) -> None:
    browser = console
    open_page(browser, base, f"health?program={shop}")
    panel = wait(
        browser,
        "the referral panel",
        lambda d: "Top referrers" in (t := text_of(d, "[aria-labelledby=ref-h]")) and t,
    )
    assert "Enrolled by referral\n2" in panel and "Converted\n1" in panel, panel
    assert "shared_fingerprint" in panel and "self" in panel, panel
    assert "alice" in panel
    funnel = browser.find_element(By.CSS_SELECTOR, "[aria-labelledby=ref-h] canvas").get_attribute("aria-label")
    assert funnel.startswith("Referral funnel"), funnel
    assert wait(browser, "drawn charts", lambda d: (p := drawn_canvases(d)) and all(p) and p)
    check_page(browser, "health-referral", tmp_path)
