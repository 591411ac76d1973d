"""template.yaml and the code agree: every route is served by its function, every function has an event."""

from __future__ import annotations

from pathlib import Path

from local.template import load_template
from loyalty.http import docs

ROOT = Path(__file__).resolve().parents[2]


def test_every_template_route_is_a_route_of_the_code() -> None:
    app = docs.app()
    routes = app._static_routes + app._dynamic_routes  # Powertools has no public listing of routes
    served = {(route.method.upper(), route.openapi_path) for route in routes}
    for fn in load_template().functions().values():
        for route in fn.routes:
            assert (route.method, route.path) in served, f"{fn.name}: {route.method} {route.path} has no handler"


def test_every_function_has_a_sample_event_and_least_privilege() -> None:
    template = load_template()
    for name, fn in template.functions().items():
        folder = fn.code_dir.name.replace("_", "-")
        assert list((ROOT / "events").glob(f"{folder}-*.json")), f"no sample event for {name}"
        for policy in template.resources[name]["Properties"].get("Policies", []):
            for statement in policy.get("Statement", []):
                assert "*" not in str(statement["Action"]) and statement["Resource"] != "*", name
