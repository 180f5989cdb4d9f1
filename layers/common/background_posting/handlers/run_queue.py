"""The scheduled posting function's two sources, each answered as it reads answers.

* EventBridge Scheduler fires with the scheduled time: the run for that time is started once
  (a second firing for the same time finds it and is ignored) and advanced;
* the run queue (SQS) delivers Run Now, a list view's post and a run's continuation: each
  message names one run (a typed record model: a body that is not such a message fails that
  record alone), and SQS reads the records that failed (partial batch failures).

Both answers also carry the runs advanced, for the log and the tests; Scheduler ignores it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ConfigDict, Field, Json

from background_posting.domain.model import LazyModel
from background_posting.handlers import function_tracer
from background_posting.http.work_json import run_json
from background_posting.services import runs


class RunMessage(LazyModel):
    """The run queue's message: the run to advance."""

    model_config = ConfigDict(extra="forbid")

    run_id: str = Field(min_length=1)


class RunRecord(SqsRecordModel):
    model_config = ConfigDict(defer_build=True)  # as LazyModel: built on first use

    body: Json[RunMessage]


def run_function() -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    """The scheduled posting function's Lambda entry point, under the Powertools decorators
    (Logger with the Lambda context and the event, Tracer, Metrics flushed per invocation)."""
    logger = Logger()
    tracer = function_tracer()
    metrics = Metrics()
    processor = BatchProcessor(
        event_type=EventType.SQS, model=RunRecord, raise_on_entire_batch_failure=False
    )

    def advance(run_id: str, context: LambdaContext) -> dict[str, Any]:
        run = runs.execute_run(run_id, lambda: context.get_remaining_time_in_millis() / 1000)
        shaped = run_json(run)
        logger.info("run advanced", extra={"run": shaped})
        return shaped

    def scheduled(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        scheduled_for = event.get("scheduled_time") or event.get("time")
        if not scheduled_for:
            raise ValueError("a scheduled invocation must carry its scheduled time")
        run = runs.start_scheduled_run(str(scheduled_for))
        if run is None:
            logger.info(
                "schedule fired again for the same time: ignored", extra={"at": scheduled_for}
            )
            return {"batchItemFailures": [], "runs": []}
        metrics.add_metric(name="ScheduledRuns", unit=MetricUnit.Count, value=1)
        return {"batchItemFailures": [], "runs": [advance(run.id, context)]}

    @logger.inject_lambda_context(log_event=True)
    @tracer.capture_lambda_handler
    @metrics.log_metrics(raise_on_empty_metrics=False)
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        if "Records" not in event:
            return scheduled(event, context)
        advanced: list[dict[str, Any]] = []

        def record_handler(record: RunRecord, lambda_context: LambdaContext) -> None:
            advanced.append(advance(record.body.run_id, lambda_context))

        answer = process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
        return {**answer, "runs": advanced}

    return lambda_handler
