"""Redemptions and coupons used at a till: a thin adapter over the core layer's routes."""

from loyalty.http import spending
from loyalty.http.app import build, lambda_handler

app = build(spending.router)
handler = lambda_handler(app)
