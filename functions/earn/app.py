"""Purchases, refunds, activities and guest orders: a thin adapter over the core layer's routes."""

from loyalty.http import earning, guests
from loyalty.http.app import build, lambda_handler

app = build(earning.router, guests.router)
handler = lambda_handler(app)
