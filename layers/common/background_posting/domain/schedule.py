"""When the background posting scheduler runs: settings, next runs, EventBridge expressions.

Pure domain code: no AWS, no I/O beyond reading the time zone database through
``zoneinfo``. A System Administrator chooses one of four frequencies (see
:data:`ScheduleSettings`); this module answers three questions about that choice:

* :func:`next_runs` -- the instants at which the scheduler will run;
* :func:`schedule_expression` -- the EventBridge Scheduler expression(s) that fire
  at exactly those instants, so that what the API shows is what fires;
* :func:`describe` -- the sentence shown to the administrator after Schedule Job.

Time zone
    Every setting may name an IANA time zone. ``None`` means the organisation's
    zone, which the caller passes as ``tz``; :func:`effective_zone` picks one.

Hourly: elapsed time from the moment the schedule is set
    "Every N hours at offset M" means: the first run is the first instant at or
    after the *anchor* (the moment the administrator clicked Schedule Job) at
    which the local clock shows minute M; after that, one run every N hours of
    elapsed time. Set at 09:10 with N=1, M=15 the scheduler first runs at 09:15;
    with N=5 it runs at 09:15, 14:15, 19:15, 00:15 the next day, and so on.
    The period is a fixed duration (computed in UTC), so it is not disturbed by
    daylight saving time: the runs stay exactly N hours apart, and after a
    clock change they show a different local hour (and, in a zone whose clocks
    move by half an hour, such as Australia/Lord_Howe, a different minute). This
    is what an EventBridge ``rate(N hours)`` schedule does, which is what we
    create (with ``StartDate`` = the first run); a cron expression cannot say
    "every 5 hours" across midnight.

Daily, weekly and monthly: local wall-clock time, and daylight saving
    These run at a wall-clock time in the zone, as an EventBridge cron schedule
    whose ``ScheduleExpressionTimezone`` is that zone. The AWS documentation
    ("Daylight savings time on EventBridge Scheduler", in the Schedule types page
    of the EventBridge Scheduler user guide) says:

    * clocks go forward: if the cron time does not exist that day, the
      invocation is *skipped* for that day;
    * clocks go back: a time that occurs twice runs *once*, at its first
      occurrence, and is not repeated after the shift.

    We implement exactly that, even though our own first idea for a skipped
    time was to run once at the first valid instant after the gap (02:00 in
    Europe/London for a 01:30 schedule on the spring-forward day). EventBridge
    does not do that, and a next-run time that never fires would be worse than
    an honest skip: so a daily run at 01:30 in Europe/London does not run on the
    last Sunday of March, and a run at 01:30 on the last Sunday of October runs
    at 01:30 BST only. Administrators who must never miss a run should choose a
    time outside the hours in which their zone changes its clocks (in Europe
    and North America: from 01:00 to 03:59).

Monthly on day 29, 30 or 31: never skip a month-end run
    In a month shorter than the chosen day, the scheduler runs on that month's
    last day (day 31 means "the last day of every month"; day 30 runs on
    28 or 29 February). EventBridge cron can say "last day" (``L``) but not
    "day 30 or the last day, whichever comes first", so such a schedule becomes
    two expressions: the chosen day in the months that always have it, and
    ``L`` in the months that are never longer than it. Their firings never
    coincide and together are exactly :func:`next_runs`.

Monthly on the nth weekday
    ``nth`` is 1 to 4, or -1 for the last such weekday of the month.

Why one module of about 450 lines: the four frequencies, their daylight-saving rules, the
next runs and the EventBridge expressions are one contract (what the API shows is what
fires), checked against each other; much of its length is this explanation of the rules.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import groupby, islice
from typing import Annotated, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import rrule
from pydantic import AfterValidator, ConfigDict, Field, TypeAdapter, model_validator

from background_posting.domain.model import LazyModel
from background_posting.domain.types import is_place_zone

Weekday = Literal["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"]
WEEKDAYS: tuple[Weekday, ...] = get_args(Weekday)

# EventBridge cron numbers the days of the week 1=SUN .. 7=SAT.
_EVENTBRIDGE_DAY_NUMBER: dict[Weekday, int] = {
    "SUN": 1,
    "MON": 2,
    "TUE": 3,
    "WED": 4,
    "THU": 5,
    "FRI": 6,
    "SAT": 7,
}
_RRULE_WEEKDAY: dict[Weekday, rrule.weekday] = dict(
    zip(
        WEEKDAYS,
        (rrule.MO, rrule.TU, rrule.WE, rrule.TH, rrule.FR, rrule.SA, rrule.SU),
        strict=True,
    )
)
_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_WALL_TIME = re.compile(r"([0-9]{2}):([0-9]{2})")
_MONTHS = range(1, 13)
# Years in which February has its most (29) and fewest (28) days.
_LEAP_YEAR = 2000
_COMMON_YEAR = 2001


# --------------------------------------------------------------------------- settings


def _check_wall_time(value: str) -> str:
    match = _WALL_TIME.fullmatch(value)
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        raise ValueError(f"time must be HH:MM on a 24-hour clock (00:00 to 23:59), got {value!r}")
    return value


def _check_zone_name(value: str | None) -> str | None:
    if value is None:
        return None
    if not is_place_zone(value) or not _is_zone_name(value):
        raise ValueError(
            f"unknown time zone {value!r}: use the IANA name of a place such as 'Europe/London'"
        )
    return value


def _is_zone_name(value: str) -> bool:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


WallTime = Annotated[str, AfterValidator(_check_wall_time)]
ZoneName = Annotated[str | None, AfterValidator(_check_zone_name)]


class _Settings(LazyModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    timezone: ZoneName = None
    """IANA zone the schedule is evaluated in; None means the organisation's zone."""


