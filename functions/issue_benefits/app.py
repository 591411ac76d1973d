"""IssueBenefitsFunction: plans the monthly tier benefits, birthday gifts and paid-card cycles for the
run's time."""

from loyalty.jobs.schedule import planner

handler = planner(["benefits", "cards"])
