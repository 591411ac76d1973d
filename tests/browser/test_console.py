"""Browser: the operator console (console/, served at /console) in Debian's headless Chromium.

Selenium drives /usr/bin/chromium through /usr/bin/chromedriver (`make browser` installs both); the
tests skip only where they are missing. Each page is loaded, used as an operator would, checked with
axe-core (no serious or critical violation) and the browser's log (no errors), and photographed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local.dynamodb import free_port
from local.stack import Stack, put_program, start
from local.template import ROOT
from tests.support import program

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (requirements-dev.txt)")
from selenium.common.exceptions import TimeoutException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

pytestmark = pytest.mark.integration

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
AXE = ROOT / "console" / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = ROOT / "docs" / "console"
PID, MID = "demo-coffee", "m-browser"  # the id `make dev` loads, the console's default


def call(base: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method, headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=120) as resp:  # loopback only
            status, text, kind = resp.status, resp.read(), resp.headers.get("content-type", "")
    except urllib.error.HTTPError as err:
        status, text, kind = err.code, err.read(), err.headers.get("content-type", "")
    return status, (json.loads(text) if text and kind.startswith("application/json") else text)


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    # The build the tests see is the sources' (a no-op when console/dist is up to date).
    subprocess.run(["make", "-s", "console/dist/.ok"], cwd=ROOT, check=True)
    running = start(api_port=free_port(), lambda_port=free_port(), ddb_port=None, containers=4)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def base(stack: Stack) -> str:
    """The demo program, one member with a purchase: what an operator would look at."""
    url = stack.api_url
    status, body = put_program(url, PID, program("demo"))
    assert status == 200, body
    assert call(url, "POST", f"/programs/{PID}/members", {"member_id": MID})[0] in (200, 201)
    status, body = call(
        url, "POST", f"/programs/{PID}/members/{MID}/purchases", {"order_id": "o-1", "amount_minor": 12800}
    )
    assert status == 201, body
    return url


@pytest.fixture(scope="module")
def browser(base: str) -> Iterator[Any]:
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip("Debian chromium/chromedriver missing and not installable here (`make browser`)")
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="console-chromium-")
    options = Options()
    options.binary_location = str(CHROMIUM)
    # Without the background-networking flags this machine refuses Chromium's connections.
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1280,900",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_script_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def wait(driver: Any, what: str, check: Any, timeout: float = 60) -> Any:
    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.2).until(check)
    except TimeoutException:
        page = driver.find_element(By.ID, "main").text[:2000]
        raise AssertionError(f"timed out waiting for {what}; page: {page}") from None


def text_of(driver: Any, css: str) -> str:
    found = driver.find_elements(By.CSS_SELECTOR, css)
    return found[0].text if found else ""


def open_page(driver: Any, base: str, page: str) -> None:
    driver.get("about:blank")  # a new document each time: a hash alone would navigate within the old one
    driver.get(f"{base}/console/#/{page}")
    driver.get_log("browser")  # a fresh log per page
    wait(driver, "the page's heading", lambda d: text_of(d, "main h1"))


def allowed(entry: dict[str, Any], expected: tuple[tuple[str, int], ...]) -> bool:
    """A failed fetch the page meant (a refusal it shows): Chromium logs those at error level too."""
    url, _, rest = entry["message"].partition(" - ")
    return entry.get("source") == "network" and any(p in url and f" {s} " in rest for p, s in expected)


def check_page(driver: Any, name: str, tmp_path: Path, expected: tuple[tuple[str, int], ...] = ()) -> None:
    """No serious or critical axe violation, nothing in the browser's log at error level, a screenshot."""
    driver.execute_script(AXE.read_text())
    violations = driver.execute_async_script(
        "const done = arguments[0];"
        "axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations), e => done([{id: String(e)}]));"
    )
    bad = [
        {"id": v["id"], "impact": v.get("impact"), "nodes": [n["target"] for n in v.get("nodes", [])][:5]}
        for v in violations
        if v.get("impact") in ("serious", "critical", None)
    ]
    assert not bad, f"{name}: axe violations {bad}"
    errors = [
        entry
        for entry in driver.get_log("browser")
        if entry["level"] == "SEVERE" and not allowed(entry, expected)
    ]
    assert not errors, f"{name}: browser errors {errors}"
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, min(max(height, 900), 4000))  # the whole page, not the viewport
    target = SHOTS if os.environ.get("UPDATE_SCREENSHOTS") else tmp_path
    target.mkdir(parents=True, exist_ok=True)
    driver.execute_script("document.activeElement.blur(); window.scrollTo(0, 0);")
    assert driver.save_screenshot(str(target / f"{name}.png"))
    driver.set_window_size(1280, 900)


