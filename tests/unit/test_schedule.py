"""Tests of the scheduler's frequency settings, next runs and EventBridge expressions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import islice, pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from pydantic import ValidationError

from background_posting.domain.schedule import (
    DailySettings,
    HourlySettings,
    MonthlySettings,
    ScheduleExpression,
    ScheduleSettings,
    WeeklySettings,
    describe,
    effective_zone,
    next_runs,
    parse_settings,
    schedule_expression,
)
from infra.scheduler_local import firings

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
KOLKATA = ZoneInfo("Asia/Kolkata")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")
UTC_ZONE = ZoneInfo("UTC")
ZONE_NAMES = ["Europe/London", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "UTC"]


def hourly(every: int, offset: int, **extra: Any) -> ScheduleSettings:
    return parse_settings(
        {"frequency": "hourly", "every_hours": every, "start_offset_minutes": offset, **extra}
    )


def daily(time: str, **extra: Any) -> ScheduleSettings:
    return parse_settings({"frequency": "daily", "time": time, **extra})


def weekly(weekday: str, time: str) -> ScheduleSettings:
    return parse_settings({"frequency": "weekly", "weekday": weekday, "time": time})


def monthly(time: str, **extra: Any) -> ScheduleSettings:
    return parse_settings({"frequency": "monthly", "time": time, **extra})


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def local(
    zone: ZoneInfo,
    year: int,
    month: int,
    day: int,
    hour: int = 0,
    minute: int = 0,
    second: int = 0,
    *,
    fold: int = 0,
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=zone, fold=fold)


def in_utc(moments: list[datetime]) -> list[datetime]:
    """Compare instants in UTC: same-zone datetimes compare wall times and ignore fold."""
    return [moment.astimezone(UTC) for moment in moments]


def wall_times(moments: list[datetime]) -> list[str]:
    return [f"{moment:%Y-%m-%d %H:%M %Z}" for moment in moments]


# --------------------------------------------------------------------------- settings


class TestSettings:
    @pytest.mark.parametrize(
        ("data", "model"),
        [
            ({"frequency": "hourly", "every_hours": 2, "start_offset_minutes": 15}, HourlySettings),
            ({"frequency": "daily", "time": "02:00"}, DailySettings),
            ({"frequency": "weekly", "weekday": "TUE", "time": "23:59"}, WeeklySettings),
            ({"frequency": "monthly", "day": 31, "time": "00:00"}, MonthlySettings),
            (
                {"frequency": "monthly", "nth": -1, "weekday": "FRI", "time": "18:30"},
                MonthlySettings,
            ),
            ({"frequency": "daily", "time": "02:00", "timezone": "Asia/Kolkata"}, DailySettings),
        ],
    )
    def test_valid_settings_parse_and_round_trip(
        self, data: dict[str, Any], model: type[object]
    ) -> None:
        settings = parse_settings(data)

        assert isinstance(settings, model)
        assert settings.model_dump(exclude_none=True) == data

    @pytest.mark.parametrize(
        ("data", "field", "reason"),
        [
            (
                {"frequency": "hourly", "every_hours": 1, "start_offset_minutes": 75},
                "start_offset_minutes",
                "less than or equal to 59",
            ),
            (
                {"frequency": "hourly", "every_hours": 1, "start_offset_minutes": -1},
                "start_offset_minutes",
                "greater than or equal to 0",
            ),
            (
                {"frequency": "hourly", "every_hours": 0, "start_offset_minutes": 0},
                "every_hours",
                "greater than or equal to 1",
            ),
            (
                {"frequency": "hourly", "every_hours": 25, "start_offset_minutes": 0},
                "every_hours",
                "less than or equal to 24",
            ),
            (
                {"frequency": "monthly", "day": 0, "time": "02:00"},
                "day",
                "greater than or equal to 1",
            ),
            (
                {"frequency": "monthly", "day": 32, "time": "02:00"},
                "day",
                "less than or equal to 31",
            ),
            ({"frequency": "daily", "time": "25:00"}, "time", "24-hour clock"),
            ({"frequency": "daily", "time": "12:60"}, "time", "24-hour clock"),
            ({"frequency": "daily", "time": "9:30"}, "time", "HH:MM"),
            ({"frequency": "daily", "time": "09:30:00"}, "time", "HH:MM"),
            (
                {"frequency": "daily", "time": "02:00", "timezone": "Mars/Base"},
                "timezone",
                "unknown time zone 'Mars/Base'",
            ),
            (
                {"frequency": "daily", "time": "02:00", "timezone": "localtime"},
                "timezone",
                "unknown time zone",
            ),
            (
                {"frequency": "daily", "time": "02:00", "timezone": "../etc/passwd"},
                "timezone",
                "unknown time zone",
            ),
            ({"frequency": "weekly", "weekday": "FUN", "time": "02:00"}, "weekday", "'MON'"),
            (
                {"frequency": "monthly", "nth": 5, "weekday": "TUE", "time": "02:00"},
                "nth",
                "Input should be 1, 2, 3, 4 or -1",
            ),
            (
                {"frequency": "daily", "time": "02:00", "every_hours": 2},
                "every_hours",
                "not permitted",
            ),
        ],
    )
    def test_invalid_settings_say_which_field_and_why(
        self, data: dict[str, Any], field: str, reason: str
    ) -> None:
        with pytest.raises(ValidationError) as raised:
            parse_settings(data)

        (error,) = raised.value.errors()
        assert error["loc"][-1] == field
        assert reason in error["msg"]
        assert field in str(raised.value)

    @pytest.mark.parametrize(
        "data",
        [
            {"frequency": "monthly", "time": "02:00"},
            {"frequency": "monthly", "nth": 3, "time": "02:00"},
            {"frequency": "monthly", "weekday": "TUE", "time": "02:00"},
            {"frequency": "monthly", "day": 3, "nth": 3, "weekday": "TUE", "time": "02:00"},
            {"frequency": "monthly", "day": 3, "weekday": "TUE", "time": "02:00"},
        ],
    )
    def test_monthly_needs_exactly_one_of_day_or_nth_weekday(self, data: dict[str, Any]) -> None:
        with pytest.raises(ValidationError, match=r"give either day|give day"):
            parse_settings(data)

    def test_unknown_frequency_is_rejected(self) -> None:
        with pytest.raises(ValidationError, match="fortnightly"):
            parse_settings({"frequency": "fortnightly", "time": "02:00"})

    def test_the_settings_zone_wins_over_the_organisation_zone(self) -> None:
        assert effective_zone(daily("02:00", timezone="Asia/Kolkata"), LONDON) == KOLKATA
        assert effective_zone(daily("02:00"), LONDON) == LONDON


# --------------------------------------------------------------------------- hourly


class TestHourly:
    def test_every_hour_at_offset_15_set_at_0910_first_runs_at_0915(self) -> None:
        anchor = local(LONDON, 2026, 11, 17, 9, 10)

        runs = next_runs(hourly(1, 15), LONDON, anchor, 3)

        assert runs == [
            local(LONDON, 2026, 11, 17, 9, 15),
            local(LONDON, 2026, 11, 17, 10, 15),
            local(LONDON, 2026, 11, 17, 11, 15),
        ]

    def test_every_five_hours_counts_from_the_first_run_across_midnight(self) -> None:
        anchor = local(LONDON, 2026, 11, 17, 9, 10)

        runs = next_runs(hourly(5, 15), LONDON, anchor, 5)

        assert wall_times(runs) == [
            "2026-11-17 09:15 GMT",
            "2026-11-17 14:15 GMT",
            "2026-11-17 19:15 GMT",
            "2026-11-18 00:15 GMT",
            "2026-11-18 05:15 GMT",
        ]

    def test_set_exactly_at_the_offset_runs_at_once(self) -> None:
        anchor = local(LONDON, 2026, 11, 17, 9, 15)

        assert next_runs(hourly(2, 15), LONDON, anchor, 1) == [anchor]

    def test_set_a_second_after_the_offset_waits_for_the_next_hour(self) -> None:
        anchor = local(LONDON, 2026, 11, 17, 9, 15, 1)

        assert next_runs(hourly(2, 15), LONDON, anchor, 1) == [local(LONDON, 2026, 11, 17, 10, 15)]

    def test_later_runs_keep_the_phase_of_the_anchor(self) -> None:
        anchor = local(LONDON, 2026, 11, 17, 9, 10)
        after = local(LONDON, 2026, 11, 20, 12, 0)

        runs = next_runs(hourly(5, 15), LONDON, after, 2, anchor=anchor)

        # 17 Nov 09:15 + 15 periods of 5 hours (75 hours) = 20 Nov 12:15
        assert wall_times(runs) == ["2026-11-20 12:15 GMT", "2026-11-20 17:15 GMT"]

    def test_no_runs_before_the_schedule_was_set(self) -> None:
        anchor = local(LONDON, 2026, 11, 17, 9, 10)

        runs = next_runs(hourly(1, 15), LONDON, anchor - timedelta(days=3), 1, anchor=anchor)

        assert runs == [local(LONDON, 2026, 11, 17, 9, 15)]

    def test_the_offset_is_minutes_after_the_local_hour(self) -> None:
        anchor = local(KOLKATA, 2026, 1, 5, 9, 10)  # UTC+05:30

        (run,) = next_runs(hourly(1, 15), KOLKATA, anchor, 1)

        assert (run.hour, run.minute) == (9, 15)
        assert run.astimezone(UTC).minute == 45

    def test_runs_are_elapsed_hours_when_the_clocks_go_back(self) -> None:
        anchor = local(LONDON, 2026, 10, 25, 0, 0)

        runs = next_runs(hourly(1, 30), LONDON, anchor, 4)

        assert wall_times(runs) == [
            "2026-10-25 00:30 BST",
            "2026-10-25 01:30 BST",
            "2026-10-25 01:30 GMT",
            "2026-10-25 02:30 GMT",
        ]
        assert [run.fold for run in runs] == [0, 0, 1, 0]
        assert in_utc(runs) == [utc(2026, 10, 24, 23, 30) + timedelta(hours=h) for h in range(4)]

    def test_runs_are_elapsed_hours_when_the_clocks_go_forward(self) -> None:
        anchor = local(NEW_YORK, 2026, 3, 8, 0, 0)

        runs = next_runs(hourly(1, 30), NEW_YORK, anchor, 3)

        assert wall_times(runs) == [
            "2026-03-08 00:30 EST",
            "2026-03-08 01:30 EST",
            "2026-03-08 03:30 EDT",
        ]

    def test_a_half_hour_clock_change_moves_the_local_minute(self) -> None:
        # Lord Howe Island puts its clocks forward by 30 minutes (02:00 -> 02:30).
        anchor = local(LORD_HOWE, 2026, 10, 4, 0, 0)

        runs = next_runs(hourly(1, 15), LORD_HOWE, anchor, 4)

        assert [f"{run:%H:%M}" for run in runs] == ["00:15", "01:15", "02:45", "03:45"]

    def test_the_first_run_can_be_more_than_an_hour_away_across_a_half_hour_gap(self) -> None:
        # From 01:20 the local clock next shows :15 at 03:15, 85 minutes later.
        anchor = local(LORD_HOWE, 2026, 10, 4, 1, 20)

        (run,) = next_runs(hourly(1, 15), LORD_HOWE, anchor, 1)

        assert f"{run:%H:%M}" == "03:15"
        assert run.astimezone(UTC) - anchor.astimezone(UTC) == timedelta(minutes=85)

    def test_the_first_run_can_be_in_the_repeated_hour(self) -> None:
        anchor = local(LONDON, 2026, 10, 25, 1, 20, fold=1)  # 01:20 GMT, the second 01:20

        (run,) = next_runs(hourly(3, 30), LONDON, anchor, 1)

        assert wall_times([run]) == ["2026-10-25 01:30 GMT"]


# --------------------------------------------------------------------------- wall clock


class TestDailyWeeklyMonthly:
    def test_daily(self) -> None:
        runs = next_runs(daily("02:00"), LONDON, local(LONDON, 2026, 11, 17, 9, 10), 2)

        assert wall_times(runs) == ["2026-11-18 02:00 GMT", "2026-11-19 02:00 GMT"]

    def test_daily_runs_at_the_time_itself_when_asked_at_that_time(self) -> None:
        after = local(LONDON, 2026, 11, 17, 2, 0)

        assert next_runs(daily("02:00"), LONDON, after, 1) == [after]

    def test_weekly(self) -> None:
        # 17 November 2026 is a Tuesday.
        runs = next_runs(weekly("TUE", "02:00"), LONDON, local(LONDON, 2026, 11, 17, 9, 10), 2)

        assert wall_times(runs) == ["2026-11-24 02:00 GMT", "2026-12-01 02:00 GMT"]

    def test_monthly_on_a_day(self) -> None:
        runs = next_runs(monthly("02:00", day=17), LONDON, local(LONDON, 2026, 11, 17, 9, 10), 2)

        assert wall_times(runs) == ["2026-12-17 02:00 GMT", "2027-01-17 02:00 GMT"]

    def test_monthly_day_31_runs_on_every_month_end(self) -> None:
        runs = next_runs(monthly("02:00", day=31), UTC_ZONE, utc(2027, 1, 1), 5)

        assert [run.date().isoformat() for run in runs] == [
            "2027-01-31",
            "2027-02-28",
            "2027-03-31",
            "2027-04-30",
            "2027-05-31",
        ]

    def test_monthly_day_30_runs_on_29_february_in_a_leap_year(self) -> None:
        runs = next_runs(monthly("02:00", day=30), UTC_ZONE, utc(2028, 1, 1), 3)

        assert [run.date().isoformat() for run in runs] == [
            "2028-01-30",
            "2028-02-29",
            "2028-03-30",
        ]

    def test_monthly_day_29_runs_on_28_february_in_a_common_year(self) -> None:
        runs = next_runs(monthly("02:00", day=29), UTC_ZONE, utc(2027, 1, 30), 2)

        assert [run.date().isoformat() for run in runs] == ["2027-02-28", "2027-03-29"]

    def test_monthly_third_tuesday(self) -> None:
        runs = next_runs(
            monthly("02:00", nth=3, weekday="TUE"), LONDON, local(LONDON, 2026, 11, 1), 3
        )

        assert [run.date().isoformat() for run in runs] == [
            "2026-11-17",
            "2026-12-15",
            "2027-01-19",
        ]

    def test_monthly_last_friday(self) -> None:
        runs = next_runs(
            monthly("18:30", nth=-1, weekday="FRI"), LONDON, local(LONDON, 2026, 11, 1), 3
        )

        assert [run.date().isoformat() for run in runs] == [
            "2026-11-27",
            "2026-12-25",
            "2027-01-29",
        ]

    def test_runs_are_in_the_settings_zone_when_it_names_one(self) -> None:
        settings = daily("09:00", timezone="Asia/Kolkata")

        (run,) = next_runs(settings, LONDON, utc(2026, 1, 5), 1)

        assert run.tzinfo == KOLKATA
        assert run.astimezone(UTC) == utc(2026, 1, 5, 3, 30)

    def test_count_zero_and_negative(self) -> None:
        assert next_runs(daily("02:00"), LONDON, utc(2026, 1, 1), 0) == []
        with pytest.raises(ValueError, match="count"):
            next_runs(daily("02:00"), LONDON, utc(2026, 1, 1), -1)

    def test_naive_datetimes_are_refused(self) -> None:
        with pytest.raises(ValueError, match="timezone-aware"):
            next_runs(daily("02:00"), LONDON, datetime(2026, 1, 1), 1)
        with pytest.raises(ValueError, match="timezone-aware"):
            schedule_expression(daily("02:00"), LONDON, datetime(2026, 1, 1))


class TestDaylightSaving:
    """EventBridge's documented rule: a skipped time is skipped, a repeated one runs once."""

    @pytest.mark.parametrize(
        ("zone", "time", "day_before", "expected"),
        [
            (
                LONDON,  # 29 March 2026: 01:00 GMT -> 02:00 BST
                "01:30",
                (2026, 3, 28),
                ["2026-03-28 01:30 GMT", "2026-03-30 01:30 BST"],
            ),
            (
                NEW_YORK,  # 8 March 2026: 02:00 EST -> 03:00 EDT
                "02:30",
                (2026, 3, 7),
                ["2026-03-07 02:30 EST", "2026-03-09 02:30 EDT"],
            ),
        ],
    )
    def test_a_time_the_clocks_skip_is_skipped_that_day(
        self, zone: ZoneInfo, time: str, day_before: tuple[int, int, int], expected: list[str]
    ) -> None:
        runs = next_runs(daily(time), zone, local(zone, *day_before), 2)

        assert wall_times(runs) == expected

    def test_the_instant_the_clocks_jump_to_still_runs(self) -> None:
        # 02:00 exists in London on 29 March 2026: it is when the clocks jump to.
        (run,) = next_runs(daily("02:00"), LONDON, local(LONDON, 2026, 3, 29), 1)

        assert run.astimezone(UTC) == utc(2026, 3, 29, 1, 0)

    def test_a_skipped_month_end_run_is_skipped_too(self) -> None:
        # Last Sunday of March 2026 in London, at a time the clocks skip.
        runs = next_runs(
            monthly("01:30", nth=-1, weekday="SUN"), LONDON, local(LONDON, 2026, 3, 1), 1
        )

        assert wall_times(runs) == ["2026-04-26 01:30 BST"]

    @pytest.mark.parametrize(
        ("zone", "day_before", "first_occurrence_utc"),
        [
            (LONDON, (2026, 10, 24), utc(2026, 10, 25, 0, 30)),  # 02:00 BST -> 01:00 GMT
            (NEW_YORK, (2026, 10, 31), utc(2026, 11, 1, 5, 30)),  # 02:00 EDT -> 01:00 EST
        ],
    )
    def test_a_time_that_repeats_runs_once_at_its_first_occurrence(
        self, zone: ZoneInfo, day_before: tuple[int, int, int], first_occurrence_utc: datetime
    ) -> None:
        runs = next_runs(daily("01:30"), zone, local(zone, *day_before, 12, 0), 2)

        assert in_utc(runs)[0] == first_occurrence_utc
        assert runs[0].fold == 0
        assert runs[1].date() == runs[0].date() + timedelta(days=1)

    def test_asked_between_the_two_occurrences_the_repeat_does_not_run(self) -> None:
        after = local(LONDON, 2026, 10, 25, 1, 0, fold=1)  # 01:00 GMT, after 01:30 BST

        (run,) = next_runs(daily("01:30"), LONDON, after, 1)

        assert wall_times([run]) == ["2026-10-26 01:30 GMT"]