class _AtWallTime(_Settings):
    time: WallTime
    """Local time of day, HH:MM on a 24-hour clock."""

    @property
    def hour(self) -> int:
        return int(self.time[:2])

    @property
    def minute(self) -> int:
        return int(self.time[3:])


class HourlySettings(_Settings):
    frequency: Literal["hourly"]
    every_hours: int = Field(ge=1, le=24)
    start_offset_minutes: int = Field(ge=0, le=59)


class DailySettings(_AtWallTime):
    frequency: Literal["daily"]


class WeeklySettings(_AtWallTime):
    frequency: Literal["weekly"]
    weekday: Weekday


class MonthlySettings(_AtWallTime):
    """Either ``day`` (1-31), or ``nth`` (1-4, -1 = last) together with ``weekday``."""

    frequency: Literal["monthly"]
    day: int | None = Field(default=None, ge=1, le=31)
    nth: Literal[1, 2, 3, 4, -1] | None = None
    weekday: Weekday | None = None

    @model_validator(mode="after")
    def _day_or_nth_weekday(self) -> MonthlySettings:
        by_weekday = self.nth is not None or self.weekday is not None
        if self.day is not None and by_weekday:
            raise ValueError("monthly: give either day, or nth and weekday, not both")
        if self.day is None and (self.nth is None or self.weekday is None):
            raise ValueError(
                "monthly: give day (1 to 31), or nth (1 to 4, or -1 for the last) and weekday"
            )
        return self


ScheduleSettings = Annotated[
    HourlySettings | DailySettings | WeeklySettings | MonthlySettings,
    Field(discriminator="frequency"),
]
"""The scheduler's frequency settings, told apart by ``frequency``."""

SCHEDULE_SETTINGS: TypeAdapter[ScheduleSettings] = TypeAdapter(
    ScheduleSettings, config=ConfigDict(defer_build=True)
)


def parse_settings(data: object) -> ScheduleSettings:
    """Validate a mapping (e.g. a request body) into settings; raises ValidationError."""
    return SCHEDULE_SETTINGS.validate_python(data)


def effective_zone(settings: ScheduleSettings, tz: ZoneInfo) -> ZoneInfo:
    """The zone the schedule runs in: its own, or else the organisation's ``tz``."""
    return ZoneInfo(settings.timezone) if settings.timezone is not None else tz


# --------------------------------------------------------------------------- next runs


def next_runs(
    settings: ScheduleSettings,
    tz: ZoneInfo,
    after: datetime,
    count: int,
    *,
    anchor: datetime | None = None,
) -> list[datetime]:
    """The first ``count`` runs at or after ``after``, as aware datetimes in the zone.

    ``tz`` is the organisation's zone (used when the settings name none).
    ``anchor`` is the moment the schedule was set (default: ``after``); there are
    no runs before it, and hourly schedules count their N hours from it.
    """
    _require_aware(after, "after")
    anchor = after if anchor is None else anchor
    _require_aware(anchor, "anchor")
    if count < 0:
        raise ValueError(f"count must not be negative, got {count}")
    zone = effective_zone(settings, tz)
    start = max(after, anchor).astimezone(UTC)
    if isinstance(settings, HourlySettings):
        runs = _hourly_runs(settings, zone, anchor, start)
    else:
        runs = _wall_clock_runs(settings, zone, start)
    return [run.astimezone(zone) for run in islice(runs, count)]


