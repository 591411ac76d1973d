"""ChurnSweepFunction: plans the churn sweep (warning, recall) for the run's time."""

from loyalty.jobs import planner

handler = planner(["churn"])
