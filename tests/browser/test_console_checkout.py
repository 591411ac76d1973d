"""Browser: the console's checkout views (issue 29): the Program page prices a cart of several lines through
the server's preview, and the Member page lists the member's open checkouts, cancelling one."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from local.stack import put_program
from tests.browser.conftest import PID, By, call, check_page, open_page, text_of, wait
from tests.support import program

pytestmark = pytest.mark.integration

SHOP, BUYER = "ck-coffee", "m-cart"  # a program of its own: the demo's document stays as the other tests read it


@pytest.fixture(scope="module")
def shop(base: str) -> str:
    """The demo with checkout campaigns (a member price, 5% off coffee, one whose condition fails, a gift) and
    a member with points and the welcome coupon."""
    doc = program("demo")
    doc["points"]["value"] = {"points": 100, "worth_minor": 100, "max_order_share_percent": 50}
    doc["campaigns"] += [
        {"id": "members", "name": "Member prices", "trigger": "checkout", "effects": [{"member_price": True}]},
        {
            "id": "coffee-5",
            "name": "5% off coffee",
            "trigger": "checkout",
            "effects": [{"percent_off": 5, "on_items": "i.category == 'coffee'"}],
        },
        {
            "id": "tea-week",
            "name": "Tea week",
            "trigger": "checkout",
            "when": "order.items.exists(i, i.category == 'tea')",
            "effects": [{"amount_off_minor": 300}],
        },
        {
            "id": "cookie",
            "name": "A cookie with two lattes",
            "trigger": "checkout",
            "when": "order.items.exists(i, i.sku == 'latte' && i.quantity >= 2)",
            "effects": [{"gift_items": [{"sku": "cookie", "quantity": 1}]}],
        },
    ]
    status, body = put_program(base, SHOP, doc)
    assert status == 200, body
    assert call(base, "POST", f"/programs/{SHOP}/members", {"member_id": BUYER})[0] in (200, 201)
    purchase = {"order_id": "o-cart", "amount_minor": 50000}
    assert call(base, "POST", f"/programs/{SHOP}/members/{BUYER}/purchases", purchase)[0] in (200, 201)
    return SHOP


@pytest.fixture
def console(browser: Any) -> Iterator[Any]:
    """Pages opened here name their program; the one the console remembers is the demo's again after."""
    yield browser
    browser.execute_script("localStorage.setItem('loyalty-console.program', arguments[0]);", PID)


def fill(driver: Any, element_id: str, value: str) -> None:
    element = driver.find_element(By.ID, element_id)
    element.clear()
    element.send_keys(value)


def line_ids(driver: Any, n: int) -> dict[str, str]:
    """The ids of the n-th line's inputs (1-based), by the request's field names."""
    fields = driver.find_elements(By.CSS_SELECTOR, f"#cart-lines fieldset:nth-of-type({n}) input")
    return {f.get_attribute("id").split("-", 2)[2]: f.get_attribute("id") for f in fields}