def _require_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {moment!r}")


def _hourly_runs(
    settings: HourlySettings, zone: ZoneInfo, anchor: datetime, start: datetime
) -> Iterator[datetime]:
    first = _first_hourly_run(settings, zone, anchor)
    every_n_hours = rrule.rrule(rrule.HOURLY, interval=settings.every_hours, dtstart=first)
    return every_n_hours.xafter(start, inc=True)


def _first_hourly_run(settings: HourlySettings, zone: ZoneInfo, anchor: datetime) -> datetime:
    """The first whole minute at or after ``anchor`` whose local minute is the offset (UTC)."""
    whole_minute = anchor.astimezone(UTC).replace(second=0, microsecond=0)
    if whole_minute < anchor:
        whole_minute += timedelta(minutes=1)
    # Two hours always contain the offset minute, even across a half-hour clock change.
    minutes = rrule.rrule(rrule.MINUTELY, dtstart=whole_minute, count=120)
    for minute in minutes:
        if minute.astimezone(zone).minute == settings.start_offset_minutes:
            return minute
    raise AssertionError(f"no minute {settings.start_offset_minutes} in two hours in {zone}")


def _wall_clock_runs(
    settings: DailySettings | WeeklySettings | MonthlySettings, zone: ZoneInfo, start: datetime
) -> Iterator[datetime]:
    """Runs at a local wall-clock time, with EventBridge's daylight saving behaviour (UTC)."""
    local_day_before = (start.astimezone(zone) - timedelta(days=1)).replace(
        hour=0, minute=0, second=0, microsecond=0, tzinfo=None
    )
    for wall_time in _wall_clock_rule(settings, local_day_before):
        run = _instant_of_wall_time(wall_time, zone)
        if run is not None and run >= start:
            yield run


def _wall_clock_rule(
    settings: DailySettings | WeeklySettings | MonthlySettings, dtstart: datetime
) -> rrule.rrule:
    """The recurrence of naive local wall-clock times, from ``dtstart`` on, forever."""
    hour, minute = settings.hour, settings.minute
    if isinstance(settings, DailySettings):
        return rrule.rrule(rrule.DAILY, dtstart=dtstart, byhour=hour, byminute=minute, bysecond=0)
    if isinstance(settings, WeeklySettings):
        weekday = _RRULE_WEEKDAY[settings.weekday]
        return rrule.rrule(
            rrule.WEEKLY,
            dtstart=dtstart,
            byweekday=weekday,
            byhour=hour,
            byminute=minute,
            bysecond=0,
        )
    if settings.day is not None:
        # The earlier of the chosen day and the month's last day: day 31 in April is the 30th.
        return rrule.rrule(
            rrule.MONTHLY,
            dtstart=dtstart,
            bymonthday=(settings.day, -1),
            bysetpos=1,
            byhour=hour,
            byminute=minute,
            bysecond=0,
        )
    assert settings.nth is not None and settings.weekday is not None  # by the validator
    nth_weekday = _RRULE_WEEKDAY[settings.weekday](settings.nth)
    return rrule.rrule(
        rrule.MONTHLY,
        dtstart=dtstart,
        byweekday=nth_weekday,
        byhour=hour,
        byminute=minute,
        bysecond=0,
    )


def _instant_of_wall_time(wall_time: datetime, zone: ZoneInfo) -> datetime | None:
    """The UTC instant a local wall time first shows, or None if the clocks skip it.

    ``fold=0`` picks the first of two occurrences when the clocks go back; a time
    the clocks jump over does not survive the round trip through UTC.
    """
    first_occurrence = wall_time.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if first_occurrence.astimezone(zone).replace(tzinfo=None) != wall_time:
        return None
    return first_occurrence


# --------------------------------------------------------------------------- EventBridge