# --------------------------------------------------------------------------- EventBridge


class TestScheduleExpression:
    ANCHOR = local(LONDON, 2026, 11, 17, 9, 10)

    def expressions(self, settings: ScheduleSettings) -> list[str]:
        return [item.expression for item in schedule_expression(settings, LONDON, self.ANCHOR)]

    def test_hourly_is_a_rate_from_the_first_run(self) -> None:
        (item,) = schedule_expression(hourly(5, 15), LONDON, self.ANCHOR)

        assert item == ScheduleExpression(
            expression="rate(5 hours)",
            timezone="UTC",
            start_date=local(LONDON, 2026, 11, 17, 9, 15),
        )

    def test_every_hour_uses_the_singular(self) -> None:
        assert self.expressions(hourly(1, 15)) == ["rate(1 hour)"]

    @pytest.mark.parametrize(
        ("settings", "expected"),
        [
            (daily("01:30"), ["cron(30 1 * * ? *)"]),
            (weekly("TUE", "02:00"), ["cron(0 2 ? * TUE *)"]),
            (monthly("02:00", day=17), ["cron(0 2 17 * ? *)"]),
            (monthly("02:00", day=28), ["cron(0 2 28 * ? *)"]),
            (monthly("02:00", day=29), ["cron(0 2 29 1,3-12 ? *)", "cron(0 2 L 2 ? *)"]),
            (monthly("02:00", day=30), ["cron(0 2 30 1,3-12 ? *)", "cron(0 2 L 2 ? *)"]),
            (monthly("02:00", day=31), ["cron(0 2 L * ? *)"]),
            (monthly("02:00", nth=3, weekday="TUE"), ["cron(0 2 ? * 3#3 *)"]),
            (monthly("02:00", nth=-1, weekday="FRI"), ["cron(0 2 ? * 6L *)"]),
            (monthly("02:00", nth=1, weekday="SUN"), ["cron(0 2 ? * 1#1 *)"]),
            (monthly("02:00", nth=4, weekday="SAT"), ["cron(0 2 ? * 7#4 *)"]),
        ],
    )
    def test_wall_clock_frequencies_are_crons(
        self, settings: ScheduleSettings, expected: list[str]
    ) -> None:
        items = schedule_expression(settings, LONDON, self.ANCHOR)

        assert [item.expression for item in items] == expected
        assert {item.timezone for item in items} == {"Europe/London"}
        assert {item.start_date for item in items} == {None}

    def test_the_settings_zone_is_the_expression_zone(self) -> None:
        (item,) = schedule_expression(daily("02:00", timezone="Asia/Kolkata"), LONDON, self.ANCHOR)

        assert item.timezone == "Asia/Kolkata"


