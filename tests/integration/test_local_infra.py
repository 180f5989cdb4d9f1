"""The local stack's plumbing against moto in process: queues, environment, pollers, e-mails."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.emails import keep_text_and_html, sent_emails, verify_sender
from infra.event_sources import (
    DEFAULT_CONCURRENCY,
    SqsEventSources,
    SqsMapping,
    failed_message_ids,
    local_pollers,
    sqs_mappings,
)
from infra.local_stack import LocalStack
from infra.resources import QueueInfo, create_queues, local_attributes, placeholder_attributes
from infra.template import (
    functions,
    parameter_defaults,
    pseudo_parameters,
    resolve,
    resources,
)

REGION = "us-east-1"


@pytest.fixture
def moto(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield


@pytest.fixture
def sqs(moto: None) -> Any:
    return boto3.client("sqs", region_name=REGION)


def a_queue(sqs: Any, name: str, **attributes: str) -> QueueInfo:
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    return QueueInfo(url=url, arn=arn["QueueArn"], name=name)


def attributes_of(sqs: Any, queue: QueueInfo) -> dict[str, str]:
    answer = sqs.get_queue_attributes(QueueUrl=queue.url, AttributeNames=["All"])
    return dict(answer["Attributes"])


def messages_in(sqs: Any, queue: QueueInfo) -> int:
    counts = attributes_of(sqs, queue)
    return int(counts["ApproximateNumberOfMessages"]) + int(
        counts["ApproximateNumberOfMessagesNotVisible"]
    )


class FakeFunction:
    """Stands in for LocalFunction: records each event, answers what `answer` decides."""

    def __init__(self, answer: Any = None):
        self.events: list[dict[str, Any]] = []
        self._answer = answer

    def invoke(self, event: dict[str, Any]) -> Any:
        self.events.append(event)
        return self._answer(event, len(self.events)) if self._answer else None

    def deliveries(self) -> list[tuple[str, str]]:
        """(body, ApproximateReceiveCount) of every record delivered, in order."""
        return [
            (record["body"], record["attributes"]["ApproximateReceiveCount"])
            for event in self.events
            for record in event["Records"]
        ]


def pollers(sqs: Any, function: FakeFunction, queue: QueueInfo, **mapping: Any) -> SqsEventSources:
    settings = {"batch_size": 10, "report_batch_item_failures": True, "concurrency": 1} | mapping
    return SqsEventSources(
        sqs,
        {"Worker": function},
        {"Work": queue},
        [SqsMapping(function="Worker", queue="Work", **settings)],
    )


# ---------------------------------------------------------------------------
# Queues from the template
# ---------------------------------------------------------------------------


def test_every_template_queue_is_created_with_its_attributes_and_redrive_policy(sqs: Any) -> None:
    queues = create_queues(sqs, "t")

    assert set(queues) == set(resources("AWS::SQS::Queue"))  # every one the template declares
    assert {"PostingQueue", "PostingDeadLetterQueue", "RunQueue", "RunDeadLetterQueue"} <= set(
        queues
    )
    posting = attributes_of(sqs, queues["PostingQueue"])
    assert posting["VisibilityTimeout"] == "540"
    assert posting["MessageRetentionPeriod"] == "604800"
    assert json.loads(posting["RedrivePolicy"]) == {
        "deadLetterTargetArn": queues["PostingDeadLetterQueue"].arn,
        "maxReceiveCount": 5,
    }
    assert queues["PostingQueue"].name == "t-PostingQueue"
    assert queues["PostingQueue"].arn.endswith(":t-PostingQueue")
    assert json.loads(attributes_of(sqs, queues["RunQueue"])["RedrivePolicy"])[
        "deadLetterTargetArn"
    ] == (queues["RunDeadLetterQueue"].arn)


def test_creating_the_queues_again_changes_nothing(sqs: Any) -> None:
    first = create_queues(sqs, "t")
    sqs.send_message(QueueUrl=first["RunQueue"].url, MessageBody="{}")

    again = create_queues(sqs, "t")

    assert again == first
    assert messages_in(sqs, again["RunQueue"]) == 1


NESTING_TEMPLATE = """
Parameters:
  Stage: {Type: String, Default: dev}
