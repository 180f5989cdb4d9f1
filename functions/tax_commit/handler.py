"""The tax commit function: SQS messages (an AvaTax document of a run each) in, partial batch
failures out. Stage 3 of an AvaTax document: the tax calculated and posted by an earlier run is
committed in AvaTax; the document stays Complete whatever happens."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from background_posting.services import worker
from background_posting.services.queues import tax_commit_queue

logger = Logger()
tracer = Tracer()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)


def _handle(record: SQSRecord, context: LambdaContext) -> str:
    message = worker.Message.parse(json.loads(record.body))
    seconds_left = lambda: context.get_remaining_time_in_millis() / 1000  # noqa: E731
    try:
        outcome = worker.process(message, context.aws_request_id, seconds_left, tax_commit=True)
    except worker.OutOfTime:
        worker.hand_on(message, tax_commit_queue())
        return "handed on"
    metrics.add_metric(name=f"TaxCommits{outcome.title()}", unit=MetricUnit.Count, value=1)
    return outcome


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics(raise_on_empty_metrics=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return process_partial_response(
        event=event,
        record_handler=lambda record: _handle(record, context),
        processor=processor,
        context=context,
    )
