"""Routes: the background posting scheduler (Schedule Job)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query

from background_posting.domain.schedule import ScheduleSettings
from background_posting.http.claims import caller_from
from background_posting.services import scheduler_service

router = Router()


@router.get("/scheduler", tags=["Scheduler"], summary="The schedule and its next runs")
def get_scheduler(
    count: Annotated[int, Query(ge=1, le=scheduler_service.MAX_RUNS_SHOWN)] = 5,
) -> dict[str, Any]:
    return scheduler_service.view(caller_from(router.current_event), count)


@router.put("/scheduler", tags=["Scheduler"], summary="Schedule Job (System Administrator)")
def schedule_job(settings: Annotated[ScheduleSettings, Body()]) -> dict[str, Any]:
    body = settings.model_dump(mode="json", exclude_none=True)
    return scheduler_service.schedule_job(caller_from(router.current_event), body)


@router.delete("/scheduler", tags=["Scheduler"], summary="Unschedule (System Administrator)")
def unschedule() -> dict[str, Any]:
    return scheduler_service.unschedule(caller_from(router.current_event))
