"""Checkouts: a cart priced, held and settled; a thin adapter over the core layer's routes."""

from loyalty.http import checkout
from loyalty.http.app import build, lambda_handler

app = build(checkout.router)
handler = lambda_handler(app)
