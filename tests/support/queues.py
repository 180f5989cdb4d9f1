"""Delivering SQS messages to the template's functions synchronously, as Lambda's poller would."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import boto3

from background_posting.adapters.sqs import Queue
from background_posting.config import Settings
from background_posting.handlers.worker_queue import worker_function
from background_posting.services.queues import posting_queue, tax_commit_queue
from infra.event_sources import failed_message_ids, sqs_event
from infra.lambda_runtime import LocalContext
from infra.template import functions

ROUTES = {
    "RunQueue": "ScheduledPostingFunction",
    "PostingQueue": "PostingWorkerFunction",
    "NotificationQueue": "NotificationFunction",
    "TaxCommitQueue": "TaxCommitFunction",
}


def load_handler(logical_id: str) -> Any:
    from infra.lambda_runtime import LocalFunction

    spec = functions()[logical_id]
    module = LocalFunction(spec)._new_instance()
    return getattr(module, spec.function_name)


def worker_handlers(clock: Callable[[], float]) -> dict[str, Any]:
    """The posting worker's and the tax commit function's handlers, made as their modules make
    them (functions/posting_worker, functions/tax_commit) but with their workers on `clock`."""
    return {
        "PostingQueue": worker_function(
            tax_commit=False, queue=posting_queue, metric="Documents", clock=clock
        ),
        "TaxCommitQueue": worker_function(
            tax_commit=True, queue=tax_commit_queue, metric="TaxCommits", clock=clock
        ),
    }


class Drain:
    """Deliver the messages of the run, posting and notification queues to their functions
    (`handlers` in place of the template's for the queues it names)."""

    def __init__(self, settings: Settings, handlers: dict[str, Any] | None = None):
        self.sqs = boto3.client("sqs", region_name="us-east-1")
        self.urls = {
            "RunQueue": settings.run_queue_url,
            "PostingQueue": settings.posting_queue_url,
            "NotificationQueue": settings.notification_queue_url,
            "TaxCommitQueue": settings.tax_commit_queue_url,
        }
        given = handlers or {}
        self.handlers = {name: given.get(name) or load_handler(fn) for name, fn in ROUTES.items()}
        self.delivered = {name: 0 for name in ROUTES}

    def once(self, queue: str, seconds: int = 90) -> int:
        """Deliver one batch from `queue` to its function, which has `seconds` to run."""
        answer = self.sqs.receive_message(
            QueueUrl=self.urls[queue], MaxNumberOfMessages=10, AttributeNames=["All"]
        )
        messages = answer.get("Messages", [])
        if not messages:
            return 0
        event = sqs_event(messages, f"arn:aws:sqs:us-east-1:123456789012:{queue}")
        result = self.handlers[queue](event, LocalContext(ROUTES[queue], seconds))
        failed = failed_message_ids(result, [m["MessageId"] for m in messages], True)
        for message in messages:
            if message["MessageId"] not in failed:
                self.sqs.delete_message(
                    QueueUrl=self.urls[queue], ReceiptHandle=message["ReceiptHandle"]
                )
        self.delivered[queue] += len(messages)
        return len(messages)

    def all(self, rounds: int = 200) -> None:
        for _ in range(rounds):
            if not sum(self.once(queue) for queue in ROUTES):
                return
        raise AssertionError("the queues did not drain")


class RecordingQueue(Queue):
    """A queue that keeps what is sent to it, in order (DynamoDB Local has no SQS beside it);
    safe to send to from several threads at once."""

    def __init__(self) -> None:
        super().__init__("recorded://queue")
        self.messages: list[dict[str, Any]] = []

    def send(self, message: dict[str, Any], delay_seconds: int = 0) -> None:
        self.messages.append(message)  # list.append is atomic under the GIL

    def send_all(self, messages: Sequence[dict[str, Any]]) -> None:
        self.messages.extend(messages)
