"""Browser: the console's Drafts page: a draft opened from the live document, a problem listed, saved,
its line diff against live, a shadow run started and its comparison read once a purchase is counted, a
publish refused with 409 when live moved and forced; the version history says who published it."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import MID, PID, By, call, check_page, open_page, text_of, wait

pytestmark = pytest.mark.integration


def set_document(driver: Any, doc_text: str) -> None:
    area = driver.find_element(By.ID, "draft-doc")
    driver.execute_script("arguments[0].value = arguments[1];", area, doc_text)


def edited(driver: Any, old: str, new: str) -> str:
    return driver.find_element(By.ID, "draft-doc").get_attribute("value").replace(old, new, 1)


def test_drafts_page_edits_diffs_shadows_and_publishes(browser: Any, base: str, tmp_path: Path) -> None:
    _, live = call(base, "GET", f"/programs/{PID}")
    first_live = live["version"]
    open_page(browser, base, "drafts?draft=browser-draft")
    wait(
        browser,
        "the live document in the editor",
        lambda d: '"name"' in d.find_element(By.ID, "draft-doc").get_attribute("value"),
    )
    assert "No draft browser-draft yet" in text_of(browser, "#draft-info")

    # A problem: listed by field, nothing saved.
    set_document(browser, edited(browser, '"currency": "CNY"', '"currency": "yuan"'))
    browser.find_element(By.ID, "draft-save").click()
    wait(browser, "the problems", lambda d: "currency" in text_of(d, "#draft-problems"))
    assert call(base, "GET", f"/programs/{PID}/drafts/browser-draft")[0] == 404

    # Saved: a new name; the diff shows the changed line.
    browser.find_element(By.ID, "draft-doc").clear()
    open_page(browser, base, "drafts?draft=browser-draft")
    wait(
        browser,
        "the live document again",
        lambda d: '"name"' in d.find_element(By.ID, "draft-doc").get_attribute("value"),
    )
    set_document(browser, edited(browser, f'"name": "{live["name"]}"', '"name": "Draft Coffee"'))
    browser.find_element(By.ID, "draft-save").click()
    wait(browser, "saved", lambda d: "Saved revision 1" in text_of(d, "#draft-status"))
    browser.find_element(By.ID, "draft-diff-show").click()
    wait(browser, "the diff", lambda d: text_of(d, "#draft-diff-summary"))
    assert "2 lines differ" in text_of(browser, "#draft-diff-summary")
    assert '"name": "Draft Coffee",' in text_of(browser, "#draft-diff-lines ins")
    check_page(browser, "drafts", tmp_path, expected=(("/drafts/browser-draft", 404), ("/drafts/browser-draft", 422)))

    # A shadow run: a purchase counted shows in the comparison (the draft's figures beside live's).
    browser.find_element(By.ID, "shadow-start").click()
    wait(browser, "the comparison", lambda d: text_of(d, "#shadow-events") == "0")

    def counted(d: Any) -> bool:
        # A purchase each time: a warm earn container sees the run within the program cache's TTL.
        order = {"order_id": f"o-shadow-{time.time_ns()}", "amount_minor": 3000}
        assert call(base, "POST", f"/programs/{PID}/members/{MID}/purchases", order)[0] == 201
        time.sleep(1)
        d.find_element(By.ID, "shadow-refresh").click()
        time.sleep(0.3)
        return text_of(d, "#shadow-events") not in ("", "0")

    wait(browser, "the purchase counted", counted, timeout=90)
    rows = browser.find_elements(By.CSS_SELECTOR, "#shadow-report tbody tr")
    cells = [c.text for c in rows[0].find_elements(By.TAG_NAME, "td")]
    assert cells[0] == "Total" and cells[1] == cells[2] and cells[1] != "0", cells  # same rules: same points
    check_page(browser, "drafts-shadow", tmp_path)

    # Live moves: the publish is refused (409), then forced.
    assert (
        call(
            base, "PUT", f"/programs/{PID}", {**{k: v for k, v in live.items() if k not in ("program_id", "version")}}
        )[0]
        == 200
    )
    browser.find_element(By.ID, "draft-publish").click()
    wait(browser, "the conflict", lambda d: "409 conflict" in text_of(d, "#draft-conflict"))
    browser.find_element(By.ID, "draft-force").click()
    browser.find_element(By.ID, "draft-publish").click()
    wait(browser, "published", lambda d: "Published: live version" in text_of(d, "#draft-published"))
    _, now = call(base, "GET", f"/programs/{PID}")
    assert now["name"] == "Draft Coffee" and now["version"] == first_live + 2
    _, history = call(base, "GET", f"/programs/{PID}/versions")
    assert history["versions"][0]["draft_id"] == "browser-draft" and history["versions"][0]["published_by"]
    check_page(browser, "drafts-published", tmp_path, expected=(("/drafts/browser-draft/publish", 409),))

    # Back to the document the other pages expect.
    assert call(base, "POST", f"/programs/{PID}/versions/{first_live}/restore", {})[0] == 200