def drawn_canvases(driver: Any) -> list[int]:
    """How many pixels each canvas has drawn (Chart.js draws into its 2d context)."""
    return driver.execute_script(
        "return [...document.querySelectorAll('canvas')].map(c => {"
        " const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;"
        " for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n; });"
    )


# --- the server side: static files and the local scheduled route, no browser needed ---


def test_console_is_served_with_its_content_types(base: str) -> None:
    for path in ("/console", "/console/"):
        status, html = call(base, "GET", path)
        assert status == 200
        assert b"<div" in html or b"<main" in html
    req = urllib.request.urlopen(f"{base}/console/", timeout=30)  # loopback only
    assert req.headers["content-type"] == "text/html; charset=utf-8"
    page = req.read().decode()
    script = page.split('src="/console/assets/', 1)[1].split('"', 1)[0]
    with urllib.request.urlopen(f"{base}/console/assets/{script}", timeout=30) as resp:  # loopback only
        assert resp.headers["content-type"] == "text/javascript; charset=utf-8"
        assert "immutable" in resp.headers["cache-control"]
    for missing in ("/console/assets/nope.js", "/console/../template.yaml", "/console/%2e%2e/template.yaml"):
        assert call(base, "GET", missing)[0] == 404


def test_scheduled_route_lists_and_runs_the_templates_functions(base: str) -> None:
    status, body = call(base, "GET", "/_local/scheduled")
    assert status == 200
    assert set(body["functions"]) == {
        "ExpirePointsFunction",
        "ChurnSweepFunction",
        "EvaluateTierFunction",
        "IssueBenefitsFunction",
    }
    status, result = call(base, "POST", "/_local/scheduled/ExpirePointsFunction", {"at": "2026-12-01T00:05:00Z"})
    assert status == 200, result
    assert isinstance(result, dict)
    status, err = call(base, "POST", "/_local/scheduled/ExpirePointsFunction", {"at": "2026-12-01T00:05:00"})
    assert status == 400
    assert err["error"]["details"][0]["field"] == "at"
    assert call(base, "POST", "/_local/scheduled/EnrolFunction", {"at": "2026-12-01T00:05:00Z"})[0] == 404


# --- the pages ---


def test_health_page_shows_figures_and_charts(browser: Any, base: str, tmp_path: Path) -> None:
    open_page(browser, base, "health")
    wait(browser, "the figures", lambda d: "Members" in text_of(d, ".figures"))
    assert "Points liability" in text_of(browser, ".figures")
    # Every chart draws (a range without data gets a note, not an empty canvas).
    assert wait(browser, "drawn charts", lambda d: (p := drawn_canvases(d)) and all(p) and p)
    points = [int(c.get_attribute("data-points")) for c in browser.find_elements(By.CSS_SELECTOR, "canvas")]
    assert sum(points) > 0
    days = wait(
        browser,
        "the per-day section",
        lambda d: (t := text_of(d, "[aria-labelledby=days-h]")) != "Per day\nLoading…" and t,
    )
    assert "Members and new members per day" in days
    wait(browser, "the campaign figures", lambda d: "check-in-streak" in text_of(d, "[aria-labelledby=camp-h]"))
    check_page(browser, "health", tmp_path)


