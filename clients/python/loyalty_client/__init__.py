"""Typed Python client of the loyalty API, generated from its OpenAPI document (`make clients`)."""

from . import models
from ._transport import ApiError
from .api import LoyaltyClient

__all__ = ["ApiError", "LoyaltyClient", "models"]
