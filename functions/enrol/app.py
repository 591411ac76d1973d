"""Enrolment (server and member), the member's tags (server) and referral codes: a thin adapter over the core
layer's routes."""

from loyalty.http import enrolment, referral
from loyalty.http.app import build, lambda_handler

app = build(enrolment.router, referral.router)
handler = lambda_handler(app)
