"""Creating the template's tables and queues on a local endpoint, idempotently.

Each creator answers what CloudFormation would: the attributes (`Ref`, `Arn`, ...) that
`infra.template.resolve` reads to build every function's environment
(`function_environment`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from infra.template import (
    ACCOUNT_ID,
    REGION,
    Attributes,
    FunctionSpec,
    all_resources,
    create_table_arguments,
    local_name,
    resolve,
    resources,
    time_to_live,
)


def table_names(prefix: str = "local") -> dict[str, str]:
    """Logical id -> local table name, for every table in the template."""
    return {
        logical_id: local_name(logical_id, prefix)
        for logical_id in resources("AWS::DynamoDB::Table")
    }


def create_tables(dynamodb: Any, prefix: str = "local") -> dict[str, str]:
    """Create each missing table (with its indexes and TTL) and wait until it is active."""
    existing = set(dynamodb.list_tables()["TableNames"])
    names = table_names(prefix)
    for logical_id, name in names.items():
        if name in existing:
            continue
        try:
            dynamodb.create_table(**create_table_arguments(logical_id, prefix))
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceInUseException":
                raise
        dynamodb.get_waiter("table_exists").wait(
            TableName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 100}
        )
        ttl = time_to_live(logical_id)
        if ttl and ttl.get("Enabled"):
            dynamodb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
            )
    return names


def table_attributes(dynamodb: Any, names: dict[str, str]) -> dict[str, dict[str, str]]:
    """`Ref` (the name) and `Arn` of each table, as the local endpoint describes it."""
    attributes = {}
    for logical_id, name in names.items():
        table = dynamodb.describe_table(TableName=name)["Table"]
        attributes[logical_id] = {"Ref": name, "Arn": table["TableArn"]}
        if table.get("LatestStreamArn"):
            attributes[logical_id]["StreamArn"] = table["LatestStreamArn"]
    return attributes


# ---------------------------------------------------------------------------
# Queues
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueInfo:
    url: str
    arn: str
    name: str

    @property
    def attributes(self) -> dict[str, str]:
        """What `!Ref` and `!GetAtt` answer for an `AWS::SQS::Queue`."""
        return {"Ref": self.url, "QueueUrl": self.url, "Arn": self.arn, "QueueName": self.name}


# Template properties that are queue attributes as they are (numbers and flags as strings).
_PLAIN_ATTRIBUTES = (
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "DelaySeconds",
    "FifoQueue",
    "FifoThroughputLimit",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "SqsManagedSseEnabled",
    "VisibilityTimeout",
)


def queue_name(logical_id: str, prefix: str = "local") -> str:
    fifo = resources("AWS::SQS::Queue")[logical_id].get("Properties", {}).get("FifoQueue")
    name = local_name(logical_id, prefix)
    return f"{name}.fifo" if _flag(fifo) else name


def _flag(value: Any) -> bool:
    return str(value).lower() == "true"


def _as_attribute(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _dead_letter_target(properties: dict[str, Any]) -> str | None:
    """The logical id of the queue this queue's redrive policy names, if any."""
    policy = properties.get("RedrivePolicy") or {}
    target = policy.get("deadLetterTargetArn")
    if isinstance(target, dict) and "Fn::GetAtt" in target:
        logical_id, _ = target["Fn::GetAtt"]
        return str(logical_id)
    if target is not None:
        raise ValueError(f"deadLetterTargetArn {target!r}: use !GetAtt <Queue>.Arn")
    return None


def _creation_order(queues: dict[str, dict[str, Any]]) -> list[str]:
    """Dead-letter queues before the queues that name them."""
    ordered: list[str] = []

    def visit(logical_id: str, path: tuple[str, ...]) -> None:
        if logical_id in ordered:
            return
        if logical_id in path:
            raise ValueError(f"redrive policies form a cycle: {' -> '.join(path)}")
        if logical_id not in queues:
            raise ValueError(f"{path[-1]}'s dead-letter queue {logical_id} is not in the template")
        target = _dead_letter_target(queues[logical_id].get("Properties", {}))
        if target is not None:
            visit(target, (*path, logical_id))
        ordered.append(logical_id)

    for logical_id in queues:
        visit(logical_id, ())
    return ordered


