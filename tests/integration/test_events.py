"""The canonical events of tests/events/: shaped as each event source sends them, and each
function answers its own as that source reads answers."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser.models import APIGatewayProxyEventModel, SqsModel

from background_posting.config import Settings
from infra.event_sources import sqs_mappings
from infra.lambda_runtime import LocalContext
from infra.template import functions
from tests.support.events import EVENTS, load_event, queue_event
from tests.support.queues import load_handler

# Each function's events, as its event sources send them
FUNCTION_EVENTS = {
    "ApiFunction": ["api_post_company.json"],
    "ScheduledPostingFunction": ["scheduler_fired.json", "run_queue.json"],
    "PostingWorkerFunction": ["posting_queue.json"],
    "TaxCommitFunction": ["tax_commit_queue.json"],
    "NotificationFunction": ["notification_queue.json"],
    "MigrationFunction": ["migration_invoke.json"],  # `aws lambda invoke` with no payload
}
SQS_EVENTS = {
    "run_queue.json": "ScheduledPostingFunction",
    "posting_queue.json": "PostingWorkerFunction",
    "tax_commit_queue.json": "TaxCommitFunction",
    "notification_queue.json": "NotificationFunction",
}
SCHEDULED_RUN = "scheduled-20261124T091500Z"  # the run scheduler_fired.json starts


def invoke(logical_id: str, event: dict[str, Any]) -> Any:
    """The function's handler, loaded as Lambda loads it, given one event."""
    return load_handler(logical_id)(
        event, LocalContext(logical_id, functions()[logical_id].timeout)
    )


def test_every_function_has_its_canonical_events_and_every_event_a_function() -> None:
    assert set(FUNCTION_EVENTS) == set(functions())
    named = sorted(name for names in FUNCTION_EVENTS.values() for name in names)
    assert named == sorted(path.name for path in EVENTS.glob("*.json"))


@pytest.mark.parametrize("name", sorted(SQS_EVENTS))
def test_an_sqs_event_is_what_lambda_sends_from_the_queue_the_template_maps(name: str) -> None:
    event = load_event(name)
    mapping = {m.function: m for m in sqs_mappings(functions())}[SQS_EVENTS[name]]

    SqsModel.model_validate(event)  # Powertools' model of Lambda's SQS event
    assert 1 <= len(event["Records"]) <= mapping.batch_size
    for record in event["Records"]:
        assert record["md5OfBody"] == hashlib.md5(record["body"].encode()).hexdigest()
        queue_name = record["eventSourceARN"].rsplit(":", 1)[1]
        assert f"-{mapping.queue}-" in queue_name  # CloudFormation's <stack>-<logical id>-<id>
        assert record["awsRegion"] == record["eventSourceARN"].split(":")[3]


def test_the_api_event_is_a_rest_api_proxy_event_of_a_route_the_template_declares() -> None:
    event = load_event("api_post_company.json")

    parsed = APIGatewayProxyEventModel.model_validate(event)  # Powertools' model of it
    routes = {
        str(source["Properties"]["Path"])
        for source in functions()["ApiFunction"].events.values()
        if source["Type"] == "Api"
    }
    assert parsed.resource in routes
    assert parsed.requestContext.authorizer is not None
    assert parsed.requestContext.authorizer.claims is not None
    assert parsed.requestContext.authorizer.claims["sub"] == "admin"
    assert event["multiValueHeaders"] == {k: [v] for k, v in event["headers"].items()}


def test_the_api_answers_its_event_as_api_gateway_reads_an_answer(aws: Settings) -> None:
    # When API Gateway passes the request that creates company ACME
    answer = invoke("ApiFunction", load_event("api_post_company.json"))
    # Then the answer is a proxy integration's: status, headers (multi-value, as the event's),
    # a JSON body (not base64)
    assert set(answer) == {"statusCode", "multiValueHeaders", "body", "isBase64Encoded"}
    assert answer["statusCode"] == 201
    assert answer["multiValueHeaders"]["Content-Type"] == ["application/json"]
    assert answer["isBase64Encoded"] is False
    assert json.loads(answer["body"])["id"] == "ACME"


def test_a_fired_schedule_and_its_continuation_answer_as_their_sources_read_answers(
    aws: Settings,
) -> None:
    # When EventBridge Scheduler fires, then the run it starts is reported
    fired = invoke("ScheduledPostingFunction", load_event("scheduler_fired.json"))
    assert fired["batchItemFailures"] == []
    assert [run["id"] for run in fired["runs"]] == [SCHEDULED_RUN]
    # When the run queue delivers the run again (a continuation), then SQS reads no failure
    continued = invoke("ScheduledPostingFunction", load_event("run_queue.json"))
    assert continued["batchItemFailures"] == []
    assert [run["id"] for run in continued["runs"]] == [SCHEDULED_RUN]


def test_the_digest_request_of_a_finished_run_answers_with_no_failure(aws: Settings) -> None:
    # Given the scheduled run, finished (it found nothing to post)
    invoke("ScheduledPostingFunction", load_event("scheduler_fired.json"))
    # When its digest request arrives, then SQS reads no failure
    assert invoke("NotificationFunction", load_event("notification_queue.json")) == {
        "batchItemFailures": []
    }


@pytest.mark.parametrize(
    ("logical_id", "name"),
    [
        ("PostingWorkerFunction", "posting_queue.json"),
        ("TaxCommitFunction", "tax_commit_queue.json"),
    ],
)
def test_a_worker_function_answers_its_event_with_the_records_that_failed(
    logical_id: str, name: str, aws: Settings
) -> None:
    # When the canonical message arrives (its document has nothing left to do), then no failure
    assert invoke(logical_id, load_event(name)) == {"batchItemFailures": []}
    # When a batch holds a message that names no document, then that record alone failed
    (record,) = load_event(name)["Records"]
    event = queue_event(name, [json.loads(record["body"]), {"run_id": SCHEDULED_RUN}])
    bad = event["Records"][1]["messageId"]
    assert invoke(logical_id, event) == {"batchItemFailures": [{"itemIdentifier": bad}]}


def test_a_run_queue_record_that_names_no_run_fails_alone(aws: Settings) -> None:
    # Given the scheduled run, started by its schedule
    invoke("ScheduledPostingFunction", load_event("scheduler_fired.json"))
    # When the run queue delivers it beside a message that is not a run's
    event = queue_event("run_queue.json", [{"run_id": SCHEDULED_RUN}, {"document_id": "D1"}])
    bad = event["Records"][1]["messageId"]
    answer = invoke("ScheduledPostingFunction", event)
    # Then SQS reads that record alone as failed, and the run was advanced
    assert answer["batchItemFailures"] == [{"itemIdentifier": bad}]
    assert [run["id"] for run in answer["runs"]] == [SCHEDULED_RUN]


def test_the_migration_function_answers_its_invocation_with_what_it_ran(aws: Settings) -> None:
    first = invoke("MigrationFunction", load_event("migration_invoke.json"))
    again = invoke("MigrationFunction", load_event("migration_invoke.json"))
    assert first["done"] is True and [m["version"] for m in first["migrations"]] == [1, 2]
    assert again == first  # nothing left to do: it answers the same
