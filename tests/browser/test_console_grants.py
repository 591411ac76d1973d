"""Browser: the console's Grants page: start a grant to an audience and watch it to done (the local
runtime's worker runs its pages), a refusal shown beside its field, and a queued grant cancelled."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from local.dynamodb import client
from local.stack import Stack
from loyalty.schemas import GrantBody
from loyalty.store import Store
from loyalty.usecases import grants
from tests.browser.conftest import MID, PID, By, call, check_page, open_page, text_of, wait

pytestmark = pytest.mark.integration


def fill(driver: Any, element_id: str, value: str) -> None:
    element = driver.find_element(By.ID, element_id)
    element.clear()
    element.send_keys(value)


def test_grants_page_starts_a_grant_and_watches_it_to_done(browser: Any, base: str, tmp_path: Path) -> None:
    open_page(browser, base, "grants")
    fill(browser, "grant-value", "star")
    fill(browser, "grant-points", "7")
    fill(browser, "grant-reason", "browser thanks")
    fill(browser, "grant-id", "g-browser")
    browser.find_element(By.CSS_SELECTOR, "form[aria-labelledby=grant-h] button[type=submit]").click()
    wait(browser, "the grant done", lambda d: text_of(d, "#grant-status") == "done", timeout=180)
    status, got = call(base, "GET", f"/programs/{PID}/grants/g-browser")
    assert status == 200 and got["status"] == "done" and got["members_granted"] >= 1, got
    assert text_of(browser, "#grant-granted") == f"{got['members_granted']:,}"
    assert text_of(browser, "#grant-points-given") == f"{got['points']:,}"
    assert not browser.find_element(By.ID, "grant-cancel").is_displayed()  # a done grant cannot be cancelled
    _, ledger = call(base, "GET", f"/programs/{PID}/members/{MID}/ledger")
    assert any(e["ref"] == "grant:g-browser" and e["points"] == 7 for e in ledger["entries"]), ledger
    check_page(browser, "grants", tmp_path)

    # A refusal names its field: the `when` the checker refuses, shown beside its input.
    fill(browser, "grant-when", "member.nope > 1")
    fill(browser, "grant-id", "g-browser-bad")
    browser.find_element(By.CSS_SELECTOR, "form[aria-labelledby=grant-h] button[type=submit]").click()
    wait(browser, "the refusal", lambda d: text_of(d, "#grant-when-error"))
    assert browser.find_element(By.ID, "grant-when").get_attribute("aria-invalid") == "true"
    check_page(browser, "grants-refused", tmp_path, expected=(("/grants/g-browser-bad", 422),))


def test_a_queued_grant_is_cancelled_from_its_page(browser: Any, base: str, stack: Stack, tmp_path: Path) -> None:
    # Started through the use case, its first page's message never sent: it stays queued until cancelled.
    store = Store("LoyaltyTable", client(stack.ddb.endpoint))
    body = GrantBody.model_validate({"audience": {"tag": "nobody"}, "points": 1, "reason": "held"})
    grants.start(store, PID, "g-held", body, datetime.now(UTC))
    open_page(browser, base, "grants?grant=g-held")
    wait(browser, "the queued grant", lambda d: text_of(d, "#grant-status") == "queued")
    browser.find_element(By.ID, "grant-cancel").click()
    wait(browser, "the grant cancelled", lambda d: text_of(d, "#grant-status") == "cancelled")
    assert call(base, "GET", f"/programs/{PID}/grants/g-held")[1]["status"] == "cancelled"
    check_page(browser, "grants-cancelled", tmp_path)