def test_member_page_shows_the_member_and_takes_an_adjustment(browser: Any, base: str, tmp_path: Path) -> None:
    _, view = call(base, "GET", f"/programs/{PID}/members/{MID}")
    balance = view["points"]["balance"]
    open_page(browser, base, "member")
    field = browser.find_element(By.ID, "member-id")
    field.send_keys(MID)
    browser.find_element(By.CSS_SELECTOR, "form[role=search] button").click()
    wait(browser, "the balance", lambda d: text_of(d, "#member-balance") == f"{balance:,}")
    wait(browser, "the ledger", lambda d: "earn" in text_of(d, "[aria-labelledby=ledger-h] table"))
    wait(browser, "the audit trail", lambda d: "o-1" in text_of(d, "[aria-labelledby=audit-h] table"))
    wait(browser, "the coupons", lambda d: "Coupon" in text_of(d, "[aria-labelledby=coupons-h]"))

    # A 0 is refused next to its field before any request; then a real credit.
    browser.find_element(By.ID, "adj-points").send_keys("0")
    browser.find_element(By.ID, "adj-reason").send_keys("goodwill: late order")
    browser.find_element(By.CSS_SELECTOR, "form[aria-labelledby=adj-h] button[type=submit]").click()
    assert "not 0" in text_of(browser, "#adj-points-error")
    points = browser.find_element(By.ID, "adj-points")
    points.clear()
    points.send_keys("25")
    browser.find_element(By.ID, "adj-actor").send_keys("agent-7")
    browser.find_element(By.CSS_SELECTOR, "form[aria-labelledby=adj-h] button[type=submit]").click()
    wait(browser, "the new balance", lambda d: text_of(d, "#member-balance") == f"{balance + 25:,}")
    wait(
        browser, "the adjust entry", lambda d: "goodwill: late order" in text_of(d, "[aria-labelledby=ledger-h] table")
    )
    wait(browser, "the adjustment's audit", lambda d: "adjustment" in text_of(d, "[aria-labelledby=audit-h] table"))
    assert "agent-7" in text_of(browser, "[aria-labelledby=ledger-h] table")

    # Over the API's bound: its 422 names `points`, and the message shows next to that field.
    points = browser.find_element(By.ID, "adj-points")
    points.send_keys("2000000000")
    browser.find_element(By.ID, "adj-reason").send_keys("too big")
    browser.find_element(By.CSS_SELECTOR, "form[aria-labelledby=adj-h] button[type=submit]").click()
    wait(browser, "the field's message", lambda d: text_of(d, "#adj-points-error"))
    assert browser.find_element(By.ID, "adj-points").get_attribute("aria-invalid") == "true"
    points.clear()
    browser.find_element(By.ID, "adj-reason").clear()

    # A debit beyond the balance: the API's message, nothing changed.
    points = browser.find_element(By.ID, "adj-points")
    points.send_keys(str(-(balance + 1000)))
    browser.find_element(By.ID, "adj-reason").send_keys("too much")
    browser.find_element(By.CSS_SELECTOR, "form[aria-labelledby=adj-h] button[type=submit]").click()
    message = "form[aria-labelledby=adj-h] .msg.error"  # the 422's message stays until this answer replaces it
    refusal = wait(browser, "the refusal", lambda d: (t := text_of(d, message)).startswith("needs ") and t)
    assert "undefined" not in refusal, refusal
    assert text_of(browser, "#member-balance") == f"{balance + 25:,}"
    check_page(browser, "member", tmp_path, expected=(("/adjustments", 409), ("/adjustments", 422)))


def test_program_page_lists_each_problem_by_field_and_quotes(browser: Any, base: str, tmp_path: Path) -> None:
    open_page(browser, base, "program")
    wait(browser, "the document", lambda d: d.find_element(By.ID, "program-doc").get_attribute("value").startswith("{"))
    assert "Current version" in text_of(browser, "#program-version")
    # Two problems in one save: a CEL expression over an unknown field and a negative threshold.
    browser.execute_script(
        "const t = document.getElementById('program-doc'); const doc = JSON.parse(t.value);"
        "doc.campaigns[0].when = 'order.no_such_field > 1'; doc.tiers.levels[1].threshold = -5;"
        "t.value = JSON.stringify(doc, null, 2);"
    )
    browser.find_element(By.CSS_SELECTOR, "form.editor button[type=submit]").click()
    problems = wait(browser, "the problems", lambda d: d.find_elements(By.CSS_SELECTOR, "#program-problems li"))
    fields = [p.find_element(By.CSS_SELECTOR, "button").get_attribute("data-field") for p in problems]
    assert "campaigns[0].when" in fields, fields
    assert any(f.startswith("tiers.levels[1]") for f in fields), fields
    # The problem's button selects that field's text in the editor.
    problems[fields.index("campaigns[0].when")].find_element(By.CSS_SELECTOR, "button").click()
    selected = browser.execute_script(
        "const t = document.getElementById('program-doc'); return t.value.slice(t.selectionStart, t.selectionEnd);"
    )
    assert selected.startswith('"when"') and "no_such_field" in selected, selected
    assert browser.switch_to.active_element.get_attribute("id") == "program-doc"
    wait(
        browser,
        "the versions section",
        lambda d: len(text_of(d, "[aria-labelledby=versions-h]")) > len("Version history"),
    )

    _, quote = call(base, "POST", f"/programs/{PID}/members/{MID}/quotes", {"order_id": "q-1", "amount_minor": 6400})
    browser.find_element(By.ID, "quote-member").send_keys(MID)
    amount = browser.find_element(By.ID, "quote-amount")
    amount.clear()
    amount.send_keys("6400")
    browser.find_element(By.CSS_SELECTOR, "form[aria-labelledby=quote-h] button[type=submit]").click()
    wait(browser, "the quote", lambda d: text_of(d, "#quote-points") == f"{quote['points_earned']:,}")
    assert "Campaigns applied" in text_of(browser, "#quote-result")
    check_page(browser, "program", tmp_path, expected=((f"/programs/{PID}", 422),))


def test_scheduled_page_runs_a_sweep(browser: Any, base: str, tmp_path: Path) -> None:
    open_page(browser, base, "scheduled")
    button = wait(
        browser,
        "the functions",
        lambda d: d.find_elements(By.CSS_SELECTOR, "button[data-function=ExpirePointsFunction]"),
    )[0]
    assert browser.find_element(By.ID, "scheduled-at").get_attribute("value")
    button.click()
    wait(browser, "the result", lambda d: text_of(d, "#scheduled-result pre"), timeout=300)
    assert "ExpirePointsFunction" in text_of(browser, "#scheduled-result .msg.ok")
    json.loads(text_of(browser, "#scheduled-result pre"))
    check_page(browser, "scheduled", tmp_path)