def queue_attributes(properties: dict[str, Any], created: dict[str, QueueInfo]) -> dict[str, str]:
    """The `CreateQueue` attributes for a queue's template properties.

    The redrive policy's `deadLetterTargetArn` becomes the ARN of the local DLQ in `created`.
    """
    attributes = {
        name: _as_attribute(properties[name]) for name in _PLAIN_ATTRIBUTES if name in properties
    }
    target = _dead_letter_target(properties)
    if target is not None:
        policy = dict(properties["RedrivePolicy"])
        policy["deadLetterTargetArn"] = created[target].arn
        policy["maxReceiveCount"] = int(policy["maxReceiveCount"])
        attributes["RedrivePolicy"] = json.dumps(policy)
    if "RedriveAllowPolicy" in properties:
        allow = properties["RedriveAllowPolicy"]
        attributes["RedriveAllowPolicy"] = allow if isinstance(allow, str) else json.dumps(allow)
    return attributes


def create_queues(sqs: Any, prefix: str = "local") -> dict[str, QueueInfo]:
    """Create every `AWS::SQS::Queue` of the template and of its nested stacks (dead-letter
    queues first; a nested stack's as `<stack><resource>`, e.g. `PostingDeadLetterQueue`).

    Safe to call again: a queue that exists gets the template's attributes set instead.
    """
    queues = resources("AWS::SQS::Queue")
    created: dict[str, QueueInfo] = {}
    for logical_id in _creation_order(queues):
        name = queue_name(logical_id, prefix)
        attributes = queue_attributes(queues[logical_id].get("Properties", {}), created)
        try:
            url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in {"QueueAlreadyExists", "QueueNameExists"}:
                raise
            url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
            mutable = {key: value for key, value in attributes.items() if key != "FifoQueue"}
            sqs.set_queue_attributes(QueueUrl=url, Attributes=mutable)
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        created[logical_id] = QueueInfo(url=url, arn=arn, name=name)
    return created


# ---------------------------------------------------------------------------
# Everything else the template declares
# ---------------------------------------------------------------------------

_REF_IS_ARN = {"AWS::SNS::Topic", "AWS::IAM::ManagedPolicy"}


def placeholder_attributes(prefix: str = "local") -> dict[str, dict[str, str]]:
    """`Ref` and `Arn` for the resources the local stack does not create (topics, roles,
    alarms...), a nested stack's among them.

    A function's environment may name them; these values have the right shape, and nothing
    local answers at them.
    """
    attributes: dict[str, dict[str, str]] = {}
    for logical_id, resource in all_resources().items():
        kind = str(resource.get("Type", ""))
        name = local_name(logical_id, prefix)
        if kind == "AWS::Serverless::Function":
            # the name LocalContext reports for the function
            arn = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{logical_id}"
            attributes[logical_id] = {"Ref": logical_id, "Arn": arn}
            continue
        if kind == "AWS::IAM::Role":
            arn = f"arn:aws:iam::{ACCOUNT_ID}:role/{name}"
        else:
            service = kind.split("::")[1].lower() if kind.count("::") == 2 else "local"
            arn = f"arn:aws:{service}:{REGION}:{ACCOUNT_ID}:{name}"
        attributes[logical_id] = {"Ref": arn if kind in _REF_IS_ARN else name, "Arn": arn}
        if kind == "AWS::CloudFront::Distribution":  # the console's host, deployed
            attributes[logical_id]["DomainName"] = f"{name.lower()}.cloudfront.invalid"
    return attributes


def local_attributes(
    tables: dict[str, dict[str, str]], queues: dict[str, QueueInfo], prefix: str = "local"
) -> Attributes:
    """Every resource's attributes for `resolve`: real for tables and queues, else placeholders
    (a nested stack's `Outputs.<name>`: `resolve` follows each to what it names)."""
    return (
        placeholder_attributes(prefix)
        | tables
        | {logical_id: info.attributes for logical_id, info in queues.items()}
    )


# ---------------------------------------------------------------------------
# A function's environment
# ---------------------------------------------------------------------------

# What Lambda's runtime adds to every function's environment, of the names our code reads.
LAMBDA_ENVIRONMENT = {"AWS_REGION": REGION}


def function_environment(
    spec: FunctionSpec, attributes: Attributes, parameters: Mapping[str, str]
) -> dict[str, str]:
    """The environment a deployed function starts with, resolved against these attributes and
    parameters: its template `Environment` (the Globals' and its own) and Lambda's own names."""
    template = {
        key: resolve(value, attributes, parameters) for key, value in spec.environment.items()
    }
    return LAMBDA_ENVIRONMENT | template