# --------------------------------------------------------------------------- describe


class TestDescribe:
    def test_the_sentence(self) -> None:
        next_run = local(LONDON, 2026, 11, 17, 2, 0)

        assert describe(daily("02:00"), LONDON, next_run) == (
            "The scheduler will next run on Tuesday 17 November 2026 at 02:00 (Europe/London)."
        )

    def test_the_time_is_shown_in_the_schedule_zone(self) -> None:
        settings = daily("09:00", timezone="Asia/Kolkata")

        assert describe(settings, LONDON, utc(2026, 1, 5, 3, 30)) == (
            "The scheduler will next run on Monday 5 January 2026 at 09:00 (Asia/Kolkata)."
        )

    def test_describes_the_first_of_next_runs(self) -> None:
        settings = hourly(1, 15)
        (first,) = next_runs(settings, LONDON, local(LONDON, 2026, 7, 1, 9, 10), 1)

        assert describe(settings, LONDON, first) == (
            "The scheduler will next run on Wednesday 1 July 2026 at 09:15 (Europe/London)."
        )


# --------------------------------------------------------------------------- property
#
# For generated settings, evaluate what EventBridge would fire with an evaluator that
# shares no code with the module (cronsim for cron, plain timedelta sums for rate) and
# check it against next_runs.