class ScheduleExpression(LazyModel):
    """One EventBridge Scheduler schedule: what ``CreateSchedule`` needs to fire it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    expression: str
    """ScheduleExpression, e.g. ``cron(0 2 ? * 3#3 *)`` or ``rate(5 hours)``."""
    timezone: str
    """ScheduleExpressionTimezone, the IANA zone the expression is evaluated in."""
    start_date: datetime | None = None
    """StartDate: no firing before it; a rate schedule first fires at it."""


def schedule_expression(
    settings: ScheduleSettings, tz: ZoneInfo, anchor: datetime
) -> list[ScheduleExpression]:
    """The EventBridge schedules whose firings, together, are exactly :func:`next_runs`.

    One schedule, except for a monthly day 29 or 30 (see the module docstring).
    ``anchor`` is the moment the schedule is set; ``tz`` the organisation's zone.
    """
    _require_aware(anchor, "anchor")
    zone = effective_zone(settings, tz)
    if isinstance(settings, HourlySettings):
        first = _first_hourly_run(settings, zone, anchor)
        return [
            ScheduleExpression(
                expression=_rate(settings.every_hours),
                timezone="UTC",
                start_date=first.astimezone(zone),
            )
        ]
    return [
        ScheduleExpression(expression=expression, timezone=zone.key)
        for expression in _cron_expressions(settings)
    ]


def _rate(hours: int) -> str:
    return "rate(1 hour)" if hours == 1 else f"rate({hours} hours)"


def _cron(settings: _AtWallTime, day_of_month: str, month: str, day_of_week: str) -> str:
    """EventBridge cron: minutes hours day-of-month month day-of-week year."""
    return f"cron({settings.minute} {settings.hour} {day_of_month} {month} {day_of_week} *)"


def _cron_expressions(settings: DailySettings | WeeklySettings | MonthlySettings) -> list[str]:
    if isinstance(settings, DailySettings):
        return [_cron(settings, "*", "*", "?")]
    if isinstance(settings, WeeklySettings):
        return [_cron(settings, "?", "*", settings.weekday)]
    if settings.day is None:
        assert settings.nth is not None and settings.weekday is not None  # by the validator
        day_number = _EVENTBRIDGE_DAY_NUMBER[settings.weekday]
        nth = "L" if settings.nth == -1 else f"#{settings.nth}"
        return [_cron(settings, "?", "*", f"{day_number}{nth}")]
    return _day_of_month_crons(settings, settings.day)


def _day_of_month_crons(settings: MonthlySettings, day: int) -> list[str]:
    """Day ``day`` in the months that always have it, ``L`` (last day) in the others."""
    if all(_longest_month(month) <= day for month in _MONTHS):
        return [_cron(settings, "L", "*", "?")]  # day 31: always the month's last day
    sometimes_shorter = [month for month in _MONTHS if _shortest_month(month) < day]
    always_long_enough = [month for month in _MONTHS if month not in sometimes_shorter]
    # Safe: a month that is sometimes shorter than the day is never longer than it.
    assert all(_longest_month(month) <= day for month in sometimes_shorter)
    expressions = [_cron(settings, str(day), _cron_months(always_long_enough), "?")]
    if sometimes_shorter:
        expressions.append(_cron(settings, "L", _cron_months(sometimes_shorter), "?"))
    return expressions


def _longest_month(month: int) -> int:
    return calendar.monthrange(_LEAP_YEAR, month)[1]


def _shortest_month(month: int) -> int:
    return calendar.monthrange(_COMMON_YEAR, month)[1]


def _cron_months(months: list[int]) -> str:
    """A cron month field: ``*``, or a list with runs as ranges, e.g. ``1,3-12``."""
    if months == list(_MONTHS):
        return "*"
    parts = []
    for _, run in groupby(enumerate(months), key=lambda item: item[1] - item[0]):
        members = [month for _, month in run]
        first, last = members[0], members[-1]
        parts.append(str(first) if first == last else f"{first}-{last}")
    return ",".join(parts)


# --------------------------------------------------------------------------- wording


def describe(settings: ScheduleSettings, tz: ZoneInfo, next_run: datetime) -> str:
    """The sentence shown after Schedule Job, e.g.

    "The scheduler will next run on Tuesday 17 November 2026 at 02:00 (Europe/London)."
    """
    _require_aware(next_run, "next_run")
    zone = effective_zone(settings, tz)
    local = next_run.astimezone(zone)
    day = f"{_WEEKDAY_NAMES[local.weekday()]} {local.day} {_MONTH_NAMES[local.month - 1]}"
    return f"The scheduler will next run on {day} {local.year} at {local:%H:%M} ({zone.key})."
