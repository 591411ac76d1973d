"""EvaluateTierFunction: the periodic tier review (schedule) and POST .../tier-evaluations (API)."""

from typing import Any

from loyalty.http import tiers
from loyalty.http.app import build, lambda_handler
from loyalty.jobs.schedule import planner

api = lambda_handler(build(tiers.router))
review = planner(["tier_review"])


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    # One function, two triggers: API Gateway events carry a requestContext, schedules do not.
    return api(event, context) if "requestContext" in event else review(event, context)
