"""ExpirePointsFunction: plans the points sweep (expiry and expiry reminders) for the run's time."""

from loyalty.jobs import planner

handler = planner(["expire", "remind"])
