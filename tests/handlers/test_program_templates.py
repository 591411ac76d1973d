"""Every shipped template (programs/*.json, the demo among them) loads through the real PUT as it is:
200 with no pricing warnings, and no campaign dated to a week that is already past or still to come."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.handlers.conftest import Api
from tests.support import ROOT

TEMPLATES = sorted((ROOT / "programs").glob("*.json"))


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.stem)
def test_a_template_loads_with_no_warnings_and_no_dated_campaign(api: Api, path: Path) -> None:
    document = json.loads(path.read_text())
    status, body = api.call("programs", "PUT", f"/programs/{path.stem}", document)
    assert status == 200, body
    assert body["warnings"] == [], body["warnings"]
    # Windows are absolute instants: a template's would be stale (or not yet begun) for whoever loads it.
    assert [c["id"] for c in document.get("campaigns", []) if c.get("active")] == []
