"""Browser: the operator console (console/, served at /console) in Debian's headless Chromium, its local
mode: each page is loaded and used as an operator would, checked with axe-core and the browser's log."""

from __future__ import annotations

import gzip
import json
import re
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from local.stack import put_program
from tests.browser.conftest import MID, PID, By, call, check_page, drawn_canvases, open_page, text_of, wait
from tests.support import program

pytestmark = pytest.mark.integration


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


def test_first_load_is_under_300_kb_gzipped(base: str) -> None:
    """What a first visit downloads: the page and every asset it names (the AWS sign-in chunk loads only
    in AWS). Gzipped at level 6, as CloudFront's compression would serve them."""
    page = urllib.request.urlopen(f"{base}/console/", timeout=30).read()  # loopback only
    assets = re.findall(rb'(?:src|href)="/console/(assets/[^"]+)"', page)
    assert any(a.endswith(b".js") for a in assets) and any(a.endswith(b".css") for a in assets), page
    files = [page, *(urllib.request.urlopen(f"{base}/console/{a.decode()}", timeout=30).read() for a in assets)]
    weight = sum(len(gzip.compress(f, 6)) for f in files)
    assert weight < 300_000, weight
    assert not any(b"aws" in a for a in assets)  # aws4fetch and the sign-in are not on the local first load


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
    assert "CN¥" in text_of(browser, ".figures")  # the program's currency
    names = [level["name"] for level in program("demo")["tiers"]["levels"]]
    tiers = browser.find_elements(By.CSS_SELECTOR, "canvas")[0].get_attribute("aria-label")
    assert tiers.startswith("Members per tier") and all(n in tiers for n in names), tiers
    assert "star" not in tiers and "gold" not in tiers, tiers
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
    # the coupon wallet's table itself, not only its heading (it renders after its own request)
    wait(browser, "the coupons", lambda d: "CN¥" in text_of(d, "[aria-labelledby=coupons-h] table"))
    # Tiers by name, money in the program's currency (CNY for the demo).
    tier = view["tier"]
    figures = text_of(browser, "[aria-labelledby=summary-h] .figures")
    assert tier["name"] in figures and f"({tier['id']})" not in figures, figures
    assert f"more to {tier['progress']['next_tier']}" not in figures, figures
    wallet = text_of(browser, "[aria-labelledby=coupons-h] table")
    assert "CN¥10.00" in wallet and "CN¥50.00" in wallet, wallet
    assert not browser.find_elements(By.CSS_SELECTOR, "#member-wallets, #member-counters")  # the demo has none

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
    # One actor for one adjustment: the ledger entry's and the audit item's (the request's principal).
    _, ledger = call(base, "GET", f"/programs/{PID}/members/{MID}/ledger?limit=1")
    _, audit = call(base, "GET", f"/programs/{PID}/members/{MID}/audit?limit=1")
    assert ledger["entries"][0]["actor"] == audit["entries"][0]["actor"] == "agent-7", (ledger, audit)
    assert "agent-7" in text_of(browser, "[aria-labelledby=ledger-h] tbody tr:first-child")
    assert "agent-7" in text_of(browser, "[aria-labelledby=audit-h] tbody tr:first-child")

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
    names = {level["id"]: level["name"] for level in program("demo")["tiers"]["levels"]}
    assert names[quote["tier"]] in text_of(browser, "#quote-result .figures")
    assert "CN¥10.00" in text_of(browser, "#quote-result"), text_of(browser, "#quote-result")
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
    # A run covers every program: the page names none.
    assert PID not in text_of(browser, "main h1") and PID not in browser.title, (
        text_of(browser, "main h1"),
        browser.title,
    )
    _, work = call(base, "GET", "/operations/scheduled")
    [run] = [r for r in work["runs"] if "expire" in r["kinds"]]
    settled = wait(browser, "the members settled", lambda d: text_of(d, "#scheduled-settled"))
    assert settled == f"{run['members_settled']:,}", (settled, run)
    check_page(browser, "scheduled", tmp_path)


def test_member_page_shows_the_members_wallets_and_counters(browser: Any, base: str, tmp_path: Path) -> None:
    """The stamp card with two counters: each wallet's balance, owed and expiring, each counter's count,
    as the member view says (shown only for a program that has them)."""
    pid, mid = "stamp-card", "m-stamps"
    doc = program("stamps")
    doc["counters"] = [
        {"id": "drinks_month", "counts": "units", "period": "month", "on_items": "i.category == 'drinks'"},
        {"id": "orders", "counts": "orders", "period": "lifetime"},
    ]
    status, body = put_program(base, pid, doc)
    assert status == 200, body
    assert call(base, "POST", f"/programs/{pid}/members", {"member_id": mid})[0] in (200, 201)
    lattes = {"sku": "latte", "category": "drinks", "amount_minor": 3000, "quantity": 3}
    order = {"order_id": "o-1", "amount_minor": 3000, "items": [lattes]}
    assert call(base, "POST", f"/programs/{pid}/members/{mid}/purchases", order)[0] == 201
    _, view = call(base, "GET", f"/programs/{pid}/members/{mid}")
    [expiring] = view["wallets"]["stamps"]["expiring"]
    assert view["wallets"]["stamps"]["balance"] == 3 and view["counters"] == {"drinks_month": 3, "orders": 1}, view
    try:
        open_page(browser, base, f"member?program={pid}&member={mid}")
        wait(browser, "the wallets", lambda d: text_of(d, "#member-wallets table"))
        rows = [r.text for r in browser.find_elements(By.CSS_SELECTOR, "#member-wallets tbody tr")]
        assert rows == [f"Coffee stamps (stamps) 3 0 3 on {expiring['expires_on']}"], rows
        rows = [r.text for r in browser.find_elements(By.CSS_SELECTOR, "#member-counters tbody tr")]
        assert rows == ["drinks_month units per month 3", "orders orders, lifetime 1"], rows
        check_page(browser, "member-wallets", tmp_path)
    finally:  # the console remembers the program: the demo's again for the other tests
        browser.execute_script("localStorage.setItem('loyalty-console.program', arguments[0]);", PID)


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


