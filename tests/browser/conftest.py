"""The browser tests' fixtures and helpers: one local runtime with the demo program and one Chromium for
every module here (the console's local mode in test_console.py, its AWS mode in test_console_aws.py).

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
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from local.dynamodb import free_port
from local.stack import Stack, put_program, start
from local.template import ROOT
from tests.support import program

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


@pytest.fixture(scope="package")
def stack() -> Iterator[Stack]:
    # The build the tests see is the sources' (a no-op when console/dist is up to date).
    subprocess.run(["make", "-s", "console/dist/.ok"], cwd=ROOT, check=True)
    running = start(api_port=free_port(), lambda_port=free_port(), ddb_port=None, containers=4)
    yield running
    running.stop()


@pytest.fixture(scope="package")
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


@pytest.fixture(scope="package")
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
        # A check may read an element the page re-renders meanwhile: stale, so look again.
        return WebDriverWait(
            driver, timeout, poll_frequency=0.2, ignored_exceptions=(StaleElementReferenceException,)
        ).until(check)
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
        entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE" and not allowed(entry, expected)
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
