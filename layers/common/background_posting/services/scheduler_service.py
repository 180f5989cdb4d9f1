"""Schedule Job: the frequency settings, their EventBridge schedules and the next runs.

Writing a schedule is two writes in two services, done in a resumable order: EventBridge
first (so that what is saved never claims more than what fires), then the settings record.
A failure between the two leaves the new schedule firing and the old settings shown;
`GET /scheduler` then says `in_sync: false`, and Schedule Job again (idempotent) repairs it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from background_posting import clock
from background_posting.adapters.eventbridge_scheduler import EventBridgeScheduler, Target
from background_posting.config import get_settings
from background_posting.domain.errors import Forbidden
from background_posting.domain.identity import Caller
from background_posting.domain.schedule import (
    ScheduleSettings,
    describe,
    effective_zone,
    next_runs,
    parse_settings,
    schedule_expression,
)
from background_posting.function_settings import ApiFunctionSettings, OrganisationTimeSettings
from background_posting.store import history
from background_posting.store import org as org_store

MAX_RUNS_SHOWN = 500


def eventbridge() -> EventBridgeScheduler:
    settings = get_settings(ApiFunctionSettings)
    return EventBridgeScheduler(
        Target(
            group=settings.schedule_group,
            function_arn=settings.schedule_target_arn,
            role_arn=settings.scheduler_role_arn,
            dead_letter_arn=settings.schedule_dead_letter_arn,
        )
    )


def organisation_zone() -> ZoneInfo:
    return ZoneInfo(get_settings(OrganisationTimeSettings).organisation_timezone)


def _require_viewer(caller: Caller) -> None:
    if not caller.may_run_now:
        raise Forbidden(
            "The scheduler is visible to System Administrators and the Run Now permission set.",
            code="permission_denied",
        )


def _runs_json(runs: list[datetime]) -> list[dict[str, str]]:
    return [
        {"local": run.isoformat(), "utc": run.astimezone(UTC).isoformat().replace("+00:00", "Z")}
        for run in runs
    ]


def view(caller: Caller, count: int = 5, now: datetime | None = None) -> dict[str, Any]:
    _require_viewer(caller)
    org_zone = organisation_zone()
    record = org_store.scheduler_record()
    live = eventbridge().read()
    if record is None:
        return {
            "scheduled": bool(live),
            "in_sync": not live,
            "frequency": None,
            "settings": None,
            "timezone": org_zone.key,
            "next_runs": [],
        }
    settings: ScheduleSettings = parse_settings(record["settings"])
    zone = effective_zone(settings, org_zone)
    anchor = datetime.fromisoformat(record["anchor"])
    runs = next_runs(settings, org_zone, now or clock.now(), count, anchor=anchor)
    expected = [e.model_dump(mode="json") for e in schedule_expression(settings, org_zone, anchor)]
    return {
        "scheduled": bool(live),
        "in_sync": [e.model_dump(mode="json") for e in live] == expected,
        "frequency": settings.frequency,
        "settings": settings.model_dump(mode="json", exclude_none=True),
        "timezone": zone.key,
        "scheduled_at": record["anchor"],
        "scheduled_by": record.get("by"),
        "message": describe(settings, org_zone, runs[0]) if runs else None,
        "next_runs": _runs_json(runs),
        "expressions": expected,
    }


def schedule_job(
    caller: Caller, body: dict[str, Any], now: datetime | None = None
) -> dict[str, Any]:
    """Schedule Job (System Administrator): replace the schedule; the next run and a sentence."""
    caller.require_admin("schedule the background posting job")
    settings = parse_settings(body)
    org_zone = organisation_zone()
    anchor = now or clock.now()
    expressions = schedule_expression(settings, org_zone, anchor)
    (first,) = next_runs(settings, org_zone, anchor, 1, anchor=anchor)
    message = describe(settings, org_zone, first)
    eventbridge().replace(expressions, f"Background posting: {message}")
    before = org_store.scheduler_record()
    saved = settings.model_dump(mode="json", exclude_none=True)
    after = {"settings": saved, "anchor": anchor.isoformat(), "by": caller.user_id}
    audit = history.audited(
        history.ORGANISATION,
        "schedule",
        "schedule",
        caller.user_id,
        before.get("settings") if before else None,
        saved,
    )
    org_store.put_scheduler_record(after, audit)
    return {
        "message": message,
        "next_run": first.isoformat(),
        "next_run_utc": first.astimezone(UTC).isoformat().replace("+00:00", "Z"),
    }


def unschedule(caller: Caller) -> dict[str, Any]:
    caller.require_admin("unschedule the background posting job")
    removed = eventbridge().remove_all()
    before = org_store.scheduler_record()
    audit = history.audited(
        history.ORGANISATION,
        "schedule",
        "unschedule",
        caller.user_id,
        before.get("settings") if before else {},
        None,
    )
    org_store.delete_scheduler_record(audit)
    return {
        "message": "The scheduler is off: documents are posted in the background only by "
        "Run Now and the list views' Background Post.",
        "schedules_removed": removed,
    }


def reapply() -> bool:
    """Write the saved schedule to EventBridge again (e.g. a local stack that restarted).

    The anchor is the one saved, so the runs are those the administrator was shown.
    """
    record = org_store.scheduler_record()
    if record is None:
        return False
    settings = parse_settings(record["settings"])
    anchor = datetime.fromisoformat(record["anchor"])
    expressions = schedule_expression(settings, organisation_zone(), anchor)
    eventbridge().replace(expressions, "Background posting (restored)")
    return True
