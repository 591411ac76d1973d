"""Browser: the console's member-app views: the Program page shows what a chosen member sees (the server
twin of GET .../me/program), and the Member page lists the member's notices in the API's words."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from local.stack import put_program
from tests.browser.conftest import By, call, check_page, open_page, text_of, wait
from tests.support import program

pytestmark = pytest.mark.integration

APP, FAN = "ma-coffee", "m-app"  # a program of its own: the demo's document stays as the other tests read it


@pytest.fixture(scope="module")
def app(base: str) -> str:
    """The demo with its streak campaign made public, and a member who bought a PLUS card (notices)."""
    doc = program("demo")
    doc["campaigns"][0]["public"] = {"title": "Five days in a row", "description": "50 points on the fifth check-in"}
    assert put_program(base, APP, doc)[0] == 200
    assert call(base, "POST", f"/programs/{APP}/members", {"member_id": FAN})[0] in (200, 201)
    card = {"payment_id": "pay-1", "plan_id": "plus-quarter", "amount_paid_minor": 4500}
    status, body = call(base, "POST", f"/programs/{APP}/members/{FAN}/paid-cards", card)
    assert status == 201, body
    return APP


def test_program_page_shows_what_a_member_sees(browser: Any, base: str, app: str, tmp_path: Path) -> None:
    _, seen = call(base, "GET", f"/programs/{APP}/members/{FAN}/program")
    open_page(browser, base, f"program?program={app}")
    wait(browser, "the panel", lambda d: d.find_elements(By.ID, "member-program-id"))
    browser.find_element(By.ID, "member-program-id").send_keys(FAN)
    browser.find_element(By.CSS_SELECTOR, "form[aria-labelledby=member-program-h] button[type=submit]").click()
    shown = wait(browser, "the rewards", lambda d: (t := text_of(d, "#member-program")) and "Rewards" in t and t)
    reward = seen["rewards"][0]
    row = text_of(browser, "#member-program table tbody tr:first-child")
    assert reward["id"] in row and ("yes" if reward["available"] else reward["reason"]) in row, row
    assert "1.2x points" in shown and "Five days in a row" in shown, shown
    assert "activity.type" not in shown  # a campaign's condition is never shown
    check_page(browser, "program-member-app", tmp_path)


def test_member_page_lists_the_notices(browser: Any, base: str, app: str, tmp_path: Path) -> None:
    _, listed = call(base, "GET", f"/programs/{APP}/members/{FAN}/notices")
    assert listed["notices"], listed
    open_page(browser, base, f"member?program={app}&member={FAN}")
    table = "[aria-labelledby=notices-h] table"
    wait(browser, "the notices", lambda d: listed["notices"][0]["text"] in text_of(d, table))
    assert "card" in text_of(browser, table)
    check_page(browser, "member-notices", tmp_path)
