"""ExpirePointsFunction: plans the points sweep (expiry and expiry reminders) for the run's time."""

from loyalty.jobs.schedule import planner

handler = planner(["expire", "remind"])
