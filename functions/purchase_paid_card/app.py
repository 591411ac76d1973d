"""Paid-card payments and refunds: a thin adapter over the core layer's routes."""

from loyalty.http import cards
from loyalty.http.app import build, lambda_handler

app = build(cards.router)
handler = lambda_handler(app)
