"""The notification function: finished runs (SQS) in, one digest e-mail per recipient out."""

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

from background_posting.config import NotificationFunctionSettings, get_settings
from background_posting.services import notifications

logger = Logger()
tracer = Tracer()
metrics = Metrics()
# At cold start: a missing or invalid setting fails the import, naming its variable.
settings = get_settings(NotificationFunctionSettings)
# A batch whose every request failed answers with each one failed, as a partial failure does.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def _handle(record: SQSRecord) -> dict[str, Any]:
    request = notifications.DigestRequest.parse(json.loads(record.body))
    try:
        report = notifications.send_digests(request.run_id)
    except notifications.DigestsNotSent as exc:
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
        event=event, record_handler=_handle, processor=processor, context=context
    )
