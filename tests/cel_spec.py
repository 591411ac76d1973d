"""Our CEL cases (tests/unit/data/cel_cases.json, written for this repo from CEL's language definition; none
copied from cel-spec's test suite) and how a result is judged against one, and the facts of a sample
purchase: shared by the unit test (the chosen library) and bench/cel.py (both candidates).

A result is judged as plain Python (bool, int, float, str, bytes, None, list, dict); int and uint are both
int, as neither library hands uint back as its own type."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "unit" / "data" / "cel_cases.json"
CASES: list[dict[str, Any]] = json.loads(DATA.read_text())["cases"]
assert len({case["name"] for case in CASES}) == len(CASES), "a case is known by its name: keep names unique"


def python(typed: dict[str, Any]) -> Any:
    """A case's typed value (its bindings, its expected result) as plain Python."""
    ((kind, value),) = typed.items()
    if kind == "double":
        return float(value)  # also "inf", "-inf", "nan"
    if kind == "bytes":
        return bytes.fromhex(value)
    if kind == "list":
        return [python(v) for v in value]
    if kind == "map":
        return {python(k): python(v) for k, v in value}
    return value


def same(expected: dict[str, Any], got: Any) -> bool:
    ((kind, value),) = expected.items()
    if kind == "bool":
        return isinstance(got, bool) and got == value
    if kind in ("int", "uint"):
        return isinstance(got, int) and not isinstance(got, bool) and got == value
    if kind == "double":
        want = float(value)
        return isinstance(got, float) and (got == want or (math.isnan(want) and math.isnan(got)))
    if kind == "list":
        return isinstance(got, list) and len(got) == len(value) and all(map(same, value, got))
    if kind == "map":
        if not isinstance(got, dict) or len(got) != len(value):
            return False
        return all(python(k) in got and same(v, got[python(k)]) for k, v in value)
    if kind == "null":
        return got is None
    return type(got) is type(python(expected)) and got == python(expected)


def passes(case: dict[str, Any], run: Any) -> bool:
    """`run(expr, bindings)` evaluates (raising on an error): the case passes when it gives the expected
    value, or fails where the language definition calls for an error."""
    try:
        got = run(case["expr"], {k: python(v) for k, v in case.get("bindings", {}).items()})
    except Exception:
        return "error" in case
    return "value" in case and same(case["value"], got)


def purchase_facts(items: list[dict[str, Any]], **order: Any) -> dict[str, Any]:
    """The facts of a purchase campaign (every declared one present, as the engine gives them)."""
    return {
        "order": {"amount_minor": 3500, "store_id": "", "channel": "app", "scene": "", "items": items} | order,
        "member": {
            "tier": "gold",
            "tags": ["tea-lover"],
            "segment": "",
            "lifecycle_stage": "active",
            "orders_total": 4,
            "lifetime_spend_minor": 120000,
            "days_since_enrolment": 30,
            "birthday_month": 12,
            "paid_cards": [],
            "growth": 80,
        },
        "at": {"weekday": 5, "day_of_month": 5, "hour": 10},
        "campaign": {"uses_by_member": 0},
    }
