"""The benchmark's own stack: DynamoDB Local (in memory), moto's SQS in process, the
template's tables and queues, and the template's functions invoked as Lambda's SQS poller
would invoke them (one batch at a time, with the template's batch sizes and time limits).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from moto import mock_aws

from background_posting.function_settings import EveryFunctionSettings
from background_posting.store import base as store_base
from infra.dynamodb_local import DynamoDBLocal, local_client
from infra.event_sources import failed_message_ids, sqs_event, sqs_mappings
from infra.lambda_runtime import LocalFunction
from infra.local_stack import free_port
from infra.resources import (
    create_queues,
    create_tables,
    function_environment,
    local_attributes,
    table_attributes,
)
from infra.template import (
    REGION,
    create_table_arguments,
    functions,
    parameter_defaults,
    pseudo_parameters,
    resources,
)

# What Lambda's environment sets for Powertools; tracing and metrics stay local.
ENVIRONMENT = {
    "AWS_REGION": REGION,
    "AWS_DEFAULT_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "POWERTOOLS_SERVICE_NAME": "background-posting",
    "POWERTOOLS_METRICS_NAMESPACE": "BackgroundPosting",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
}
RUN_FUNCTION = "ScheduledPostingFunction"
WORKER_FUNCTION = "PostingWorkerFunction"


# moto's SQS recounts every message of a queue for these three attributes each time a message
# is sent and each time one is received (so a run that queues 2,000 documents makes ~2 million
# passes). Nothing the benchmark runs reads them, so in this process they answer 0 at once:
# what is timed is our code and the store, not moto's bookkeeping (docs/performance.md).
_MOTO_QUEUE_COUNTERS = (
    "approximate_number_of_messages",
    "approximate_number_of_messages_delayed",
    "approximate_number_of_messages_not_visible",
)


def _quick_moto_counters() -> None:
    from moto.sqs.models import Queue

    for name in _MOTO_QUEUE_COUNTERS:
        setattr(Queue, name, property(lambda queue: 0))


def prepare_environment() -> None:
    """Before any handler is imported: Powertools reads its settings at import."""
    for key in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SQS"):
        os.environ.pop(key, None)
    os.environ.update(ENVIRONMENT)


def hash_keys(prefix: str) -> dict[str, str]:
    """Physical table name -> its hash key attribute, from the template."""
    keys = {}
    for logical_id in resources("AWS::DynamoDB::Table"):
        arguments = create_table_arguments(logical_id, prefix)
        (hash_key,) = [k["AttributeName"] for k in arguments["KeySchema"] if k["KeyType"] == "HASH"]
        keys[arguments["TableName"]] = hash_key
    return keys


def settings_for(
    dynamodb: Any, tables: dict[str, str], queues: dict[str, Any], prefix: str
) -> EveryFunctionSettings:
    """The configuration the template gives the functions, for these tables and queues.

    Resolved from every function's `Environment` as the local stack resolves it, so that a
    new table, queue or setting in template.yaml needs no change here.
    """
    attributes = local_attributes(table_attributes(dynamodb, tables), queues, prefix)
    parameters = pseudo_parameters() | parameter_defaults() | {"Stage": "local"}
    environment: dict[str, str] = {}
    for spec in functions().values():
        for key, value in function_environment(spec, attributes, parameters).items():
            environment.setdefault(key, value)
    environment |= {"AWS_REGION": REGION, "AWS_ENDPOINT_URL_DYNAMODB": dynamodb.meta.endpoint_url}
    return EveryFunctionSettings.model_validate(environment)


@dataclass
class Stack:
    """DynamoDB Local (started here, or one a parent process started) and moto SQS."""

    endpoint: str = ""
    dynamodb: DynamoDBLocal | None = None
    _mock: Any = None
    sqs: Any = None
    raw: Any = None  # a plain DynamoDB client: seeding copies and the floor

    @classmethod
    def start(cls, endpoint: str | None = None, log_file: Path | None = None) -> Stack:
        stack = cls()
        if endpoint is None:
            stack.dynamodb = DynamoDBLocal(free_port(), None, log_file=log_file).start()
            endpoint = stack.dynamodb.endpoint
        stack.endpoint = endpoint
        _quick_moto_counters()
        # SQS in process; requests to DynamoDB Local pass straight through moto.
        config: Any = {
            "core": {"passthrough": {"urls": [f"{endpoint}.*"], "services": []}},
        }
        stack._mock = mock_aws(config=config)
        stack._mock.start()
        stack.sqs = boto3.client("sqs", region_name=REGION)
        stack.raw = boto3.session.Session().client(
            "dynamodb",
            region_name=REGION,
            endpoint_url=endpoint,
            config=Config(parameter_validation=False, retries={"mode": "standard"}),
        )
        return stack

    def tables(self, prefix: str) -> EveryFunctionSettings:
        """Fresh tables and queues under `prefix`; the store bound to them."""
        dynamodb = local_client("dynamodb", self.endpoint)
        tables = create_tables(dynamodb, prefix)
        queues = create_queues(self.sqs, prefix)
        settings = settings_for(dynamodb, tables, queues, prefix)
        store_base.bind(settings)
        return settings

    def drop(self, prefix: str) -> None:
        """Remove a measurement's tables and queues (DynamoDB Local keeps them in memory)."""
        client = local_client("dynamodb", self.endpoint)
        for name in hash_keys(prefix):
            client.delete_table(TableName=name)
        for url in self.sqs.list_queues(QueueNamePrefix=f"{prefix}-").get("QueueUrls", []):
            self.sqs.delete_queue(QueueUrl=url)

    def stop(self) -> None:
        if self._mock is not None:
            self._mock.stop()
        if self.dynamodb is not None:
            self.dynamodb.stop()


