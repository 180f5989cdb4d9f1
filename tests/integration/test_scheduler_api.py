"""Schedule Job through the API: EventBridge Scheduler (moto) holds what the API shows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from background_posting.config import Settings
from background_posting.domain.identity import Caller
from background_posting.services import scheduler_service
from infra.scheduler_local import LocalScheduler, firings
from tests.conftest import SCHEDULE_GROUP, SCHEDULED_POSTING_ARN
from tests.support.api import invoke_api
from tests.support.data import company_body

ADMIN = Caller(
    "admin", "", groups=frozenset({"SystemAdministrator"}), allowed_companies=frozenset("*")
)


def stored_schedules() -> list[dict[str, Any]]:
    client = boto3.client("scheduler", region_name="us-east-1")
    names = [s["Name"] for s in client.list_schedules(GroupName=SCHEDULE_GROUP)["Schedules"]]
    return [client.get_schedule(GroupName=SCHEDULE_GROUP, Name=n) for n in sorted(names)]


def test_schedule_job_writes_the_schedule_and_says_when_it_runs(api: Any) -> None:
    answer = invoke_api(
        api,
        "PUT",
        "/scheduler",
        "admin",
        {"frequency": "daily", "time": "02:00", "timezone": "Europe/London"},
    )
    assert answer.status == 200, answer.body
    assert answer.body["message"].startswith("The scheduler will next run on ")
    assert answer.body["message"].endswith("at 02:00 (Europe/London).")
    (schedule,) = stored_schedules()
    assert schedule["ScheduleExpression"] == "cron(0 2 * * ? *)"
    assert schedule["ScheduleExpressionTimezone"] == "Europe/London"
    assert schedule["Target"]["Arn"] == SCHEDULED_POSTING_ARN
    assert "<aws.scheduler.scheduled-time>" in schedule["Target"]["Input"]

    shown = invoke_api(api, "GET", "/scheduler", "runner").body
    assert shown["scheduled"] is True and shown["in_sync"] is True
    assert shown["frequency"] == "daily" and shown["timezone"] == "Europe/London"
    assert len(shown["next_runs"]) == 5
    assert shown["next_runs"][0]["local"] == answer.body["next_run"]
    assert all(run["local"][11:16] == "02:00" for run in shown["next_runs"])


def test_scheduling_again_replaces_and_unscheduling_removes(api: Any) -> None:
    invoke_api(
        api, "PUT", "/scheduler", "admin", {"frequency": "monthly", "day": 30, "time": "23:00"}
    )
    assert len(stored_schedules()) == 2  # day 30, and the last day of February
    invoke_api(
        api,
        "PUT",
        "/scheduler",
        "admin",
        {"frequency": "weekly", "weekday": "TUE", "time": "06:30"},
    )
    (weekly,) = stored_schedules()
    assert weekly["ScheduleExpression"] == "cron(30 6 ? * TUE *)"
    assert weekly["ScheduleExpressionTimezone"] == "Europe/London"  # the organisation's zone
    gone = invoke_api(api, "DELETE", "/scheduler", "admin")
    assert gone.status == 200 and gone.body["schedules_removed"] == 1
    assert stored_schedules() == []
    shown = invoke_api(api, "GET", "/scheduler", "admin").body
    assert shown["scheduled"] is False and shown["next_runs"] == []


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        (
            {"frequency": "hourly", "every_hours": 2, "start_offset_minutes": 75},
            "start_offset_minutes",
            "59",
        ),
        ({"frequency": "monthly", "day": 0, "time": "02:00"}, "day", "1"),
        ({"frequency": "daily", "time": "25:00"}, "time", "25:00"),
        ({"frequency": "daily", "time": "02:00", "timezone": "Mars/Base"}, "timezone", "Mars/Base"),
        ({"frequency": "fortnightly", "time": "02:00"}, "frequency", "hourly"),
    ],
)
def test_invalid_settings_are_refused_naming_the_field(
    api: Any, body: dict[str, Any], field: str, words: str
) -> None:
    answer = invoke_api(api, "PUT", "/scheduler", "admin", body)
    assert answer.status == 400, answer.body
    problem = answer.body["error"]["details"]["errors"][0]
    assert problem["field"] == field and words in problem["message"]
    assert stored_schedules() == []


def test_only_administrators_schedule_and_run_now_users_may_look(api: Any) -> None:
    body = {"frequency": "daily", "time": "02:00"}
    assert invoke_api(api, "PUT", "/scheduler", "runner", body).status == 403
    assert invoke_api(api, "DELETE", "/scheduler", "runner").status == 403
    assert invoke_api(api, "GET", "/scheduler", "clerk").status == 403
    assert invoke_api(api, "GET", "/scheduler", "lister").status == 403
    assert invoke_api(api, "GET", "/scheduler", "runner").status == 200


def test_the_source_example_every_hour_at_offset_15_set_at_0910_first_runs_at_0915(
    aws: Settings,
) -> None:
    set_at = datetime(2026, 11, 24, 9, 10, tzinfo=UTC)
    answer = scheduler_service.schedule_job(
        ADMIN, {"frequency": "hourly", "every_hours": 1, "start_offset_minutes": 15}, now=set_at
    )
    assert answer["next_run"] == "2026-11-24T09:15:00+00:00"
    (schedule,) = stored_schedules()
    assert schedule["ScheduleExpression"] == "rate(1 hour)"


def test_the_local_scheduler_fires_the_stored_schedule_with_its_scheduled_time(
    aws: Settings,
) -> None:
    set_at = datetime(2026, 11, 24, 9, 10, tzinfo=UTC)
    scheduler_service.schedule_job(
        ADMIN, {"frequency": "hourly", "every_hours": 2, "start_offset_minutes": 15}, now=set_at
    )
    clock = [set_at]
    fired: list[dict[str, Any]] = []
    local = LocalScheduler(
        boto3.client("scheduler", region_name="us-east-1"),
        [SCHEDULE_GROUP],
        lambda arn, event: fired.append(event),
        clock=lambda: clock[0],
    )
    local.tick()
    for minutes in (4, 5, 6, 124, 125, 126):
        clock[0] = set_at + timedelta(minutes=minutes)
        local.tick()
    assert [at for _, at in local.fired] == [
        datetime(2026, 11, 24, 9, 15, tzinfo=UTC),
        datetime(2026, 11, 24, 11, 15, tzinfo=UTC),
    ]


ZONES = ["Europe/London", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "UTC"]
_time = st.builds("{:02d}:{:02d}".format, st.integers(0, 23), st.integers(0, 59))
_weekday = st.sampled_from(["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"])
_settings = st.one_of(
    st.fixed_dictionaries(
        {
            "frequency": st.just("hourly"),
            "every_hours": st.integers(1, 24),
            "start_offset_minutes": st.integers(0, 59),
        }
    ),
    st.fixed_dictionaries({"frequency": st.just("daily"), "time": _time}),
    st.fixed_dictionaries({"frequency": st.just("weekly"), "weekday": _weekday, "time": _time}),
    st.fixed_dictionaries(
        {"frequency": st.just("monthly"), "day": st.integers(1, 31), "time": _time}
    ),
    st.fixed_dictionaries(
        {
            "frequency": st.just("monthly"),
            "nth": st.sampled_from([1, 2, 3, 4, -1]),
            "weekday": _weekday,
            "time": _time,
        }
    ),
).flatmap(
    lambda s: st.fixed_dictionaries(
        {**{k: st.just(v) for k, v in s.items()}, "timezone": st.sampled_from(ZONES)}
    )
)


@hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=_settings,
    set_at=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
    ),
)
def test_what_the_api_shows_is_what_eventbridge_fires(
    aws: Settings, body: dict[str, Any], set_at: datetime
) -> None:
    # Given a schedule set through Schedule Job
    scheduler_service.schedule_job(ADMIN, body, now=set_at)
    # When the stored schedules are evaluated by the local scheduler's own evaluator
    fired: list[datetime] = []
    for schedule in stored_schedules():
        fired.extend(
            islice(
                firings(
                    schedule["ScheduleExpression"],
                    schedule["ScheduleExpressionTimezone"],
                    schedule.get("StartDate"),
                    set_at,
                ),
                200,
            )
        )
    # Then the next 200 firings are the next 200 runs the API shows
    shown = scheduler_service.view(ADMIN, count=200, now=set_at)["next_runs"]
    assert sorted(fired)[:200] == [datetime.fromisoformat(r["utc"]) for r in shown]


NOT_PLACES = ["Factory", "posixrules", "localtime", "posix/Europe/London", "right/UTC"]


@pytest.mark.parametrize("zone", NOT_PLACES)
def test_zones_eventbridge_refuses_are_refused_for_the_schedule_and_companies(
    api: Any, zone: str
) -> None:
    # Given zone names a host's database may answer but EventBridge Scheduler refuses (a
    # tryout scheduled "next run ... (Factory)")
    schedule = invoke_api(
        api, "PUT", "/scheduler", "admin", {"frequency": "daily", "time": "02:00", "timezone": zone}
    )
    company = invoke_api(api, "POST", "/companies", "admin", company_body("ZONED", timezone=zone))
    reader = invoke_api(api, "PUT", "/me/notifications", "clerk", {"timezone": zone})
    # Then each is a 400 naming timezone, and nothing is scheduled or created
    for answer in (schedule, company, reader):
        assert answer.status == 400, answer.body
        assert [e["field"] for e in answer.body["error"]["details"]["errors"]] == ["timezone"]
    assert invoke_api(api, "GET", "/scheduler", "admin").body["scheduled"] is False
    assert invoke_api(api, "GET", "/companies/ZONED", "admin").status == 404
    created = invoke_api(api, "POST", "/companies", "admin", company_body("ZONED"))
    assert created.status == 201
    amended = invoke_api(api, "PATCH", "/companies/ZONED", "admin", {"timezone": zone})
    assert amended.status == 400, amended.body
    assert invoke_api(api, "GET", "/companies/ZONED", "admin").body["timezone"] == "Europe/London"
