"""rules/profile.check_birthday: a birthday with a year is not after today (program-local)."""

from __future__ import annotations

from datetime import date

import pytest

from loyalty.errors import ValidationFailed
from loyalty.rules.profile import check_birthday

TODAY = date(2026, 12, 6)


@pytest.mark.parametrize("birthday", [None, "2026-12-06", "1990-05-17", "12-31", "02-29"])
def test_up_to_today_or_without_a_year_is_taken(birthday: str | None) -> None:
    check_birthday(birthday, TODAY)


@pytest.mark.parametrize("birthday", ["2026-12-07", "2999-01-01"])
def test_after_today_is_a_422_naming_birthday(birthday: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        check_birthday(birthday, TODAY)
    assert refused.value.details == [{"field": "birthday", "message": "must not be after today (2026-12-06)"}]
