"""template.yaml: handlers import, and each function's IAM policy is exactly what its code uses."""

from __future__ import annotations

from typing import Any

import pytest

from background_posting.config import Settings
from background_posting.store import chunks
from infra.lambda_runtime import LocalFunction
from infra.resources import queue_name, table_names
from infra.template import follow_outputs, functions, parameter_defaults, resources
from tests.support.cold_start import cold_start, deployed_environment
from tests.support.flows import payables_day, working_day
from tests.support.iam import granted_actions, recorded_actions, to_logical


@pytest.mark.parametrize("logical_id", sorted(functions()))
def test_every_function_points_at_a_handler_that_imports(
    logical_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the environment the template gives the function (its handler reads it at import)
    cold_start(monkeypatch, deployed_environment(logical_id))
    spec = functions()[logical_id]
    module = LocalFunction(spec)._new_instance()
    assert callable(getattr(module, spec.function_name))


def _names(prefix: str = "test") -> dict[str, str]:
    queues = {logical: queue_name(logical, prefix) for logical in resources("AWS::SQS::Queue")}
    # the tests send from the SES identity itself (the template's defaults are one address)
    identity = {"identity/SesIdentity": f"identity/{parameter_defaults()['SesIdentity']}"}
    return table_names(prefix) | queues | identity


@pytest.mark.parametrize(
    "function",
    [
        "ApiFunction",
        "ScheduledPostingFunction",
        "PostingWorkerFunction",
        "NotificationFunction",
        "TaxCommitFunction",
    ],
)
def test_each_policy_allows_exactly_what_its_function_uses(
    function: str, api: Any, aws: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given chunks of one line, so that every large-document path is taken
    monkeypatch.setattr(chunks, "LINES_PER_CHUNK", 1)
    with recorded_actions(monkeypatch) as used:
        working_day(api, aws)
        payables_day(api, aws)
    assert to_logical(used[function], _names()) == granted_actions(function)


def test_the_layer_installs_exactly_the_locked_runtime_dependencies() -> None:
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    uv = Path(sys.executable).parent / "uv"
    exported = subprocess.run(
        [str(uv), "export", "--frozen", "--no-dev", "--no-hashes", "--no-emit-project", "--quiet"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    committed = (root / "layers" / "common" / "requirements.txt").read_text()

    def pins(text: str) -> list[str]:
        return sorted(line for line in text.splitlines() if line and not line.startswith("#"))

    assert pins(committed) == pins(exported), "run `make requirements` after changing the lock"


def test_the_worker_handlers_know_when_sqs_gives_up_on_a_message() -> None:
    # Given the redrive policies of the worker queues (the MaxReceiveCount the template
    # passes to their infra/queue.yaml)
    from background_posting.handlers.worker_queue import MAX_RECEIVES

    queues = resources("AWS::SQS::Queue")
    for queue in ("PostingQueue", "TaxCommitQueue"):
        policy = queues[queue]["Properties"]["RedrivePolicy"]
        # Then the handler counts a message abandoned on the same receive SQS gives up on
        assert int(policy["maxReceiveCount"]) == MAX_RECEIVES, queue


def test_each_function_logs_to_its_own_log_group_declared_right_after_it() -> None:
    # Given the template's resources in the order template.yaml declares them
    from infra.template import load_template

    order = list(load_template()["Resources"])
    log_groups = set(resources("AWS::Logs::LogGroup"))
    owned = set()
    for logical_id, function in resources("AWS::Serverless::Function").items():
        group = function["Properties"]["LoggingConfig"]["LogGroup"]
        # Then the function names its log group, and the log group comes next in the file
        assert group == {"Ref": f"{logical_id}LogGroup"}, logical_id
        assert group["Ref"] in log_groups, logical_id
        assert order[order.index(logical_id) + 1] == group["Ref"], logical_id
        owned.add(group["Ref"])
    # And every log group is a function's
    assert owned == log_groups


def _policy_documents(value: Any, where: str) -> list[tuple[str, list[dict[str, Any]]]]:
    """Every policy document (a mapping with a `Statement` list) under `value`, with its path."""
    found = []
    if isinstance(value, dict):
        if isinstance(value.get("Statement"), list):
            found.append((where, value["Statement"]))
        for key, inner in value.items():
            found += _policy_documents(inner, f"{where}.{key}")
    elif isinstance(value, list):
        for number, inner in enumerate(value):
            found += _policy_documents(inner, f"{where}[{number}]")
    return found


def _named_resources(statement: dict[str, Any]) -> set[str]:
    """The template resources a statement's `Resource` names (`!GetAtt X.Arn`, `${X.Arn}`)."""
    import re

    resources = statement.get("Resource", [])
    named = set()
    for resource in resources if isinstance(resources, list) else [resources]:
        if isinstance(resource, dict) and "Fn::GetAtt" in resource:
            named.add(follow_outputs(*resource["Fn::GetAtt"])[0])  # PostingQueue, not Posting
        elif isinstance(resource, dict) and "Fn::Sub" in resource:
            named |= set(re.findall(r"\$\{(\w+)\.Arn\}", str(resource["Fn::Sub"])))
    return named


_DYNAMODB_READS = {"BatchGetItem", "ConditionCheckItem", "GetItem", "Query", "Scan"}


def test_every_policy_statement_has_a_sid_that_says_what_it_grants() -> None:
    import re

    from infra.template import all_resources

    # Given every policy of the template and of the queue pattern it nests
    documents = _policy_documents(all_resources(), "Resources")
    assert len(documents) >= 7  # the functions', the scheduler role's two, the bucket's
    for where, statements in documents:
        sids = [statement.get("Sid") for statement in statements]
        # Then each statement has a Sid, unique in its document
        assert all(sids), f"{where}: a statement without a Sid"
        assert len(set(sids)) == len(sids), f"{where}: the same Sid twice"
        for statement in statements:
            sid = str(statement["Sid"])
            assert re.fullmatch(r"[A-Za-z0-9]+", sid), f"{where}: {sid}"
            # naming each resource it grants on
            for resource in _named_resources(statement):
                assert resource in sid, f"{where}: {sid} does not name {resource}"
            # and, for DynamoDB, whether it reads, writes or both
            actions = statement.get("Action", [])
            actions = [actions] if isinstance(actions, str) else actions
            assert len(set(actions)) == len(actions), f"{where}: {sid} lists an action twice"
            tables = [a.split(":", 1)[1] for a in actions if a.startswith("dynamodb:")]
            if tables:
                reads = set(tables) & _DYNAMODB_READS
                if not reads:
                    verb = "Write"
                elif reads != set(tables):
                    verb = "ReadWrite"
                else:
                    verb = "Query" if reads == {"Query"} else "Read"
                granted = re.match(r"ReadWrite|Read|Write|Query", sid)
                assert granted and granted.group() == verb, f"{where}: {sid} grants {tables}"


# Each queue's own settings, as template.yaml passes them to infra/queue.yaml: visibility
# timeout, retention and receives before the dead-letter queue (None: the dead-letter queue alone)
QUEUES = {
    "Posting": (540, 1209600, 5),
    "Run": (540, 345600, 5),
    "ScheduledPosting": None,
    "ScheduleDelivery": None,  # the schedule target's DeadLetterConfig
    "Notification": (360, 345600, 5),
    "TaxCommit": (540, 1209600, 5),
}


def test_every_queue_with_its_dead_letter_queue_and_alarm_comes_from_the_one_pattern() -> None:
    from infra.template import ROOT, load_template, nested_stacks

    declared = load_template()["Resources"]
    # Then template.yaml itself declares no queue, and no alarm on a queue
    assert not [name for name, r in declared.items() if r["Type"] == "AWS::SQS::Queue"]
    assert not [
        name
        for name, r in declared.items()
        if r["Type"] == "AWS::CloudWatch::Alarm" and r["Properties"]["Namespace"] == "AWS/SQS"
    ]
    # every nested stack is infra/queue.yaml, and every queue is one of theirs
    stacks = nested_stacks()
    assert set(stacks) == set(QUEUES)
    assert {stack.path for stack in stacks.values()} == {ROOT / "infra" / "queue.yaml"}
    queues = resources("AWS::SQS::Queue")
    alarms = resources("AWS::CloudWatch::Alarm")
    expected_queues = set()
    for name, settings in QUEUES.items():
        dead_letter = f"{name}DeadLetterQueue"
        # each dead-letter queue encrypted, keeping messages 14 days
        assert queues[dead_letter]["Properties"] == {
            "MessageRetentionPeriod": 1209600,
            "SqsManagedSseEnabled": True,
        }
        # with an alarm on the alarm topic as soon as one message waits in it
        alarm = alarms[f"{name}DeadLetterAlarm"]["Properties"]
        assert alarm["Dimensions"] == [
            {"Name": "QueueName", "Value": {"Fn::GetAtt": [dead_letter, "QueueName"]}}
        ]
        assert (alarm["MetricName"], alarm["Statistic"], alarm["Threshold"]) == (
            "ApproximateNumberOfMessagesVisible",
            "Maximum",
            0,
        )
        assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]
        expected_queues.add(dead_letter)
        if settings is None:
            assert f"{name}Queue" not in queues
            continue
        # and each queue encrypted, redriving to its own dead-letter queue
        visibility, retention, receives = settings
        assert queues[f"{name}Queue"]["Properties"] == {
            "VisibilityTimeout": visibility,
            "MessageRetentionPeriod": retention,
            "SqsManagedSseEnabled": True,
            "RedrivePolicy": {
                "deadLetterTargetArn": {"Fn::GetAtt": [dead_letter, "Arn"]},
                "maxReceiveCount": receives,
            },
        }
        expected_queues.add(f"{name}Queue")
    assert set(queues) == expected_queues


def _get_atts(value: Any) -> list[tuple[str, str]]:
    """Every `!GetAtt X.Y` and `${X.Y}` (in a `!Sub`) under `value`."""
    import re

    found = []
    if isinstance(value, dict):
        if "Fn::GetAtt" in value:
            logical_id, attribute = value["Fn::GetAtt"]
            found.append((str(logical_id), str(attribute)))
        if "Fn::Sub" in value:
            text = value["Fn::Sub"][0] if isinstance(value["Fn::Sub"], list) else value["Fn::Sub"]
            for name in re.findall(r"\$\{([A-Za-z0-9]+)\.([A-Za-z0-9.]+)\}", str(text)):
                found.append((name[0], name[1]))
        for inner in value.values():
            found += _get_atts(inner)
    elif isinstance(value, list):
        for inner in value:
            found += _get_atts(inner)
    return found


def test_every_nested_stack_output_the_template_reads_exists() -> None:
    from infra.template import load_template

    outputs = [
        (logical_id, attribute)
        for logical_id, attribute in _get_atts(load_template())
        if attribute.startswith("Outputs.")
    ]
    assert len(outputs) >= 15  # the environment, the policies, the event sources, the outputs
    for logical_id, attribute in outputs:
        # Then each names an output of infra/queue.yaml that the stack has (raises otherwise)
        target, target_attribute = follow_outputs(logical_id, attribute)
        assert target.startswith(logical_id) and target_attribute in {"Ref", "Arn", "QueueName"}
