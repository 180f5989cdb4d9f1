"""Post on a date: when that date begins in a company's time zone, and which dates are taken."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from background_posting.domain.background import POST_ON_MAX_DAYS, check_post_on, starts_in
from background_posting.domain.errors import InvalidRequest

ZONES = ["Europe/London", "America/Santiago", "America/Havana", "Australia/Lord_Howe", "UTC"]
"""London's changes at 01:00 UTC; Santiago's and Havana's at local midnight (a day that begins
at 01:00); Lord Howe's by half an hour."""


@given(st.dates(date(2026, 1, 1), date(2030, 12, 31)), st.sampled_from(ZONES))
def test_a_day_begins_at_the_first_instant_whose_local_date_is_that_day(
    day: date, zone: str
) -> None:
    instant = starts_in(day, zone)
    assert datetime.fromtimestamp(instant, ZoneInfo(zone)).date() == day
    assert datetime.fromtimestamp(instant - 1, ZoneInfo(zone)).date() == day - timedelta(days=1)


def test_a_day_whose_midnight_does_not_exist_begins_at_the_clock_change() -> None:
    # Santiago moves from 00:00 to 01:00 on 6 September 2026: the day begins at 04:00 UTC
    begins = datetime.fromtimestamp(starts_in(date(2026, 9, 6), "America/Santiago"), UTC)
    assert begins == datetime(2026, 9, 6, 4, 0, tzinfo=UTC)


def test_today_and_up_to_90_days_ahead_are_taken_and_nothing_else() -> None:
    today = date(2026, 12, 7)
    check_post_on(today, today)
    check_post_on(today + timedelta(days=POST_ON_MAX_DAYS), today)
    for wrong, code in (
        (today - timedelta(days=1), "date_in_past"),
        (today + timedelta(days=POST_ON_MAX_DAYS + 1), "date_too_far"),
    ):
        with pytest.raises(InvalidRequest) as refused:
            check_post_on(wrong, today)
        (error,) = refused.value.details["errors"]
        assert (error["field"], error["code"]) == ("post_on", code)
