"""Corrections of a member's profile: its birthday and its channel (PATCH .../members/{id}, PATCH .../me).

A member changes its own birthday once (`Profile.birthday_changed_at`); the server may change it any
time. A move issues nothing by itself: the birthday gift is one of the month's benefits
(rules/benefits.py), settled once per program-local month (`benefits_month`) with the birthday the
member has then. So a birthday moved into a month whose benefits were issued gets its gift next year
(the month's gift is never issued twice, whichever way the birthday moved), and one moved in before
the month's run is given by that run, once. The run's due day (DUE#benefits) is the next month's
first day whatever the birthday, so a move leaves it where it is.
"""

from __future__ import annotations

from datetime import date

from ..errors import LimitReached, ValidationFailed
from .posting import Change


def check_birthday(birthday: str | None, today: date) -> None:
    """A birthday with a year after `today` (program-local) is a 422 naming it; MM-DD has none to check."""
    if birthday is not None and len(birthday) == 10 and birthday > today.isoformat():
        raise ValidationFailed.field("birthday", f"must not be after today ({today.isoformat()})")


def correct(change: Change, birthday: str | None, channel: str | None, by_member: bool) -> bool:
    """Set what differs; True when anything did. A member's second birthday change is 409."""
    check_birthday(birthday, change.today)
    p = change.profile
    moved = birthday is not None and birthday != p.birthday
    if moved and by_member:
        if p.birthday_changed_at is not None:
            message = "a member changes its birthday once; ask the program's support to correct it"
            raise LimitReached(message, [{"field": "birthday", "message": message, "limit": 1}])
        p.birthday_changed_at = change.at
    if moved:
        p.birthday = birthday
    recast = channel is not None and channel != p.channel
    if recast:
        p.channel = channel
    return moved or recast