def test_member_page_pages_the_ledger_and_the_audit_trail(browser: Any, base: str) -> None:
    driver = browser
    driver.get("about:blank")
    driver.get(f"{base}/console/#/member?member={MID}&limit=2")
    ledger = "[aria-labelledby=ledger-h]"
    wait(driver, "the first page", lambda d: len(d.find_elements(By.CSS_SELECTOR, f"{ledger} tbody tr")) == 2)
    _, page = call(base, "GET", f"/programs/{PID}/members/{MID}/ledger?limit=100")
    total = len(page["entries"])
    assert total > 2
    while buttons := driver.find_elements(By.CSS_SELECTOR, f"{ledger} button"):
        shown = len(driver.find_elements(By.CSS_SELECTOR, f"{ledger} tbody tr"))
        buttons[0].click()
        wait(
            driver, "the next page", lambda d, n=shown: len(d.find_elements(By.CSS_SELECTOR, f"{ledger} tbody tr")) > n
        )
    assert len(driver.find_elements(By.CSS_SELECTOR, f"{ledger} tbody tr")) == total
    assert "welcome" in text_of(driver, f"{ledger} tbody tr:last-child")  # the oldest entry, last
    audit = "[aria-labelledby=audit-h]"
    wait(driver, "the audit's More", lambda d: d.find_elements(By.CSS_SELECTOR, f"{audit} button"))[0].click()
    wait(driver, "the audit's next page", lambda d: len(d.find_elements(By.CSS_SELECTOR, f"{audit} tbody tr")) > 2)


def test_health_page_draws_the_per_day_series(browser: Any, base: str) -> None:
    _, health = call(base, "GET", f"/programs/{PID}/health")
    _, series = call(base, "GET", f"/programs/{PID}/health/days?from={health['from']}&to={health['to']}")
    open_page(browser, base, "health")
    days = "[aria-labelledby=days-h]"
    wait(browser, "the per-day charts", lambda d: len(d.find_elements(By.CSS_SELECTOR, f"{days} canvas")) == 2)
    canvases = browser.find_elements(By.CSS_SELECTOR, f"{days} canvas")
    n = len(series["days"])
    assert [c.get_attribute("data-points") for c in canvases] == [str(2 * n), str(n)]  # two lines, one line
    assert wait(browser, "drawn charts", lambda d: (p := drawn_canvases(d)) and all(p) and p)
    last = series["days"][-1]
    assert f"{last['points_liability']} points on {last['day']}" in canvases[1].get_attribute("aria-label")
    earned = sum(d["points_earned"] for d in series["days"])
    assert earned > 0 and f"{earned:,}" in text_of(browser, f"{days} table")


def test_program_page_shows_the_version_history(browser: Any, base: str) -> None:
    status, saved = put_program(base, PID, program("demo") | {"name": "demo, renamed"})
    assert status == 200, saved
    _, first = call(base, "GET", f"/programs/{PID}/versions/1")
    open_page(browser, base, "program")
    versions = "[aria-labelledby=versions-h]"
    wait(browser, "the versions", lambda d: f"Show version {saved['version']}" in text_of(d, versions))
    browser.find_element(By.XPATH, "//button[normalize-space()='Show version 1']").click()
    shown = wait(browser, "version 1", lambda d: d.find_elements(By.ID, "version-doc"))[0]
    assert json.loads(shown.get_attribute("value")) == first["document"]
    browser.find_element(By.XPATH, "//button[normalize-space()='Copy version 1 into the editor']").click()
    assert json.loads(browser.find_element(By.ID, "program-doc").get_attribute("value")) == first["document"]


def test_keyboard_reaches_every_page(browser: Any, base: str) -> None:
    """The nav is real links: tabbing reaches them in order, Enter follows one, focus is visible."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    open_page(browser, base, "health")
    focused = []
    for _ in range(3):
        ActionChains(browser).send_keys(Keys.TAB).perform()
        focused.append(browser.switch_to.active_element.get_attribute("textContent").strip())
    assert focused == ["Skip to content", "Health", "Member"], focused
    outline = browser.execute_script("return getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"
    ActionChains(browser).send_keys(Keys.ENTER).perform()
    wait(browser, "the member page", lambda d: text_of(d, "main h1").startswith("Member"))
    assert browser.find_element(By.CSS_SELECTOR, "nav a[aria-current=page]").text == "Member"
    assert browser.switch_to.active_element.get_attribute("id") == "main"  # the new page's content has the focus