def _summary(exc: Exception) -> str:
    """One line for an invocation that raised: the AWS error inside it, if there is one."""
    lines = [line.strip() for line in f"{type(exc).__name__}: {exc}".splitlines()]
    causes = [line for line in lines if "An error occurred (" in line]
    return (causes[0] if causes else lines[0])[:400]


@dataclass
class Delivery:
    messages: int
    seconds: float  # receive + invocation + delete
    invocation_seconds: float
    poller_seconds: float = 0.0  # the receive and the delete (SQS)
    error: str | None = None  # the invocation raised: Lambda fails the whole batch


@dataclass
class Lambdas:
    """The run and worker functions, fed from their queues as Lambda's poller feeds them."""

    settings: EveryFunctionSettings
    sqs: Any
    recorder: Any
    phase_prefix: str = ""  # the recorder's phases of this backlog: "<prefix>/poller"
    invocations: dict[str, list[float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        specs = functions()
        self.functions = {name: LocalFunction(specs[name], instances=1) for name in specs}
        for name in (RUN_FUNCTION, WORKER_FUNCTION):
            self.functions[name].warm()
        self.batch_size = {m.function: m.batch_size for m in sqs_mappings(specs)}
        self.invocations = {RUN_FUNCTION: [], WORKER_FUNCTION: []}

    def _queue(self, function: str) -> str:
        if function == RUN_FUNCTION:
            return self.settings.run_queue_url
        return self.settings.posting_queue_url

    def deliver(self, function: str, phase: str) -> Delivery:
        """One batch from the function's queue to the function; (0, ...) when it is empty."""
        url = self._queue(function)
        started = time.perf_counter()
        with self.recorder.phase(f"{self.phase_prefix}/poller"):
            answer = self.sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=min(self.batch_size[function], 10),
                AttributeNames=["All"],
            )
        messages = answer.get("Messages", [])
        if not messages:
            elapsed = time.perf_counter() - started
            return Delivery(0, elapsed, 0.0, elapsed)
        event = sqs_event(messages, f"arn:aws:sqs:{REGION}:123456789012:{function}")
        invoked = time.perf_counter()
        error = None
        ids = [m["MessageId"] for m in messages]
        with self.recorder.phase(phase) as tally:
            copied = tally.capture_seconds
            try:
                result = self.functions[function].invoke(event)
                failed = failed_message_ids(result, ids, True)
            except Exception as exc:  # as Lambda: the batch goes back to the queue
                error, failed = _summary(exc), set(ids)
            copying = tally.capture_seconds - copied  # the bench's copies for the floor
        invocation = time.perf_counter() - invoked - copying
        self.invocations[function].append(invocation)
        done = [m for m in messages if m["MessageId"] not in failed]
        deleting = time.perf_counter()
        if done:
            with self.recorder.phase(f"{self.phase_prefix}/poller"):
                self.sqs.delete_message_batch(
                    QueueUrl=url,
                    Entries=[
                        {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]}
                        for n, m in enumerate(done)
                    ],
                )
        ended = time.perf_counter()
        poller = (invoked - started) + (ended - deleting)
        return Delivery(len(messages), ended - started - copying, invocation, poller, error)
