"""The SQS handler of the posting worker and of the tax commit function: one shape.

Both read messages that name one document of a run (a typed record model: a body that is
not such a message fails that record alone), work through them with one `worker.Batch` per
invocation (the reference data and runs its messages share), and answer SQS with the
records that failed (partial batch failures). They differ by one argument: the tax commit
function does only the tax commit (`tax_commit=True`), the posting worker everything else.
"""

from __future__ import annotations

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
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ConfigDict, Field, Json

from background_posting.adapters.sqs import Queue
from background_posting.domain.model import LazyModel
from background_posting.handlers import function_tracer
from background_posting.services import runs, worker

logger = Logger(child=True)

MAX_RECEIVES = 5
"""The posting and tax commit queues' `maxReceiveCount` (the `MaxReceiveCount` template.yaml
passes to their infra/queue.yaml): a record that fails on this receive goes to the dead-letter
queue."""


class WorkerMessage(LazyModel):
    """A run's message: one document, and its items when the run read them whole."""

    model_config = ConfigDict(extra="forbid")

    run_id: str | None = None
    document_id: str = Field(min_length=1)
    items: list[dict[str, Any]] | None = None


class WorkerRecord(SqsRecordModel):
    model_config = ConfigDict(defer_build=True)  # as LazyModel: built on first use

    body: Json[WorkerMessage]


class WorkerQueueHandler:
    """`handler(event, context)` for a worker function's SQS event source."""

    def __init__(
        self,
        *,
        tax_commit: bool,
        queue: Callable[[], Queue],
        metrics: Metrics,
        metric: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.tax_commit = tax_commit
        self.queue = queue
        self.metrics = metrics
        self.metric = metric
        self.clock = clock
        self.processor = BatchProcessor(event_type=EventType.SQS, model=WorkerRecord)
        self.batch: worker.Batch | None = None

    def __call__(self, event: dict[str, Any], context: LambdaContext) -> Any:
        self.batch = self._new_batch(context)
        if not self.tax_commit:
            self._post_together(event)
        try:
            return process_partial_response(
                event=event,
                record_handler=self.record_handler,
                processor=self.processor,
                context=context,
            )
        finally:
            self.batch.finish()  # the digests of the runs that these messages finished

    def _new_batch(self, context: LambdaContext) -> worker.Batch:
        """The invocation's batch: its request id names the worker, its context the time left."""
        return worker.Batch(
            context.aws_request_id,
            lambda: context.get_remaining_time_in_millis() / 1000,
            self.clock,
        )

    def _post_together(self, event: dict[str, Any]) -> None:
        """The batch's plain documents of each company posted together, before one by one."""
        assert self.batch is not None
        messages = []
        for record in event.get("Records", []):
            try:
                messages.append(
                    worker.Message.parse(WorkerRecord.model_validate(record).body.model_dump())
                )
            except ValueError:
                continue  # its record fails on its own below
        try:
            self.batch.post_together(messages)
        except Exception:  # every message still goes the ordinary way, which reports it
            logger.exception("posting together failed; posting one by one")

    def record_handler(self, record: WorkerRecord, lambda_context: LambdaContext) -> str:
        message = worker.Message.parse(record.body.model_dump())
        batch = self.batch or self._new_batch(lambda_context)
        try:
            outcome = worker.process(
                message,
                batch.worker_id,
                batch.seconds_left,
                tax_commit=self.tax_commit,
                batch=batch,
            )
        except worker.OutOfTime:
            worker.hand_on(message, self.queue())
            return "handed on"
        except Exception:
            if int(record.attributes.ApproximateReceiveCount or 0) >= MAX_RECEIVES:
                # SQS gives up on it now: its run counts it abandoned, so the run can finish
                # (and its digest go); the document keeps its worker items for a later run.
                runs.message_abandoned(message.run_id)
            raise
        self.metrics.add_metric(
            name=f"{self.metric}{outcome.title()}", unit=MetricUnit.Count, value=1
        )
        return outcome


def worker_function(
    *,
    tax_commit: bool,
    queue: Callable[[], Queue],
    metric: str,
    clock: Callable[[], float] = time.time,
) -> Callable[[dict[str, Any], LambdaContext], Any]:
    """An SQS worker function's Lambda entry point: the handler above under the Powertools
    decorators (Logger with the Lambda context, Tracer, Metrics flushed per invocation), its
    workers on `clock`."""
    root = Logger()
    tracer = function_tracer()
    metrics = Metrics()
    handle = WorkerQueueHandler(
        tax_commit=tax_commit, queue=queue, metrics=metrics, metric=metric, clock=clock
    )

    @root.inject_lambda_context(log_event=False)
    @tracer.capture_lambda_handler
    @metrics.log_metrics(raise_on_empty_metrics=False)
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Any:
        return handle(event, context)

    return lambda_handler
