"""Lambda's SQS event source mappings, locally: pollers that feed queues to functions.

For every function event of `Type: SQS` in the template, poller threads do what Lambda's
SQS poller does: receive a batch (long polling), invoke the function with the SQS event,
then delete what succeeded. A function that raises fails its whole batch; with
`FunctionResponseTypes: [ReportBatchItemFailures]` it can fail single messages by
answering `{"batchItemFailures": [{"itemIdentifier": "<messageId>"}]}`. Failed messages
become visible again after the queue's visibility timeout, and SQS (moto, here) moves a
message to the dead-letter queue once it has been received `maxReceiveCount` times.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from infra.resources import QueueInfo
from infra.template import REGION, FunctionSpec, follow_outputs, parameter_defaults

log = logging.getLogger("events")

# Pollers per mapping. Lambda scales a mapping up to its ScalingConfig.MaximumConcurrency
# (a template parameter, 20 for the worker); one machine runs at most this many per mapping,
# fewer when the template's maximum is lower.
DEFAULT_CONCURRENCY = 2
RECEIVE_LIMIT = 10  # SQS hands out at most 10 messages per ReceiveMessage


class Invocable(Protocol):
    """What a poller needs of a function: `infra.lambda_runtime.LocalFunction` is one."""

    def invoke(self, event: dict[str, Any]) -> Any: ...


@dataclass(frozen=True)
class SqsMapping:
    """One `Type: SQS` event of a function: which queue feeds it, and how."""

    function: str  # the function's logical id
    queue: str  # the queue's logical id
    batch_size: int = 10
    batching_window: float = 0.0  # MaximumBatchingWindowInSeconds
    report_batch_item_failures: bool = False
    concurrency: int = DEFAULT_CONCURRENCY


def sqs_mappings(specs: Mapping[str, FunctionSpec]) -> list[SqsMapping]:
    """The enabled `Type: SQS` events of the template's functions."""
    mappings = []
    for logical_id, spec in specs.items():
        for name, event in spec.events.items():
            if event.get("Type") != "SQS":
                continue
            props = event.get("Properties", {})
            if str(props.get("Enabled", True)).lower() == "false":
                continue
            queue = props.get("Queue")
            if not (isinstance(queue, dict) and "Fn::GetAtt" in queue):
                raise ValueError(f"{logical_id}.{name}: Queue must be !GetAtt <Queue>.Arn")
            # a nested stack's output (!GetAtt Posting.Outputs.QueueArn): the queue it names
            queue_id, attribute = follow_outputs(*queue["Fn::GetAtt"])
            if attribute != "Arn":
                raise ValueError(f"{logical_id}.{name}: Queue must be !GetAtt {queue_id}.Arn")
            scaling = props.get("ScalingConfig", {})
            mappings.append(
                SqsMapping(
                    function=logical_id,
                    queue=str(queue_id),
                    batch_size=int(props.get("BatchSize", 10)),
                    batching_window=float(props.get("MaximumBatchingWindowInSeconds", 0)),
                    report_batch_item_failures=(
                        "ReportBatchItemFailures" in props.get("FunctionResponseTypes", [])
                    ),
                    concurrency=local_pollers(scaling.get("MaximumConcurrency")),
                )
            )
    return mappings


def local_pollers(maximum: Any) -> int:
    """Local pollers for a mapping whose maximum is a number or `!Ref` to a parameter."""
    if maximum is None:
        return DEFAULT_CONCURRENCY
    if isinstance(maximum, dict) and set(maximum) == {"Ref"}:
        maximum = parameter_defaults()[maximum["Ref"]]
    return min(int(maximum), DEFAULT_CONCURRENCY)


