"""EventBridge Scheduler, firing for real on the local stack.

moto stores schedules but never fires them. This module evaluates each stored schedule's
expression, independently of the domain code that wrote it (cronsim for cron, plain
arithmetic for rate), and invokes the target function at each firing with the schedule's
input, `<aws.scheduler.scheduled-time>` replaced by the firing time, as EventBridge does.

EventBridge's documented behaviour in a time zone is kept: a cron time that the clocks
skip does not fire that day; a time that occurs twice fires once, at its first occurrence.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from cronsim import CronSim

log = logging.getLogger("scheduler")

_CRON = re.compile(r"cron\((\S+) (\S+) (\S+) (\S+) (\S+) (\S+)\)")
_RATE = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)")
_UNITS = {"minute": 1, "minutes": 1, "hour": 60, "hours": 60, "day": 1440, "days": 1440}
SCHEDULED_TIME = "<aws.scheduler.scheduled-time>"


def _standard_day_of_week(field: str) -> str:
    """EventBridge numbers days 1=SUN..7=SAT, standard cron 0=SUN..6=SAT; names agree."""
    return re.sub(r"(?<![#0-9])[1-7]", lambda match: str(int(match[0]) - 1), field)


def cron_firings(expression: str, timezone: str, after: datetime) -> Iterator[datetime]:
    """Firings (UTC) of an EventBridge cron expression at or after `after`."""
    match = _CRON.fullmatch(expression)
    if match is None:
        raise ValueError(f"not an EventBridge cron expression: {expression}")
    minute, hour, day_of_month, month, day_of_week, year = match.groups()
    if year != "*":
        raise ValueError(f"the local scheduler does not evaluate years: {expression}")
    standard = " ".join(
        [
            minute,
            hour,
            "*" if day_of_month == "?" else day_of_month,
            month,
            "*" if day_of_week == "?" else _standard_day_of_week(day_of_week),
        ]
    )
    zone = ZoneInfo(timezone)
    for firing in CronSim(standard, (after - timedelta(seconds=1)).astimezone(zone)):
        # cronsim moves a skipped wall time to the end of the gap; EventBridge skips it.
        if (
            minute.isdigit()
            and hour.isdigit()
            and (firing.hour, firing.minute)
            != (
                int(hour),
                int(minute),
            )
        ):
            continue
        yield firing.astimezone(UTC)


def rate_firings(expression: str, start: datetime, after: datetime) -> Iterator[datetime]:
    match = _RATE.fullmatch(expression)
    if match is None:
        raise ValueError(f"not an EventBridge rate expression: {expression}")
    period = timedelta(minutes=int(match[1]) * _UNITS[match[2]])
    firing = start.astimezone(UTC)
    if firing < after:
        firing += period * ((after - firing) // period)
        if firing < after:
            firing += period
    while True:
        yield firing
        firing += period


def firings(
    expression: str, timezone: str, start_date: datetime | None, after: datetime
) -> Iterator[datetime]:
    """Every firing of one schedule at or after `after` (and not before its start date)."""
    begin = max(after, start_date) if start_date is not None else after
    if expression.startswith("rate("):
        return rate_firings(expression, start_date or after, begin)
    return cron_firings(expression, timezone, begin)


@dataclass
class _Watched:
    signature: tuple[Any, ...]
    next_firing: datetime | None


class LocalScheduler:
    """Polls moto's schedules every second and invokes their targets when they are due."""

    def __init__(
        self,
        client: Any,
        groups: list[str],
        invoke: Callable[[str, dict[str, Any]], Any],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        self.client = client
        self.groups = groups
        self.invoke = invoke
        self.clock = clock
        self._watched: dict[tuple[str, str], _Watched] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.fired: list[tuple[str, datetime]] = []

    def start(self) -> LocalScheduler:
        self._thread = threading.Thread(target=self._loop, name="scheduler", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.wait(1.0):
            try:
                self.tick()
            except Exception:
                log.exception("the local scheduler failed to evaluate its schedules")

    def _schedules(self) -> Iterator[dict[str, Any]]:
        for group in self.groups:
            pages = self.client.get_paginator("list_schedules").paginate(GroupName=group)
            for page in pages:
                for summary in page.get("Schedules", []):
                    yield self.client.get_schedule(GroupName=group, Name=summary["Name"])

    def tick(self) -> None:
        now = self.clock()
        seen = set()
        for schedule in self._schedules():
            key = (schedule["GroupName"], schedule["Name"])
            seen.add(key)
            if schedule.get("State", "ENABLED") != "ENABLED":
                continue
            signature = (
                schedule["ScheduleExpression"],
                schedule.get("ScheduleExpressionTimezone") or "UTC",
                schedule.get("StartDate"),
                json.dumps(schedule["Target"], sort_keys=True, default=str),
            )
            watched = self._watched.get(key)
            if watched is None or watched.signature != signature:
                # A new or replaced schedule fires from now on, as EventBridge's would.
                watched = _Watched(signature, self._next(signature, now))
                self._watched[key] = watched
            while watched.next_firing is not None and watched.next_firing <= now:
                self._fire(schedule, watched.next_firing)
                watched.next_firing = self._next(
                    signature, watched.next_firing + timedelta(seconds=1)
                )
        for key in set(self._watched) - seen:
            del self._watched[key]

    @staticmethod
    def _next(signature: tuple[Any, ...], after: datetime) -> datetime | None:
        expression, timezone, start_date, _ = signature
        return next(iter(firings(expression, timezone, start_date, after)), None)

    def _fire(self, schedule: dict[str, Any], at: datetime) -> None:
        target = schedule["Target"]
        text = target.get("Input") or "{}"
        stamp = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        event = json.loads(text.replace(SCHEDULED_TIME, stamp))
        log.info("%s fired for %s", schedule["Name"], stamp)
        self.fired.append((schedule["Name"], at))
        threading.Thread(
            target=self._invoke, args=(target["Arn"], event), name="scheduled", daemon=True
        ).start()

    def _invoke(self, arn: str, event: dict[str, Any]) -> None:
        try:
            self.invoke(arn, event)
        except Exception:
            log.exception("the scheduled invocation of %s failed", arn)
