"""ChurnSweepFunction: plans the churn sweep (warning, recall) and the RFM segment refresh for the run's
time."""

from loyalty.jobs import planner

handler = planner(["churn", "rfm"])
