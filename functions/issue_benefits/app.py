"""IssueBenefitsFunction: plans the monthly tier benefits and birthday gifts for the run's time."""

from loyalty.jobs import planner

handler = planner(["benefits"])
