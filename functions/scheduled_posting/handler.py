"""A run: invoked by the schedule (EventBridge Scheduler), by Run Now and by continuations (SQS)."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from background_posting.config import ScheduledPostingFunctionSettings, get_settings
from background_posting.http.work_json import run_json
from background_posting.services import runs

logger = Logger()
tracer = Tracer()
metrics = Metrics()
# At cold start: a missing or invalid setting fails the import, naming its variable.
settings = get_settings(ScheduledPostingFunctionSettings)


def _run_ids(event: dict[str, Any]) -> list[str]:
    """The runs this event asks for: SQS continuations / Run Now, or a fired schedule."""
    if "Records" in event:
        return [json.loads(record["body"])["run_id"] for record in event["Records"]]
    scheduled_for = event.get("scheduled_time") or event.get("time")
    if not scheduled_for:
        raise ValueError("a scheduled invocation must carry its scheduled time")
    run = runs.start_scheduled_run(str(scheduled_for))
    if run is None:
        logger.info("schedule fired again for the same time: ignored", extra={"at": scheduled_for})
        return []
    metrics.add_metric(name="ScheduledRuns", unit=MetricUnit.Count, value=1)
    return [run.id]


@logger.inject_lambda_context(log_event=True)
@tracer.capture_lambda_handler
@metrics.log_metrics(raise_on_empty_metrics=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    seconds_left = lambda: context.get_remaining_time_in_millis() / 1000  # noqa: E731
    results = []
    for run_id in _run_ids(event):
        run = runs.execute_run(run_id, seconds_left)
        shaped = run_json(run)
        logger.info("run advanced", extra={"run": shaped})
        results.append(shaped)
    return {"batchItemFailures": [], "runs": results}