def test_program_page_prices_a_cart_of_several_lines(console: Any, base: str, shop: str, tmp_path: Path) -> None:
    _, wallet = call(base, "GET", f"/programs/{shop}/members/{BUYER}/coupons")
    [welcome] = [c["coupon_id"] for c in wallet["coupons"] if c["template_id"] == "welcome-10"]
    items = [
        {"line_id": "1", "sku": "latte", "category": "coffee", "quantity": 2, "unit_price_minor": 3200,
         "member_price_minor": 2800},
        {"line_id": "2", "sku": "cake", "category": "bakery", "quantity": 1, "unit_price_minor": 1800},
    ]  # fmt: skip
    cart = {"items": items, "coupon_ids": [welcome], "points_to_use": 100}
    status, priced = call(base, "PUT", f"/programs/{shop}/members/{BUYER}/checkouts/api-1/preview", cart)
    assert status == 200, priced

    open_page(console, base, f"program?program={shop}")
    wait(console, "the cart form", lambda d: d.find_elements(By.CSS_SELECTOR, "#cart-lines fieldset"))
    fill(console, "cart-member", BUYER)
    first = line_ids(console, 1)
    fill(console, first["member_price_minor"], "2800")
    console.find_element(By.XPATH, "//button[.='Add line']").click()
    second = line_ids(console, 2)
    assert console.switch_to.active_element.get_attribute("id") == second["sku"]  # the new line has the focus
    assert "CNY" in console.find_element(By.CSS_SELECTOR, f"label[for={second['unit_price_minor']}]").text
    for name, value in (("sku", "cake"), ("category", "bakery"), ("quantity", "1"), ("unit_price_minor", "1800")):
        fill(console, second[name], value)
    fill(console, "cart-coupons", welcome)
    fill(console, "cart-points", "100")
    console.find_element(By.CSS_SELECTOR, "form[aria-labelledby=cart-h] button[type=submit]").click()

    # The page shows what the API answers for the same cart: totals, each line's discounts by source.
    wait(console, "the priced cart", lambda d: text_of(d, "#cart-total") == "CN¥60.20")
    assert priced["total_minor"] == 6020 and text_of(console, "#cart-earn") == str(priced["points_to_earn"])
    result = text_of(console, "#cart-result")
    rows = [r.text for r in console.find_elements(By.CSS_SELECTOR, "#cart-result tbody tr")]
    latte = next(r for r in rows if "latte" in r)
    for source in ("member_price −CN¥8.00", "campaign:coffee-5 −CN¥2.80", f"coupon:{welcome}", "points −CN¥0.75"):
        assert source in latte, latte
    assert "CN¥44.97" in latte and "CN¥15.23" in next(r for r in rows if "cake" in r), rows
    assert "tea-week" in result and "condition not met" in result, result  # campaigns skipped, and why
    assert "cookie" in text_of(console, "#cart-result")  # the gift
    assert "Campaigns applied" in result and "coffee-5" in result
    check_page(console, "program-cart", tmp_path)

    # A refusal in the contract's shape: its message names the field, shown beside that line's input too.
    fill(console, second["member_price_minor"], "1900")
    console.find_element(By.CSS_SELECTOR, "form[aria-labelledby=cart-h] button[type=submit]").click()
    message = wait(console, "the refusal", lambda d: text_of(d, "#cart-result .msg.error"))
    assert "items[1].member_price_minor" in message and "at most unit_price_minor" in message, message
    assert "at most unit_price_minor" in text_of(console, f"#{second['member_price_minor']}-error")
    invalid = console.find_element(By.ID, second["member_price_minor"]).get_attribute("aria-invalid")
    assert invalid == "true"

    # A coupon the member does not have: the message names coupon_ids[0], beside the coupons' field.
    fill(console, second["member_price_minor"], "")
    fill(console, "cart-coupons", "cpn-nope")
    console.find_element(By.CSS_SELECTOR, "form[aria-labelledby=cart-h] button[type=submit]").click()
    wait(console, "the coupon's refusal", lambda d: "coupon_ids[0]" in text_of(d, "#cart-result .msg.error"))
    assert "cpn-nope" in text_of(console, "#cart-coupons-error")
    assert console.find_element(By.ID, second["member_price_minor"]).get_attribute("aria-invalid") is None

    # A line removed: the rest are numbered again, and the cart prices the one line left.
    fill(console, "cart-coupons", "")
    console.find_element(By.XPATH, "//button[.='Remove line 2']").click()
    assert len(console.find_elements(By.CSS_SELECTOR, "#cart-lines fieldset")) == 1
    assert console.find_element(By.XPATH, "//button[.='Remove line 1']").get_attribute("disabled") is not None
    console.find_element(By.CSS_SELECTOR, "form[aria-labelledby=cart-h] button[type=submit]").click()
    wait(
        console, "the one line priced", lambda d: "cake" not in text_of(d, "#cart-result") and text_of(d, "#cart-total")
    )


