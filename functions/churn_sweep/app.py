"""ChurnSweepFunction: plans the churn sweep (warning, recall) and the RFM segment refresh for the run's
time."""

from loyalty.jobs.schedule import planner

handler = planner(["churn", "rfm"])
