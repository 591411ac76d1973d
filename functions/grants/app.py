"""Grants to an audience (server routes): a thin adapter over the core layer's routes."""

from loyalty.http import grants
from loyalty.http.app import build, lambda_handler

app = build(grants.router)
handler = lambda_handler(app)