def test_member_page_lists_open_checkouts_and_cancels_one(console: Any, base: str, shop: str, tmp_path: Path) -> None:
    _, wallet = call(base, "GET", f"/programs/{shop}/members/{BUYER}/coupons")
    [welcome] = [c["coupon_id"] for c in wallet["coupons"] if c["template_id"] == "welcome-10"]
    path = f"/programs/{shop}/members/{BUYER}/checkouts"
    latte = {"line_id": "1", "sku": "latte", "category": "coffee", "quantity": 2, "unit_price_minor": 3200}
    status, held = call(
        base, "PUT", f"{path}/till-1", {"items": [latte], "coupon_ids": [welcome], "points_to_use": 200}
    )
    assert status == 200 and held["points_used"] == 200, held
    status, other = call(base, "PUT", f"{path}/till-2", {"items": [latte], "points_to_use": 50})
    assert status == 200, other
    _, view = call(base, "GET", f"/programs/{shop}/members/{BUYER}")
    assert view["points"]["held"] == 250

    open_page(console, base, f"member?program={shop}&member={BUYER}")
    table = "#member-checkouts table"
    wait(console, "the open checkouts", lambda d: "till-2" in text_of(d, table))
    assert text_of(console, "#member-held") == "250"
    assert text_of(console, "#member-balance") == f"{view['points']['balance']:,}"
    rows = [r.text for r in console.find_elements(By.CSS_SELECTOR, f"{table} tbody tr")]
    [first] = [r for r in rows if "till-1" in r]
    assert "200" in first and welcome in first, first
    check_page(console, "member-checkouts", tmp_path)

    console.find_element(By.XPATH, "//button[.='Cancel checkout till-1']").click()
    wait(console, "the holds released", lambda d: text_of(d, "#member-held") == "50")
    assert "till-1" not in text_of(console, table) and "till-2" in text_of(console, table)
    wait(console, "the cancel's audit", lambda d: "checkout_cancel" in text_of(d, "[aria-labelledby=audit-h] table"))
    _, after = call(base, "GET", f"{path}/till-1")
    assert after["status"] == "cancelled", after

    console.find_element(By.XPATH, "//button[.='Cancel checkout till-2']").click()
    wait(
        console, "no open checkout", lambda d: "Open checkouts and their holds: none" in text_of(d, "#member-checkouts")
    )
    assert text_of(console, "#member-held") == "0"


def test_member_page_shows_pending_points_and_points_owed(console: Any, base: str, tmp_path: Path) -> None:
    """Issue 30: beside the balance, the points a return window still holds (each with its day) and the
    points a refund could not take back (owed). A program of its own, with a 7-day window."""
    rw, mid = "rw-coffee", "m-owes"
    doc = program("demo")
    doc["points"]["pending_days"] = 7
    assert put_program(base, rw, doc)[0] == 200
    now = datetime.now(UTC)
    path = f"/programs/{rw}/members/{mid}"
    enrol = {"member_id": mid, "enrolled_at": (now - timedelta(days=30)).isoformat()}
    assert call(base, "POST", f"/programs/{rw}/members", enrol)[0] in (200, 201)
    # An order whose window is over (credited at once), its points spent, then refunded: owed.
    old = {"order_id": "o-old", "amount_minor": 50000, "paid_at": (now - timedelta(days=10)).isoformat()}
    assert call(base, "POST", f"{path}/purchases", old)[0] in (200, 201)
    assert call(base, "POST", f"{path}/redemptions", {"redemption_id": "rd-1", "reward_id": "coupon-5"})[0] == 201
    status, back = call(
        base, "POST", f"{path}/refunds", {"refund_id": "r-old", "order_id": "o-old", "amount_minor": 50000}
    )
    assert status == 201 and back["points_unrecovered"] > 0, back
    # An order inside the window: pending.
    assert call(base, "POST", f"{path}/purchases", {"order_id": "o-new", "amount_minor": 12800})[0] in (200, 201)
    _, view = call(base, "GET", path)
    [waiting] = view["points"]["pending"]
    assert view["points"]["owed"] == back["points_unrecovered"]

    open_page(console, base, f"member?program={rw}&member={mid}")
    wait(console, "the pending points", lambda d: waiting["available_on"] in text_of(d, "#member-pending"))
    row = text_of(console, "#member-pending tbody tr")
    assert f"{waiting['points']:,}" in row and "order:o-new" in row, row
    assert text_of(console, "#member-pending-total") == f"{waiting['points']:,}"
    assert text_of(console, "#member-owed") == f"{view['points']['owed']:,}"
    assert text_of(console, "#member-balance") == f"{view['points']['balance']:,}"
    check_page(console, "member-pending", tmp_path)