RUNS = 200


def eventbridge_firings(
    items: list[ScheduleExpression], start: datetime, count: int
) -> list[datetime]:
    """The first ``count`` firings at or after ``start`` of all the schedules, in UTC.

    Evaluated by the local stack's scheduler (infra/scheduler_local.py: cronsim for cron,
    plain arithmetic for rate), which shares no code with the module under test.
    """
    found: list[datetime] = []
    for item in items:
        found.extend(islice(firings(item.expression, item.timezone, item.start_date, start), count))
    assert len(set(found)) == len(found), "two schedules would fire at the same instant"
    return sorted(found)[:count]


_wall_time = st.builds(
    "{:02d}:{:02d}".format,
    st.one_of(st.sampled_from([0, 1, 2, 3]), st.integers(0, 23)),  # near clock changes
    st.one_of(st.sampled_from([0, 15, 30, 45]), st.integers(0, 59)),
)
_weekday = st.sampled_from(["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"])
_zone_name = st.sampled_from(ZONE_NAMES)
_settings_data = st.one_of(
    st.fixed_dictionaries(
        {
            "frequency": st.just("hourly"),
            "every_hours": st.integers(1, 24),
            "start_offset_minutes": st.integers(0, 59),
        }
    ),
    st.fixed_dictionaries({"frequency": st.just("daily"), "time": _wall_time}),
    st.fixed_dictionaries(
        {"frequency": st.just("weekly"), "weekday": _weekday, "time": _wall_time}
    ),
    st.fixed_dictionaries(
        {
            "frequency": st.just("monthly"),
            "day": st.one_of(st.integers(28, 31), st.integers(1, 31)),
            "time": _wall_time,
        }
    ),
    st.fixed_dictionaries(
        {
            "frequency": st.just("monthly"),
            "nth": st.sampled_from([1, 2, 3, 4, -1]),
            "weekday": _weekday,
            "time": _wall_time,
        }
    ),
)


