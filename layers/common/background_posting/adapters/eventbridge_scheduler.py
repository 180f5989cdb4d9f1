"""EventBridge Scheduler: the background posting schedule as one or two schedules in a group."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from background_posting.adapters import clients
from background_posting.domain.schedule import ScheduleExpression

NAME_PREFIX = "background-posting-"
NAMES = tuple(f"{NAME_PREFIX}{n}" for n in (1, 2, 3))  # a schedule never needs more than two
SCHEDULED_TIME = "<aws.scheduler.scheduled-time>"


@dataclass(frozen=True)
class Target:
    """What a schedule invokes (the scheduled posting function), the role it uses, and the
    dead-letter queue a firing goes to when it cannot be delivered after its retries."""

    group: str
    function_arn: str
    role_arn: str
    dead_letter_arn: str


class EventBridgeScheduler:
    def __init__(self, target: Target, client: Any | None = None):
        self.target = target
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:  # created on first use, never at import
            self._client = clients.client("scheduler")
        return self._client

    def _get(self, name: str) -> dict[str, Any] | None:
        try:
            schedule: dict[str, Any] = self.client.get_schedule(
                GroupName=self.target.group, Name=name
            )
        except self.client.exceptions.ResourceNotFoundException:
            return None
        return schedule

    def names(self) -> list[str]:
        """Our schedules that exist (read one by one: ListSchedules cannot be scoped by IAM)."""
        return [name for name in NAMES if self._get(name) is not None]

    def read(self) -> list[ScheduleExpression]:
        """The schedules as EventBridge holds them (what will really fire)."""
        found = []
        for name in NAMES:
            schedule = self._get(name)
            if schedule is None:
                continue
            found.append(
                ScheduleExpression(
                    expression=schedule["ScheduleExpression"],
                    timezone=schedule.get("ScheduleExpressionTimezone") or "UTC",
                    start_date=schedule.get("StartDate"),
                )
            )
        return found

    def replace(self, expressions: Sequence[ScheduleExpression], description: str) -> None:
        """Make the group hold exactly these schedules (create or update, then delete extras).

        Idempotent: running it again after a failure part-way converges on the same state.
        """
        if len(expressions) > len(NAMES):
            raise ValueError(f"at most {len(NAMES)} schedules, not {len(expressions)}")
        wanted = dict(zip(NAMES, expressions, strict=False))
        existing = set(self.names())
        for name, expression in wanted.items():
            request = self._request(name, expression, description)
            if name in existing:
                self.client.update_schedule(**request)
            else:
                self.client.create_schedule(**request)
        for name in existing - set(wanted):
            self.client.delete_schedule(GroupName=self.target.group, Name=name)

    def remove_all(self) -> int:
        names = self.names()
        for name in names:
            self.client.delete_schedule(GroupName=self.target.group, Name=name)
        return len(names)

    def _request(
        self, name: str, expression: ScheduleExpression, description: str
    ) -> dict[str, Any]:
        request: dict[str, Any] = {
            "Name": name,
            "GroupName": self.target.group,
            "Description": description[:512],
            "ScheduleExpression": expression.expression,
            "ScheduleExpressionTimezone": expression.timezone,
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "State": "ENABLED",
            "Target": {
                "Arn": self.target.function_arn,
                "RoleArn": self.target.role_arn,
                "Input": json.dumps({"scheduled_time": SCHEDULED_TIME, "schedule": name}),
                "RetryPolicy": {"MaximumRetryAttempts": 10, "MaximumEventAgeInSeconds": 3600},
                "DeadLetterConfig": {"Arn": self.target.dead_letter_arn},
            },
        }
        if expression.start_date is not None:
            request["StartDate"] = expression.start_date
        return request