Resources:
  Topic: {Type: AWS::SNS::Topic}
  Work:
    Type: AWS::CloudFormation::Stack
    Properties:
      TemplateURL: nested/work.yaml
      Parameters:
        Name: !Sub "work-${Stage}"
        Fifo: "true"
        TopicArn: !Ref Topic
"""
NESTED_TEMPLATE = """
Parameters:
  Name: {Type: String}
  TopicArn: {Type: String}
  Fifo: {Type: String, Default: "false"}
  Delay: {Type: Number, Default: 3}
Conditions:
  IsFifo: !Equals [!Ref Fifo, "true"]
Resources:
  DeadLetterQueue:
    Type: AWS::SQS::Queue
    Properties:
      FifoQueue: !If [IsFifo, true, !Ref AWS::NoValue]
  Queue:
    Type: AWS::SQS::Queue
    DependsOn: DeadLetterQueue
    Properties:
      FifoQueue: !If [IsFifo, true, !Ref AWS::NoValue]
      DelaySeconds: !Ref Delay
      RedrivePolicy: {deadLetterTargetArn: !GetAtt DeadLetterQueue.Arn, maxReceiveCount: 3}
      Tags: [{Key: name, Value: !Sub "${Name}-${AWS::Region}"}, {Key: topic, Value: !Ref TopicArn}]
Outputs:
  QueueUrl: {Value: !Ref Queue}
