"""Enrolment (server and member) and the member's tags (server): a thin adapter over the core layer's routes."""

from loyalty.http import enrolment
from loyalty.http.app import build, lambda_handler

app = build(enrolment.router)
handler = lambda_handler(app)