def test_a_run_settles_members_and_the_wallet_shows_a_coupon_not_yet_valid(browser: Any, base: str) -> None:
    """A benefits run for a later time: the page says how many members it settled, and the coupon it
    gave a gold member reads "available, not yet valid" (valid from then), not plain `available`."""
    mid = "m-gold"
    assert call(base, "POST", f"/programs/{PID}/members", {"member_id": mid})[0] in (200, 201)
    purchase = {"order_id": "o-gold", "amount_minor": 120000}
    assert call(base, "POST", f"/programs/{PID}/members/{mid}/purchases", purchase)[0] in (200, 201)
    open_page(browser, base, "scheduled")
    button = wait(
        browser,
        "the functions",
        lambda d: d.find_elements(By.CSS_SELECTOR, "button[data-function=IssueBenefitsFunction]"),
    )[0]
    later = (datetime.now() + timedelta(days=40)).strftime("%Y-%m-%dT%H:%M")  # the input's local time
    browser.execute_script("document.getElementById('scheduled-at').value = arguments[0];", later)
    button.click()
    settled = wait(browser, "the members settled", lambda d: text_of(d, "#scheduled-settled"), timeout=300)
    assert int(settled.replace(",", "")) >= 1, settled
    _, work = call(base, "GET", "/operations/scheduled")
    [run] = [r for r in work["runs"] if "benefits" in r["kinds"]]
    assert settled == f"{run['members_settled']:,}", (settled, run)

    browser.get("about:blank")
    browser.get(f"{base}/console/#/member?member={mid}")
    wallet = "[aria-labelledby=coupons-h] table"
    wait(browser, "the wallet", lambda d: "not yet valid" in text_of(d, wallet))
    _, coupons = call(base, "GET", f"/programs/{PID}/members/{mid}/coupons?status=available")
    coupons["coupons"] = [c for c in coupons["coupons"] if not c["usable_now"]]
    assert coupons["coupons"], coupons
    headers = [th.text for th in browser.find_elements(By.CSS_SELECTOR, f"{wallet} th")]
    assert "valid from" in headers, headers
    rows = [r.text for r in browser.find_elements(By.CSS_SELECTOR, f"{wallet} tbody tr")]
    for coupon in coupons["coupons"]:
        [row] = [r for r in rows if coupon["coupon_id"] in r]
        assert "available, not yet valid" in row, row


def test_member_page_blocks_and_unblocks_and_shows_the_flags(browser: Any, base: str, tmp_path: Path) -> None:
    """Block with a reason (required before any call), the blocked state and the abuse flags shown, then
    unblock: each a write the audit trail lists."""
    pid, mid = "abuse-demo", "m-abuse"
    doc = program("demo")
    doc["abuse"] = {"max_orders_per_day": 1}
    status, body = put_program(base, pid, doc)
    assert status == 200, body
    assert call(base, "POST", f"/programs/{pid}/members", {"member_id": mid})[0] in (200, 201)
    for order_id in ("o-1", "o-2"):  # the second is past the limit: it earns nothing and flags the member
        order = {"order_id": order_id, "amount_minor": 3000}
        assert call(base, "POST", f"/programs/{pid}/members/{mid}/purchases", order)[0] in (200, 201)
    assert call(base, "DELETE", f"/programs/{pid}/members/{mid}/block")[0] == 200  # a rerun starts unblocked
    try:
        open_page(browser, base, f"member?program={pid}&member={mid}")
        wait(browser, "the blocked state", lambda d: text_of(d, "#member-blocked") == "no")
        rows = [r.text for r in browser.find_elements(By.CSS_SELECTOR, "#member-flags tbody tr")]
        assert len(rows) == 1 and rows[0].startswith("max_orders_per_day "), rows
        browser.find_element(By.CSS_SELECTOR, "#member-block button").click()  # no reason: refused here
        wait(browser, "the reason's error", lambda d: text_of(d, "#block-reason-error") == "a reason is required")
        browser.find_element(By.ID, "block-reason").send_keys("chargebacks under review")
        browser.find_element(By.CSS_SELECTOR, "#member-block button").click()
        shown = wait(browser, "blocked", lambda d: (t := text_of(d, "#member-blocked")).startswith("since") and t)
        assert shown.endswith(": chargebacks under review"), shown
        _, view = call(base, "GET", f"/programs/{pid}/members/{mid}")
        assert view["blocked"]["reason"] == "chargebacks under review"
        wait(browser, "the audit entry", lambda d: "block" in text_of(d, "[aria-labelledby=audit-h] tbody tr"))
        check_page(browser, "member-blocked", tmp_path)
        button = browser.find_element(By.CSS_SELECTOR, "#member-block button")
        assert button.text == "Unblock member"
        button.click()
        wait(browser, "unblocked", lambda d: text_of(d, "#member-blocked") == "no")
        assert call(base, "GET", f"/programs/{pid}/members/{mid}")[1]["blocked"] is None
    finally:  # the console remembers the program: the demo's again for the other tests
        browser.execute_script("localStorage.setItem('loyalty-console.program', arguments[0]);", PID)