"""


def test_a_nested_stack_s_resources_are_the_template_s_with_the_parameters_it_passes(
    sqs: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a template that nests a local template (another one than template.yaml)
    import infra.template

    (tmp_path / "nested").mkdir()
    (tmp_path / "nested" / "work.yaml").write_text(NESTED_TEMPLATE)
    (tmp_path / "template.yaml").write_text(NESTING_TEMPLATE)
    monkeypatch.setattr(infra.template, "_template", tmp_path / "template.yaml")

    # Then its resources are named <stack><resource>, its conditions and parameters applied
    queue = resources("AWS::SQS::Queue")["WorkQueue"]
    assert queue["DependsOn"] == ["WorkDeadLetterQueue"]
    assert queue["Properties"] == {
        "FifoQueue": True,
        "DelaySeconds": 3,
        "RedrivePolicy": {
            "deadLetterTargetArn": {"Fn::GetAtt": ["WorkDeadLetterQueue", "Arn"]},
            "maxReceiveCount": 3,
        },
        "Tags": [
            {
                "Key": "name",
                "Value": {
                    "Fn::Sub": ["${Name}-${AWS::Region}", {"Name": {"Fn::Sub": "work-${Stage}"}}]
                },
            },
            {"Key": "topic", "Value": {"Ref": "Topic"}},
        ],
    }
    # and the local stack creates its queues, which its outputs name
    queues = create_queues(sqs, "n")
    assert sorted(q.name for q in queues.values()) == [
        "n-WorkDeadLetterQueue.fifo",
        "n-WorkQueue.fifo",
    ]
    attributes = local_attributes({}, queues, "n")
    assert resolve({"Fn::GetAtt": ["Work", "Outputs.QueueUrl"]}, attributes, {}) == (
        queues["WorkQueue"].url
    )
    name = queue["Properties"]["Tags"][0]["Value"]
    assert resolve(name, attributes, {"Stage": "x", "AWS::Region": REGION}) == "work-x-us-east-1"


def test_a_parameter_the_nested_template_does_not_declare_is_an_error_that_names_it(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import infra.template

    (tmp_path / "nested").mkdir()
    (tmp_path / "nested" / "work.yaml").write_text(NESTED_TEMPLATE)
    (tmp_path / "template.yaml").write_text(NESTING_TEMPLATE.replace("Fifo:", "Fifth:"))
    monkeypatch.setattr(infra.template, "_template", tmp_path / "template.yaml")

    with pytest.raises(ValueError, match=r"Work: nested/work.yaml has no parameter \['Fifth'\]"):
        resources("AWS::SQS::Queue")


# ---------------------------------------------------------------------------
# Environment values, resolved as CloudFormation would
# ---------------------------------------------------------------------------


def test_refs_and_attributes_resolve_to_the_local_queues_and_tables(sqs: Any) -> None:
    queues = create_queues(sqs, "t")
    table_arn = "arn:aws:dynamodb:us-east-1:123456789012:table/t-WorkerItemsTable"
    tables = {"WorkerItemsTable": {"Ref": "t-WorkerItemsTable", "Arn": table_arn}}
    attributes = local_attributes(tables, queues, "t")
    parameters = {"Stage": "local", "AWS::Region": REGION}

    def resolved(value: Any) -> str:
        return resolve(value, attributes, parameters)

    assert resolved({"Ref": "PostingQueue"}) == queues["PostingQueue"].url
    assert resolved({"Fn::GetAtt": ["PostingQueue", "Arn"]}) == queues["PostingQueue"].arn
    assert resolved({"Fn::GetAtt": ["RunQueue", "QueueName"]}) == "t-RunQueue"
    # a nested stack's outputs (infra/queue.yaml's) are the local queues they name
    assert resolved({"Fn::GetAtt": ["Posting", "Outputs.QueueUrl"]}) == queues["PostingQueue"].url
    assert resolved({"Fn::GetAtt": ["Posting", "Outputs.QueueArn"]}) == queues["PostingQueue"].arn
    assert resolved({"Fn::GetAtt": ["Notification", "Outputs.DeadLetterQueueUrl"]}) == (
        queues["NotificationDeadLetterQueue"].url
    )
    assert resolved({"Fn::Sub": "${ScheduledPosting.Outputs.DeadLetterQueueArn}"}) == (
        queues["ScheduledPostingDeadLetterQueue"].arn
    )
    assert resolved({"Ref": "WorkerItemsTable"}) == "t-WorkerItemsTable"
    assert resolved({"Fn::GetAtt": ["WorkerItemsTable", "Arn"]}) == table_arn
    assert resolved({"Fn::Sub": "${WorkerItemsTable.Arn}/index/due"}) == f"{table_arn}/index/due"
    assert resolved({"Fn::Sub": "bp-${Stage}-${AWS::Region}"}) == "bp-local-us-east-1"
    assert resolved({"Ref": "Stage"}) == "local"
    assert resolved(540) == "540"


def test_a_value_the_local_stack_cannot_provide_is_an_error_that_names_it(sqs: Any) -> None:
    attributes = local_attributes({}, create_queues(sqs, "t"), "t")

    with pytest.raises(ValueError, match="NoSuchQueue"):
        resolve({"Ref": "NoSuchQueue"}, attributes, {})
    with pytest.raises(ValueError, match=r"PostingQueue\.Nonsense"):
        resolve({"Fn::GetAtt": ["PostingQueue", "Nonsense"]}, attributes, {})
    with pytest.raises(ValueError, match=r"Posting \(queue\.yaml\) has no output Nonsense"):
        resolve({"Fn::GetAtt": ["Posting", "Outputs.Nonsense"]}, attributes, {})
    # the scheduled posting function's dead-letter queue stands alone: no queue to name
    with pytest.raises(
        ValueError, match=r"ScheduledPosting\.Outputs\.QueueUrl: its condition HasQueue is false"
    ):
        resolve({"Fn::GetAtt": ["ScheduledPosting", "Outputs.QueueUrl"]}, attributes, {})


def test_every_function_environment_value_of_the_template_resolves(sqs: Any) -> None:
    queues = create_queues(sqs, "t")
    attributes = local_attributes({}, queues, "t")
    parameters = pseudo_parameters() | parameter_defaults()

    environment = {
        key: resolve(value, attributes, parameters)
        for spec in functions().values()
        for key, value in spec.environment.items()
    }

    assert environment["POSTING_QUEUE_URL"] == queues["PostingQueue"].url
    assert environment["DOCUMENTS_TABLE"] == "t-DocumentsTable"


def test_an_if_resolves_only_the_branch_its_condition_picks(sqs: Any) -> None:
    attributes = local_attributes({}, create_queues(sqs, "t"), "t")
    base_url = {
        "Fn::If": [
            "HasLogGroupBaseUrl",
            {"Ref": "LogGroupBaseUrl"},
            {"Fn::Sub": "https://${ConsoleDistribution.DomainName}/console/"},
        ]
    }
    local = {"LogGroupBaseUrl": "http://127.0.0.1:3000/console/"}
    deployed = {"LogGroupBaseUrl": ""}

    assert resolve(base_url, attributes, local) == "http://127.0.0.1:3000/console/"
    assert resolve(base_url, attributes, deployed) == (
        "https://t-consoledistribution.cloudfront.invalid/console/"
    )
    with pytest.raises(ValueError, match="NoSuchCondition"):
        resolve({"Fn::If": ["NoSuchCondition", "a", "b"]}, attributes, local)


def test_the_local_stack_links_emails_to_its_console_and_allows_its_origin() -> None:
    stack = LocalStack(port=3999)
    parameters = pseudo_parameters() | parameter_defaults()
    stack_parameters = stack.local_parameters(parameters)
    attributes = placeholder_attributes("t")
    notification = functions()["NotificationFunction"].environment["LOG_GROUP_BASE_URL"]
    api = functions()["ApiFunction"].environment["CONSOLE_ORIGIN"]

    assert resolve(notification, attributes, stack_parameters) == "http://127.0.0.1:3999/console/"
    assert resolve(api, attributes, stack_parameters) == "http://127.0.0.1:3999"


# ---------------------------------------------------------------------------
# SQS event sources
# ---------------------------------------------------------------------------


def test_the_template_maps_the_posting_and_run_queues_to_their_functions() -> None:
    mappings = {mapping.function: mapping for mapping in sqs_mappings(functions())}

    assert mappings["PostingWorkerFunction"].queue == "PostingQueue"
    assert mappings["PostingWorkerFunction"].batch_size == 10
    assert mappings["PostingWorkerFunction"].report_batch_item_failures
    assert mappings["ScheduledPostingFunction"].queue == "RunQueue"
    assert mappings["ScheduledPostingFunction"].batch_size == 1
    assert mappings["NotificationFunction"].queue == "NotificationQueue"
    assert mappings["TaxCommitFunction"].queue == "TaxCommitQueue"
    # ScalingConfig.MaximumConcurrency is !Ref to a parameter (20 and 5): one machine polls
    # with at most DEFAULT_CONCURRENCY of them
    assert mappings["PostingWorkerFunction"].concurrency == DEFAULT_CONCURRENCY
    assert mappings["TaxCommitFunction"].concurrency == DEFAULT_CONCURRENCY


def test_a_mapping_polls_with_no_more_pollers_than_its_maximum_concurrency() -> None:
    assert local_pollers(None) == DEFAULT_CONCURRENCY
    assert local_pollers(1) == 1
    assert local_pollers({"Ref": "PostingWorkerMaximumConcurrency"}) == DEFAULT_CONCURRENCY


def test_a_function_gets_the_sqs_event_lambda_builds(sqs: Any) -> None:
    queue = a_queue(sqs, "work")
    sqs.send_message(
        QueueUrl=queue.url,
        MessageBody='{"document": "SIN000042"}',
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "post"}},
    )
    function = FakeFunction()
    sources = pollers(sqs, function, queue).start()
    try:
        assert sources.wait_idle(timeout=60)
    finally:
        sources.stop()

    (event,) = function.events
    (record,) = event["Records"]
    assert set(record) == {
        "messageId",
        "receiptHandle",
        "body",
        "attributes",
        "messageAttributes",
        "md5OfBody",
        "md5OfMessageAttributes",
        "eventSource",
        "eventSourceARN",
        "awsRegion",
    }
    assert record["body"] == '{"document": "SIN000042"}'
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert record["attributes"]["SentTimestamp"].isdigit()
    assert record["messageAttributes"] == {
        "kind": {
            "stringValue": "post",
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": "String",
        }
    }
    assert (record["eventSource"], record["eventSourceARN"], record["awsRegion"]) == (
        "aws:sqs",
        queue.arn,
        REGION,
    )


def test_a_reported_item_failure_is_redelivered_and_the_rest_deleted(
    sqs: Any, caplog: pytest.LogCaptureFixture
) -> None:
    queue = a_queue(sqs, "work", VisibilityTimeout="1")
    for body in ("good", "bad"):
        sqs.send_message(QueueUrl=queue.url, MessageBody=body)

    def fail_bad_once(event: dict[str, Any], call: int) -> dict[str, Any]:
        failed = [r["messageId"] for r in event["Records"] if r["body"] == "bad" and call == 1]
        return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed]}

    function = FakeFunction(fail_bad_once)
    sources = pollers(sqs, function, queue)
    with caplog.at_level(logging.INFO, logger="events"):
        sources.start()
        try:
            assert sources.wait_idle(timeout=60)
        finally:
            sources.stop()

    assert sorted(function.deliveries()[:2]) == [("bad", "1"), ("good", "1")]
    assert function.deliveries()[2:] == [("bad", "2")]
    assert messages_in(sqs, queue) == 0
    assert "Worker: 2 records from work, 1 failed" in caplog.text


def test_a_function_that_raises_deletes_nothing(sqs: Any, caplog: pytest.LogCaptureFixture) -> None:
    queue = a_queue(sqs, "work", VisibilityTimeout="1")
    for body in ("one", "two"):
        sqs.send_message(QueueUrl=queue.url, MessageBody=body)

    def raise_once(event: dict[str, Any], call: int) -> None:
        if call == 1:
            raise RuntimeError("the ledger is closed")

    function = FakeFunction(raise_once)
    sources = pollers(sqs, function, queue).start()
    try:
        assert sources.wait_idle(timeout=60)
    finally:
        sources.stop()

    assert sorted(function.deliveries()) == [("one", "1"), ("one", "2"), ("two", "1"), ("two", "2")]
    assert "Worker: 2 records from work, all failed: RuntimeError: the ledger is closed" in (
        caplog.text
    )


def test_sqs_moves_a_message_that_keeps_failing_to_the_dead_letter_queue(sqs: Any) -> None:
    dead = a_queue(sqs, "work-dlq")
    redrive = json.dumps({"deadLetterTargetArn": dead.arn, "maxReceiveCount": 2})
    queue = a_queue(sqs, "work", VisibilityTimeout="1", RedrivePolicy=redrive)
    sqs.send_message(QueueUrl=queue.url, MessageBody="poison")

    def always_raise(event: dict[str, Any], call: int) -> None:
        raise RuntimeError("cannot post")

    function = FakeFunction(always_raise)
    sources = pollers(sqs, function, queue).start()
    try:
        assert sources.wait_idle(timeout=60)
    finally:
        sources.stop()

    assert function.deliveries() == [("poison", "1"), ("poison", "2")]
    assert messages_in(sqs, dead) == 1
    assert messages_in(sqs, queue) == 0


def test_stop_waits_for_the_invocation_under_way(sqs: Any) -> None:
    queue = a_queue(sqs, "work")
    sqs.send_message(QueueUrl=queue.url, MessageBody="slow")
    began, finished = threading.Event(), threading.Event()

    def slow(event: dict[str, Any], call: int) -> None:
        began.set()
        time.sleep(0.5)
        finished.set()

    sources = pollers(sqs, FakeFunction(slow), queue).start()
    assert began.wait(timeout=60)

    sources.stop()

    assert finished.is_set()
    assert messages_in(sqs, queue) == 0


def test_wait_idle_says_no_while_a_message_waits_to_be_redelivered(sqs: Any) -> None:
    queue = a_queue(sqs, "work", VisibilityTimeout="30")
    sqs.send_message(QueueUrl=queue.url, MessageBody="fails")

    def always_raise(event: dict[str, Any], call: int) -> None:
        raise RuntimeError("no")

    sources = pollers(sqs, FakeFunction(always_raise), queue).start()
    try:
        assert not sources.wait_idle(timeout=1.5)
    finally:
        sources.stop()


@pytest.mark.parametrize(
    ("answer", "failed"),
    [
        (None, set()),
        ({"batchItemFailures": []}, set()),
        ({"batchItemFailures": None}, set()),
        ({"batchItemFailures": [{"itemIdentifier": "b"}]}, {"b"}),
        ({"batchItemFailures": [{"itemIdentifier": "unknown"}]}, {"a", "b"}),
        ({"batchItemFailures": [{"itemIdentifier": ""}]}, {"a", "b"}),
        ({"batchItemFailures": [{"wrongKey": "b"}]}, {"a", "b"}),
        ("not an object", {"a", "b"}),
    ],
)
def test_batch_item_failures_are_read_as_lambda_reads_them(answer: Any, failed: set[str]) -> None:
    assert failed_message_ids(answer, ["a", "b"], report_failures=True) == failed


def test_without_report_batch_item_failures_a_returning_function_succeeded() -> None:
    answer = {"batchItemFailures": [{"itemIdentifier": "b"}]}

    assert failed_message_ids(answer, ["a", "b"], report_failures=False) == set()


# ---------------------------------------------------------------------------
# E-mails sent through SES
# ---------------------------------------------------------------------------


def test_an_sesv2_email_is_read_back_with_its_text_and_html(moto: None) -> None:
    keep_text_and_html()
    ses = boto3.client("sesv2", region_name=REGION)
    ses.create_email_identity(EmailIdentity="background-posting@example.com")

    ses.send_email(
        FromEmailAddress="background-posting@example.com",
        Destination={"ToAddresses": ["clerk@example.com"], "CcAddresses": ["boss@example.com"]},
        Content={
            "Simple": {
                "Subject": {"Data": "Background posting: 3 posted, 1 failed"},
                "Body": {
                    "Text": {"Data": "3 posted, 1 failed"},
                    "Html": {"Data": "<p>3 posted, <b>1 failed</b></p>"},
                },
            }
        },
    )

    assert sent_emails() == [
        {
            "to": ["clerk@example.com"],
            "subject": "Background posting: 3 posted, 1 failed",
            "text": "3 posted, 1 failed",
            "html": "<p>3 posted, <b>1 failed</b></p>",
        }
    ]


def test_raw_mime_emails_are_read_newest_last_with_their_parts(moto: None) -> None:
    ses = boto3.client("ses", region_name=REGION)
    ses.verify_email_identity(EmailAddress="background-posting@example.com")
    for number in (1, 2):
        message = EmailMessage()
        message["From"] = "Background Posting <background-posting@example.com>"
        message["To"] = "Clerk <clerk@example.com>"
        message["Subject"] = f"Relevé {number}"
        message.set_content(f"Texte {number} é")
        message.add_alternative(f"<p>Texte {number} é</p>", subtype="html")
        ses.send_raw_email(RawMessage={"Data": message.as_bytes()})

    emails = sent_emails()

    assert [email["subject"] for email in emails] == ["Relevé 1", "Relevé 2"]
    assert emails[-1]["to"] == ["clerk@example.com"]
    assert emails[-1]["text"].strip() == "Texte 2 é"
    assert emails[-1]["html"].strip() == "<p>Texte 2 é</p>"


def test_the_verified_sender_may_send_through_ses_v1_and_v2(moto: None) -> None:
    verified = verify_sender(
        boto3.client("sesv2", region_name=REGION), "Background Posting <bp@example.com>"
    )
    simple: Any = {"Subject": {"Data": "Hello"}, "Body": {"Text": {"Data": "Hello"}}}

    boto3.client("sesv2", region_name=REGION).send_email(
        FromEmailAddress=verified,
        Destination={"ToAddresses": ["one@example.com"]},
        Content={"Simple": simple},
    )
    boto3.client("ses", region_name=REGION).send_email(
        Source=verified, Destination={"ToAddresses": ["two@example.com"]}, Message=simple
    )

    assert verified == "bp@example.com"
    assert [email["to"] for email in sent_emails()] == [["one@example.com"], ["two@example.com"]]
