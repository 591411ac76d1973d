"""Purchases, refunds and activities: a thin adapter over the core layer's routes."""

from loyalty.http import earning
from loyalty.http.app import build, lambda_handler

app = build(earning.router)
handler = lambda_handler(app)