@st.composite
def _schedules(draw: st.DrawFn) -> tuple[ScheduleSettings, ZoneInfo, datetime, datetime]:
    data = draw(_settings_data)
    own_zone = draw(st.one_of(st.none(), _zone_name))
    if own_zone is not None:
        data = {**data, "timezone": own_zone}
    organisation_zone = ZoneInfo(draw(_zone_name))
    anchor = draw(
        st.datetimes(
            min_value=datetime(2024, 1, 1),
            max_value=datetime(2036, 12, 31),
            timezones=st.just(UTC),
        )
    )
    after = anchor + draw(st.sampled_from([timedelta(0), timedelta(days=40, minutes=7)]))
    return parse_settings(data), organisation_zone, anchor, after


@hypothesis_settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_schedules())
def test_eventbridge_fires_exactly_at_next_runs(
    schedule: tuple[ScheduleSettings, ZoneInfo, datetime, datetime],
) -> None:
    settings, organisation_zone, anchor, after = schedule
    zone = effective_zone(settings, organisation_zone)

    runs = next_runs(settings, organisation_zone, after, RUNS, anchor=anchor)
    items = schedule_expression(settings, organisation_zone, anchor)

    assert len(runs) == RUNS
    assert all(run.tzinfo == zone for run in runs)
    assert in_utc(runs) == eventbridge_firings(items, after, RUNS)