# ---------------------------------------------------------------------------
# The event Lambda builds
# ---------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _message_attribute(value: Mapping[str, Any]) -> dict[str, Any]:
    attribute: dict[str, Any] = {}
    if "StringValue" in value:
        attribute["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        attribute["binaryValue"] = _b64(value["BinaryValue"])
    attribute["stringListValues"] = list(value.get("StringListValues", []))
    attribute["binaryListValues"] = [_b64(item) for item in value.get("BinaryListValues", [])]
    attribute["dataType"] = value["DataType"]
    return attribute


def sqs_record(message: Mapping[str, Any], queue_arn: str, region: str = REGION) -> dict[str, Any]:
    """One ReceiveMessage message as a record of Lambda's SQS event."""
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message.get("Body", ""),
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {
            name: _message_attribute(value)
            for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message.get("MD5OfBody", ""),
    }
    if "MD5OfMessageAttributes" in message:
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    record |= {"eventSource": "aws:sqs", "eventSourceARN": queue_arn, "awsRegion": region}
    return record


def sqs_event(
    messages: Iterable[Mapping[str, Any]], queue_arn: str, region: str = REGION
) -> dict[str, Any]:
    """The event Lambda's SQS poller passes to a function for a batch of messages."""
    return {"Records": [sqs_record(message, queue_arn, region) for message in messages]}


def failed_message_ids(result: Any, batch: Sequence[str], report_failures: bool) -> set[str]:
    """Which messages of the batch failed, read from the function's answer as Lambda reads it.

    Without ReportBatchItemFailures a returning function succeeded for every message. With
    it, an absent, null or empty `batchItemFailures` is full success, and an answer Lambda
    cannot read (not an object, an item without a known `itemIdentifier`) fails the batch.
    """
    if not report_failures or result is None:
        return set()
    if not isinstance(result, Mapping):
        return set(batch)
    failures = result.get("batchItemFailures") or []
    if not isinstance(failures, list):
        return set(batch)
    failed = set()
    for item in failures:
        identifier = item.get("itemIdentifier") if isinstance(item, Mapping) else None
        if not identifier or identifier not in batch:
            return set(batch)
        failed.add(identifier)
    return failed


# ---------------------------------------------------------------------------
# The pollers
# ---------------------------------------------------------------------------


class SqsEventSources:
    """Poller threads for SQS event source mappings; `start()`, `wait_idle()`, `stop()`."""

    def __init__(
        self,
        sqs: Any,
        functions: Mapping[str, Invocable],
        queues: Mapping[str, QueueInfo],
        mappings: Sequence[SqsMapping],
        region: str = REGION,
        wait_seconds: int = 1,
    ):
        for mapping in mappings:
            if mapping.function not in functions:
                raise KeyError(f"no function {mapping.function} for its SQS event source")
            if mapping.queue not in queues:
                raise KeyError(f"no queue {mapping.queue} for {mapping.function}'s event source")
        self.mappings = list(mappings)
        self._sqs = sqs
        self._functions = functions
        self._queues = queues
        self._region = region
        self._wait_seconds = wait_seconds
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._in_flight = 0
        self._started = 0

    @classmethod
    def from_template(
        cls,
        sqs: Any,
        functions: Mapping[str, Invocable],
        queues: Mapping[str, QueueInfo],
        specs: Mapping[str, FunctionSpec],
    ) -> SqsEventSources:
        return cls(sqs, functions, queues, sqs_mappings(specs))

    def start(self) -> SqsEventSources:
        for mapping in self.mappings:
            for number in range(1, max(1, mapping.concurrency) + 1):
                thread = threading.Thread(
                    target=self._poll,
                    args=(mapping,),
                    name=f"sqs-{mapping.function}-{number}",
                    daemon=True,
                )
                thread.start()
                self._threads.append(thread)
            log.info(
                "%s <- %s (batch %d%s)",
                mapping.function,
                self._queues[mapping.queue].name,
                mapping.batch_size,
                ", reports item failures" if mapping.report_batch_item_failures else "",
            )
        return self

    def stop(self, timeout: float = 120.0) -> None:
        """Stop polling, and wait for the invocations under way to finish."""
        self._stopping.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                log.warning("%s is still invoking its function after %.0f s", thread.name, timeout)
        self._threads = [thread for thread in self._threads if thread.is_alive()]

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """True once every mapped queue is empty and no invocation is under way, seen so in two
        looks in a row with no invocation begun between them.

        One look is not enough: a queue's counts are read one after another, so a message whose
        visibility timeout ends between the reads is counted in neither (moto counts it as not
        visible, then as visible, each a moment apart); the next look, 50 ms on, sees it.
        """
        deadline = time.monotonic() + timeout
        seen: int | None = None
        while True:
            started = self._idle()
            if started is not None and started == seen:
                return True
            seen = started
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)

    def _idle(self) -> int | None:
        """How many invocations have begun, if every queue looks empty and none is under way."""
        with self._lock:
            if self._in_flight:
                return None
            started = self._started
        for logical_id in {mapping.queue for mapping in self.mappings}:
            counts = self._sqs.get_queue_attributes(
                QueueUrl=self._queues[logical_id].url,
                AttributeNames=[
                    "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible",
                    "ApproximateNumberOfMessagesDelayed",
                ],
            )["Attributes"]
            if any(int(count) for count in counts.values()):
                return None
        with self._lock:  # no invocation began (and perhaps sent messages) while we looked
            return started if self._in_flight == 0 and self._started == started else None

    def _poll(self, mapping: SqsMapping) -> None:
        queue = self._queues[mapping.queue]
        while not self._stopping.is_set():
            try:
                messages = self._receive(mapping, queue)
            except (BotoCoreError, ClientError) as exc:
                if self._stopping.is_set():
                    return
                log.warning("%s: cannot receive from %s: %s", mapping.function, queue.name, exc)
                self._stopping.wait(1.0)
                continue
            if messages:
                self._deliver(mapping, queue, messages)

    def _receive(self, mapping: SqsMapping, queue: QueueInfo) -> list[dict[str, Any]]:
        messages = self._receive_some(queue, mapping.batch_size, self._wait_seconds)
        if not messages or mapping.batching_window <= 0:
            return messages
        deadline = time.monotonic() + mapping.batching_window
        while len(messages) < mapping.batch_size and not self._stopping.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            more = self._receive_some(queue, mapping.batch_size - len(messages), 0)
            messages += more
            if not more:
                self._stopping.wait(min(0.1, remaining))
        return messages

    def _receive_some(self, queue: QueueInfo, wanted: int, wait_seconds: int) -> list[Any]:
        answer = self._sqs.receive_message(
            QueueUrl=queue.url,
            MaxNumberOfMessages=min(wanted, RECEIVE_LIMIT),
            WaitTimeSeconds=wait_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        return list(answer.get("Messages", []))

    def _deliver(self, mapping: SqsMapping, queue: QueueInfo, messages: list[Any]) -> None:
        event = sqs_event(messages, queue.arn, self._region)
        ids = [message["MessageId"] for message in messages]
        with self._lock:
            self._in_flight += 1
            self._started += 1
        started = time.perf_counter()
        try:
            try:
                result = self._functions[mapping.function].invoke(event)
            except Exception as exc:
                log.error(
                    "%s: %d records from %s, all failed: %s: %s (%.0f ms)",
                    mapping.function,
                    len(ids),
                    queue.name,
                    type(exc).__name__,
                    " ".join(str(exc).split()),  # one line, even for Powertools' batch errors
                    (time.perf_counter() - started) * 1000,
                    exc_info=True,
                )
                return
            failed = failed_message_ids(result, ids, mapping.report_batch_item_failures)
            self._delete(queue, [m for m in messages if m["MessageId"] not in failed])
            log.info(
                "%s: %d records from %s, %d failed (%.0f ms)",
                mapping.function,
                len(ids),
                queue.name,
                len(failed),
                (time.perf_counter() - started) * 1000,
            )
        finally:
            with self._lock:
                self._in_flight -= 1

    def _delete(self, queue: QueueInfo, messages: list[Any]) -> None:
        for start in range(0, len(messages), RECEIVE_LIMIT):
            chunk = messages[start : start + RECEIVE_LIMIT]
            try:
                answer = self._sqs.delete_message_batch(
                    QueueUrl=queue.url,
                    Entries=[
                        {"Id": str(number), "ReceiptHandle": message["ReceiptHandle"]}
                        for number, message in enumerate(chunk)
                    ],
                )
            except (BotoCoreError, ClientError) as exc:
                log.warning("%s: %d messages were not deleted: %s", queue.name, len(chunk), exc)
                continue
            for failure in answer.get("Failed", []):
                log.warning("%s: a message was not deleted: %s", queue.name, failure)
