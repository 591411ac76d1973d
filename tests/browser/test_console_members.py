"""Browser: the console's Members page: an audience (tier, tag, segment or stage) listed a page at a
time through the API's cursor, each member opening the Member page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.support.ui import Select

from tests.browser.conftest import PID, By, call, check_page, open_page, text_of, wait

pytestmark = pytest.mark.integration

TAG, MEMBERS = "aud-browser", ["m-aud-1", "m-aud-2", "m-aud-3"]


@pytest.fixture(scope="module")
def tagged(base: str) -> list[str]:
    for mid in MEMBERS:
        assert call(base, "POST", f"/programs/{PID}/members", {"member_id": mid})[0] in (200, 201)
        assert call(base, "PUT", f"/programs/{PID}/members/{mid}/tags", {"add": [TAG]})[0] == 200
    return MEMBERS


def rows(browser: Any) -> list[str]:
    return [r.text.split(" ")[0] for r in browser.find_elements(By.CSS_SELECTOR, "#members-results tbody tr")]


def test_members_page_pages_an_audience_and_opens_a_member(
    browser: Any, base: str, tagged: list[str], tmp_path: Path
) -> None:
    open_page(browser, base, f"members?program={PID}&tag={TAG}&limit=2")
    wait(browser, "the first page", lambda d: rows(d) == tagged[:2])
    assert "page 1" in text_of(browser, "#members-results caption")
    check_page(browser, "members", tmp_path)
    browser.find_element(By.ID, "members-next").click()
    wait(browser, "the second page", lambda d: rows(d) == tagged[2:])
    assert not browser.find_elements(By.ID, "members-next")  # the last page: no cursor
    browser.find_element(By.ID, "members-first").click()
    wait(browser, "the first page again", lambda d: rows(d) == tagged[:2])
    # The form: another attribute, listed from the first page; a member opens the Member page.
    Select(browser.find_element(By.ID, "members-attr")).select_by_value("stage")
    value = browser.find_element(By.ID, "members-value")
    value.clear()
    value.send_keys("new")
    browser.find_element(By.CSS_SELECTOR, "form[role=search] button").click()
    wait(browser, "the stage's members", lambda d: set(tagged) & set(rows(d)))
    assert "Members with stage new" in text_of(browser, "#members-results caption")
    browser.find_element(By.LINK_TEXT, "m-aud-1").click()
    wait(browser, "the member page", lambda d: "Member m-aud-1" in text_of(d, "[aria-labelledby=summary-h] h2"))


def test_a_bad_value_is_shown_next_to_its_field(browser: Any, base: str, tagged: list[str]) -> None:
    open_page(browser, base, f"members?program={PID}&segment=nobody")
    wait(browser, "the refusal", lambda d: text_of(d, "#members-results .msg.error"))
    assert text_of(browser, "#members-value-error")