def _whole_minutes_between(start: datetime, end: datetime) -> list[datetime]:
    """Every whole minute at or after ``start`` and before ``end`` (UTC)."""
    minute = start.replace(second=0, microsecond=0)
    minutes = []
    while minute < end:
        if minute >= start:
            minutes.append(minute)
        minute += timedelta(minutes=1)
    return minutes


@hypothesis_settings(max_examples=200, deadline=None)
@given(
    every=st.integers(1, 24),
    offset=st.integers(0, 59),
    zone_name=_zone_name,
    anchor=st.datetimes(
        min_value=datetime(2024, 1, 1), max_value=datetime(2036, 12, 31), timezones=st.just(UTC)
    ),
)
def test_hourly_runs_are_n_hours_apart_from_the_first_local_offset_minute(
    every: int, offset: int, zone_name: str, anchor: datetime
) -> None:
    zone = ZoneInfo(zone_name)

    runs = next_runs(hourly(every, offset), zone, anchor, 30)

    first = runs[0]
    assert first.tzinfo == zone
    assert (first.minute, first.second, first.microsecond) == (offset, 0, 0)
    assert anchor <= first < anchor + timedelta(hours=2)
    earlier_minutes = _whole_minutes_between(anchor, first.astimezone(UTC))
    assert all(minute.astimezone(zone).minute != offset for minute in earlier_minutes)
    # Subtract in UTC: Python subtracts wall times when both sides share a zone.
    instants = in_utc(runs)
    assert all(later - earlier == timedelta(hours=every) for earlier, later in pairwise(instants))
