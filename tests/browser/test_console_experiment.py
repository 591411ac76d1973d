"""Browser: an experiment campaign on the console's Campaigns page (issue 34): its arms with what their
members did after exposure, and each arm's uplift over the holdout with its 95% interval as a chart,
the figures the experiment route answers (counted from the local runtime's stream)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local.stack import put_program
from loyalty.program import Campaign
from loyalty.rules import experiments
from tests.browser.conftest import PID, By, call, check_page, drawn_canvases, open_page, text_of, wait
from tests.support import program

pytestmark = pytest.mark.integration

SHOP = "exp-coffee"  # a program of its own
EXP = {
    "id": "come-back",
    "name": "Come back: 300 points",
    "trigger": "purchase",
    "effects": [{"points": 100}],
    "limits": {"per_member": {"count": 1, "per": "campaign"}},
    "experiment": {"holdout_percent": 50, "variants": [{"id": "big", "weight": 1, "effects": [{"points": 300}]}]},
}


def _members(arm: str, n: int) -> list[str]:
    c = Campaign.model_validate(EXP)
    return [mid for k in range(200) if experiments.assign(SHOP, c, mid := f"x{k}") == arm][:n]


@pytest.fixture(scope="module")
def shop(base: str) -> str:
    """Three members a side: each exposed by a first order, the variant's buying more after it."""
    doc = program("demo")
    doc["campaigns"] = [EXP]
    status, body = put_program(base, SHOP, doc)
    assert status == 200, body
    after = {"holdout": [[1000], [1400], [1200]], "big": [[1500, 500], [1800, 600], [1700, 400]]}
    for arm, spends in after.items():
        for mid, amounts in zip(_members(arm, 3), spends, strict=True):
            assert call(base, "POST", f"/programs/{SHOP}/members", {"member_id": mid})[0] in (200, 201)
            for k, amount in enumerate([2000, *amounts]):
                order = {"order_id": f"{mid}-{k}", "amount_minor": amount}
                status, body = call(base, "POST", f"/programs/{SHOP}/members/{mid}/purchases", order)
                assert status == 201, body
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # the stream is counted a moment behind the writes
        _, report = call(base, "GET", f"/programs/{SHOP}/campaigns/come-back/experiment")
        if [a["members_exposed"] for a in report["arms"]] == [3, 3] and report["arms"][1]["orders_per_member"] == 2:
            return SHOP
        time.sleep(0.5)
    raise AssertionError(f"the stream was not counted: {report}")


@pytest.fixture
def console(browser: Any) -> Iterator[Any]:
    yield browser
    browser.execute_script("localStorage.setItem('loyalty-console.program', arguments[0]);", PID)


def test_an_experiment_shows_its_arms_and_the_uplift_chart(console: Any, base: str, shop: str, tmp_path: Path) -> None:
    _, report = call(base, "GET", f"/programs/{shop}/campaigns/come-back/experiment")
    big = report["arms"][1]
    assert big["arm"] == "big" and "uplift" in big, report
    open_page(console, base, f"campaigns?program={shop}")
    wait(console, "the experiment", lambda d: "Arms of come-back" in text_of(d, "#experiment-come-back"))
    rows = [r.text for r in console.find_elements(By.CSS_SELECTOR, "#experiment-come-back table tbody tr")]
    assert [r.split()[0] for r in rows] == ["holdout", "big"], rows
    spend = big["uplift"]["spend_per_member_minor"]
    assert f"CN¥{spend['estimate'] / 100:,.2f} (CN¥{spend['low'] / 100:,.2f} to" in rows[1], (rows, spend)
    [canvas] = console.find_elements(By.CSS_SELECTOR, "#experiment-come-back canvas")
    assert "uplift over the holdout, 95% intervals" in canvas.get_attribute("aria-label")
    assert canvas.get_attribute("data-points") == "4"  # the interval and the estimate of each of two measures
    assert wait(console, "drawn charts", lambda d: (p := drawn_canvases(d)) and all(p) and p)
    check_page(console, "campaigns-experiment", tmp_path)
