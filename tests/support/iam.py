"""The AWS actions code performs (seen at the botocore client) vs what the template grants."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from email.utils import parseaddr
from typing import Any

from aws_lambda_powertools.utilities import parameters
from botocore.client import BaseClient

from infra.template import follow_outputs, functions, parameter_defaults

Grant = tuple[str, str]  # ("dynamodb:GetItem", "CompaniesTable") or (..., "DocumentsTable/index/x")

_TRANSACT_ITEM_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}


def _dynamodb_grants(operation: str, params: dict[str, Any]) -> set[tuple[str, str]]:
    if operation in {"TransactWriteItems", "TransactGetItems"}:
        grants = set()
        for item in params["TransactItems"]:
            ((kind, body),) = item.items()
            grants.add((f"dynamodb:{_TRANSACT_ITEM_ACTIONS[kind]}", body["TableName"]))
        return grants
    if operation in {"BatchWriteItem", "BatchGetItem"}:
        return {(f"dynamodb:{operation}", table) for table in params["RequestItems"]}
    table = params["TableName"]
    if params.get("IndexName"):
        table = f"{table}/index/{params['IndexName']}"
    return {(f"dynamodb:{operation}", table)}


_acting: ContextVar[str] = ContextVar("acting", default="ApiFunction")


@contextmanager
def acting_as(function: str) -> Iterator[None]:
    """Attribute the AWS calls made inside the block to `function`.

    On Lambda each function is its own process: what one cached (a secret read through
    Powertools parameters) another reads for itself, so nothing cached crosses the block.
    """
    token = _acting.set(function)
    parameters.clear_caches()
    try:
        yield
    finally:
        parameters.clear_caches()
        _acting.reset(token)


def _queue_name(params: dict[str, Any]) -> str:
    url = str(params.get("QueueUrl", ""))
    return url.rstrip("/").rsplit("/", 1)[-1]


@contextmanager
def recorded_actions(monkeypatch: Any) -> Iterator[dict[str, set[tuple[str, str]]]]:
    """Every (action, resource name) the code asks of AWS while the block runs, per function."""
    used: dict[str, set[tuple[str, str]]] = defaultdict(set)
    original = BaseClient._make_api_call

    def spy(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        service = client.meta.service_model.service_name
        acting = used[_acting.get()]
        if service == "dynamodb":
            acting.update(_dynamodb_grants(operation, params))
        elif service == "scheduler":
            acting.add((f"scheduler:{operation}", f"ScheduleGroup/{params.get('Name', '*')}"))
            if operation in {"CreateSchedule", "UpdateSchedule"}:
                # AWS checks that the caller may pass the schedule's role to the scheduler.
                acting.add(("iam:PassRole", "SchedulerRole"))
        elif service == "sesv2":
            # SES authorises a send against the identity of its From address (here: the address)
            sender = parseaddr(str(params.get("FromEmailAddress", "")))[1]
            acting.add((f"ses:{operation}", f"identity/{sender}"))
        elif service == "secretsmanager":
            acting.add((f"secretsmanager:{operation}", f"secret:{params.get('SecretId')}"))
        elif service == "sqs":
            action = "SendMessage" if operation == "SendMessageBatch" else operation
            acting.add((f"sqs:{action}", _queue_name(params)))
        else:
            acting.add((f"{client.meta.service_model.signing_name}:{operation}", "*"))
        return original(client, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", spy)
    yield used


def _resource_name(resource: Any) -> str:
    if isinstance(resource, dict) and "Fn::GetAtt" in resource:
        # a nested stack's output (Posting.Outputs.QueueArn): the resource it names (PostingQueue)
        return follow_outputs(*resource["Fn::GetAtt"])[0]
    if isinstance(resource, dict) and "Fn::Sub" in resource:
        text = str(resource["Fn::Sub"])
        if ":schedule/${" in text:
            # "arn:...:schedule/${ScheduleGroup}/background-posting-*" -> "ScheduleGroup/..."
            return text.split(":schedule/", 1)[1].replace("${", "").replace("}", "")
        if ":identity/${" in text:
            # "arn:...:ses:...:identity/${SesIdentity}" -> "identity/SesIdentity"
            return "identity/" + text.split(":identity/${", 1)[1].rstrip("}")
        if ":secret:${" in text:
            # "arn:...:secret:${AvaTaxSecretName}-??????" -> "secret:<the parameter's default>",
            # the name the tests create the secret under
            parameter = text.split(":secret:${", 1)[1].split("}", 1)[0]
            return f"secret:{parameter_defaults()[parameter]}"
        # "${DocumentsTable.Arn}/index/by-company" -> "DocumentsTable/index/by-company"
        return text.replace("${", "").replace(".Arn}", "")
    if isinstance(resource, dict) and "Ref" in resource:
        return str(resource["Ref"])
    return str(resource)


# What SAM grants a function for each SQS event source (its SQSPollerPolicy).
SQS_POLLER_ACTIONS = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")


def granted_actions(logical_id: str) -> set[tuple[str, str]]:
    """(action, logical resource) pairs the function's policies and SQS events allow."""
    grants: set[tuple[str, str]] = set()
    for event in functions()[logical_id].events.values():
        if event.get("Type") == "SQS":
            queue = _resource_name(event["Properties"]["Queue"])
            grants.update((action, queue) for action in SQS_POLLER_ACTIONS[:2])
    for policy in functions()[logical_id].policies:
        if not isinstance(policy, dict) or "Statement" not in policy:
            raise AssertionError(f"{logical_id}: use inline statements, not {policy!r}")
        for statement in policy["Statement"]:
            assert statement["Effect"] == "Allow"
            actions = statement["Action"]
            resources = statement["Resource"]
            for action in [actions] if isinstance(actions, str) else actions:
                assert "*" not in action, f"{logical_id}: wildcard action {action}"
                for resource in [resources] if not isinstance(resources, list) else resources:
                    grants.add((action, _resource_name(resource)))
    return grants


def to_logical(used: set[tuple[str, str]], names: dict[str, str]) -> set[tuple[str, str]]:
    """Replace physical table and queue names by the template's logical ids (and schedule
    names by the pattern the policy grants)."""
    by_name = {physical: logical for logical, physical in names.items()}
    logical = set()
    for action, resource in used:
        if resource.startswith("ScheduleGroup/background-posting-"):
            logical.add((action, "ScheduleGroup/background-posting-*"))
            continue
        table, _, index = resource.partition("/index/")
        name = by_name.get(table, table)
        logical.add((action, f"{name}/index/{index}" if index else name))
    return logical
