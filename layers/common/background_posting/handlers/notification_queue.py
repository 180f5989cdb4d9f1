"""The SQS handler of the notification function: digest requests (one finished run each) in,
partial batch failures out; each request sends the run's digests (services/notification_service.py),
whose claims are timed by the function's clock."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from background_posting.handlers import function_tracer
from background_posting.services import notification_service


def notification_function(
    clock: Callable[[], float] = time.time,
) -> Callable[[dict[str, Any], LambdaContext], Any]:
    """The notification function's Lambda entry point, under the Powertools decorators (Logger
    with the Lambda context, Tracer, Metrics flushed per invocation), on `clock`."""
    logger = Logger()
    tracer = function_tracer()
    metrics = Metrics()
    # A batch whose every request failed answers with each one failed, as a partial failure does.
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

    def record_handler(record: SQSRecord) -> dict[str, Any]:
        request = notification_service.DigestRequest.parse(json.loads(record.body))
        try:
            report = notification_service.send_digests(request.run_id, clock=clock)
        except notification_service.DigestsNotSent as exc:
            failed = len(exc.details.get("recipients", [])) or 1
            metrics.add_metric(name="NotificationSendFailures", unit=MetricUnit.Count, value=failed)
            raise  # the message is retried; digests already sent are not sent again
        metrics.add_metric(name="NotificationsSent", unit=MetricUnit.Count, value=len(report.sent))
        return {"run_id": report.run_id, "sent": report.sent, "nothing_new": report.nothing_new}

    @logger.inject_lambda_context(log_event=False)
    @tracer.capture_lambda_handler
    @metrics.log_metrics(raise_on_empty_metrics=False)
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Any:
        return process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )

    return lambda_handler
