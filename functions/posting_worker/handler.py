"""The posting worker: SQS messages (one document of a run each) in, partial batch failures out."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from background_posting.config import get_settings
from background_posting.handlers.worker_queue import WorkerQueueHandler
from background_posting.services.queues import posting_queue

logger = Logger()
tracer = Tracer()
metrics = Metrics()
# At cold start: a missing or invalid setting fails the import, naming its variable.
settings = get_settings()
handle = WorkerQueueHandler(
    tax_commit=False, queue=posting_queue, metrics=metrics, metric="Documents"
)


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics(raise_on_empty_metrics=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return handle(event, context)
