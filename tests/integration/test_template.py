"""template.yaml: handlers import, and each function's IAM policy is exactly what its code uses."""

from __future__ import annotations

from typing import Any

import pytest

from background_posting.config import Settings
from background_posting.store import chunks
from infra.lambda_runtime import LocalFunction
from infra.resources import queue_name, table_names
from infra.template import follow_outputs, functions, parameter_defaults, resources
from tests.conftest import PAGE_TOKEN_SECRET
from tests.support.cold_start import cold_start, deployed_environment
from tests.support.flows import payables_day, upgrade_day, working_day
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
    # the page token key: the secret the tests create, granted by `!Ref PageTokenSecret`
    secrets = {"PageTokenSecret": f"secret:{PAGE_TOKEN_SECRET}"}
    return table_names(prefix) | queues | identity | secrets


@pytest.mark.parametrize(
    "function",
    [
        "ApiFunction",
        "ScheduledPostingFunction",
        "PostingWorkerFunction",
        "NotificationFunction",
        "TaxCommitFunction",
        "MigrationFunction",
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
        upgrade_day()
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
    "Posting": (540, 604800, 5),
    "Run": (540, 345600, 5),
    "ScheduledPosting": None,
    "ScheduleDelivery": None,  # the schedule target's DeadLetterConfig
    "Notification": (360, 345600, 5),
    "TaxCommit": (540, 604800, 5),
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


# ---------------------------------------------------------------------------
# Every asynchronous path ends in a dead-letter queue and an alarm that reaches a person
# ---------------------------------------------------------------------------

# Event sources whose invocations are asynchronous (Lambda retries them, then dead-letters)
_ASYNC_EVENTS = {"Schedule", "ScheduleV2", "EventBridgeRule", "CloudWatchEvent", "SNS", "S3"}


def _named(value: Any) -> str | None:
    """The resource an ARN, URL or name in the template is (`!Ref X`, `!GetAtt X.Arn`,
    `!GetAtt Stack.Outputs.QueueArn` followed into the nested stack); None for a literal."""
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        logical_id, attribute = value["Fn::GetAtt"]
        return follow_outputs(str(logical_id), str(attribute))[0]
    if (
        isinstance(value, dict)
        and set(value) == {"Ref"}
        and not str(value["Ref"]).startswith("AWS")
    ):
        return str(value["Ref"])
    return None


def _alarmed(
    template: dict[str, Any], namespace: str, metric: str, dimension: str, target: str
) -> bool:
    """Whether an alarm watches `metric` of the resource `target` (by its `dimension`)."""
    for resource in template.values():
        if resource.get("Type") != "AWS::CloudWatch::Alarm":
            continue
        alarm = resource["Properties"]
        if (alarm.get("Namespace"), alarm.get("MetricName")) != (namespace, metric):
            continue
        if any(
            d.get("Name") == dimension and _named(d.get("Value")) == target
            for d in alarm.get("Dimensions", [])
        ):
            return True
    return False


def _dead_letter_problems(template: dict[str, Any], path: str, queue: str | None) -> list[str]:
    """A dead-letter queue: declared, and alarmed as soon as a message waits in it."""
    if queue is None or template.get(queue, {}).get("Type") != "AWS::SQS::Queue":
        return [f"{path}: no dead-letter queue"]
    if not _alarmed(template, "AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", queue):
        return [f"{path}: its dead-letter queue {queue} has no alarm"]
    return []


def _function_problems(template: dict[str, Any], path: str, function: str) -> list[str]:
    return [
        f"{path}: no {metric} alarm on {function}"
        for metric in ("Errors", "Throttles")
        if not _alarmed(template, "AWS/Lambda", metric, "FunctionName", function)
    ]


def _async_path_problems(template: dict[str, Any]) -> list[str]:
    """What is missing on the asynchronous paths of `template` (every resource, the nested
    stacks' among them, as `all_resources()` gives them): each SQS event source's queue
    redrives to an alarmed dead-letter queue and its age is alarmed; each function invoked
    asynchronously (an async event source, a schedule's target, a role allowed to invoke it)
    has an alarmed dead-letter queue or on-failure destination; each schedule (declared, or
    created by a function from its environment) has an alarmed DeadLetterConfig and alarms on
    its group's dropped invocations and target errors; each consumer has errors and throttles
    alarms; every alarm has an action, and each action is a topic someone is subscribed to."""
    problems: list[str] = []
    kinds = {name: r.get("Type") for name, r in template.items()}
    functions_ = {n: r for n, r in template.items() if kinds[n] == "AWS::Serverless::Function"}
    invoked_async: dict[str, str] = {}  # function -> the path that invokes it

    for name, function in functions_.items():
        properties = function.get("Properties", {})
        for event_name, event in (properties.get("Events") or {}).items():
            path = f"{name}.Events.{event_name}"
            if event.get("Type") == "SQS":
                queue = _named(event["Properties"]["Queue"])
                if queue is None or kinds.get(queue) != "AWS::SQS::Queue":
                    problems.append(f"{path}: its queue is not the template's")
                    continue
                redrive = template[queue].get("Properties", {}).get("RedrivePolicy") or {}
                problems += _dead_letter_problems(
                    template, path, _named(redrive.get("deadLetterTargetArn"))
                )
                if not _alarmed(
                    template, "AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", queue
                ):
                    problems.append(f"{path}: no alarm on the age of {queue}'s oldest message")
                problems += _function_problems(template, path, name)
            elif event.get("Type") in _ASYNC_EVENTS:
                invoked_async[name] = path
        variables = (properties.get("Environment") or {}).get("Variables") or {}
        if "SCHEDULE_TARGET_ARN" in variables:  # the schedules this function creates
            path = f"{name}'s schedules"
            target = _named(variables["SCHEDULE_TARGET_ARN"])
            if target is not None:
                invoked_async[target] = path
            dead_letter = _named(variables.get("SCHEDULE_DEAD_LETTER_ARN"))
            problems += _dead_letter_problems(template, path, dead_letter)
            role = _named(variables.get("SCHEDULER_ROLE_ARN"))
            granted = [
                _named(resource)
                for _, statements in _policy_documents(template.get(role or "", {}), path)
                for statement in statements
                if "sqs:SendMessage" in statement.get("Action", [])
                for resource in statement.get("Resource", [])
            ]
            if dead_letter is not None and dead_letter not in granted:
                problems.append(f"{path}: the role {role} may not send to {dead_letter}")
            group = _named(variables.get("SCHEDULE_GROUP"))
            for metric in ("InvocationDroppedCount", "TargetErrorCount"):
                if group is None or not _alarmed(
                    template, "AWS/Scheduler", metric, "ScheduleGroup", group
                ):
                    problems.append(f"{path}: no {metric} alarm on the schedule group")

    for name, resource in template.items():
        if kinds[name] == "AWS::Scheduler::Schedule":
            target = resource["Properties"]["Target"]
            path = f"{name}.Target"
            if _named(target.get("Arn")) in functions_:
                invoked_async[str(_named(target["Arn"]))] = path
            dead_letter = _named((target.get("DeadLetterConfig") or {}).get("Arn"))
            problems += _dead_letter_problems(template, path, dead_letter)
        # a role that may invoke a function (EventBridge Scheduler's, a rule's): asynchronous
        for where, statements in _policy_documents(resource, name):
            for statement in statements:
                actions = statement.get("Action", [])
                if "lambda:InvokeFunction" in (actions if isinstance(actions, list) else [actions]):
                    for invoked in map(_named, statement.get("Resource", [])):
                        if invoked in functions_:
                            invoked_async.setdefault(invoked, f"{where} invokes it")

    for name, path in sorted(invoked_async.items()):
        properties = functions_[name].get("Properties", {})
        on_failure = (
            (properties.get("EventInvokeConfig") or {})
            .get("DestinationConfig", {})
            .get("OnFailure")
        )
        dead_letter = _named((properties.get("DeadLetterQueue") or {}).get("TargetArn"))
        if on_failure and dead_letter is None:
            dead_letter = _named(on_failure.get("Destination"))
        problems += _dead_letter_problems(template, f"{name} (async: {path})", dead_letter)
        problems += _function_problems(template, f"{name} (async: {path})", name)

    subscribed = {
        _named(r["Properties"].get("TopicArn"))
        for r in template.values()
        if r.get("Type") == "AWS::SNS::Subscription"
    }
    for name, resource in template.items():
        if kinds[name] != "AWS::CloudWatch::Alarm":
            continue
        actions = resource["Properties"].get("AlarmActions") or []
        if not actions:
            problems.append(f"{name}: no AlarmActions")
        for action in actions:
            topic = _named(action)
            if kinds.get(topic or "") != "AWS::SNS::Topic":
                problems.append(f"{name}: its action {action!r} is not the template's topic")
            elif topic not in subscribed:
                problems.append(f"{name}: nobody is subscribed to {topic}")
    return problems


def test_every_asynchronous_path_has_an_alarmed_dead_letter_queue() -> None:
    from infra.template import all_resources

    # Given the template's resources, the nested queue stacks' among them
    template = all_resources()
    # Then nothing is missing
    assert _async_path_problems(template) == []
    # on paths that exist (the check is not vacuous: the mutations below each fail it)
    assert len([r for r in template.values() if r["Type"] == "AWS::CloudWatch::Alarm"]) >= 25


def _without(name: str, *keys: str) -> Any:
    """A mutation removing the resource `name`, or the property at `keys` under it."""

    def mutate(template: dict[str, Any]) -> None:
        if not keys:
            del template[name]
            return
        value = template[name]
        for key in keys[:-1]:
            value = value[key]
        del value[keys[-1]]

    return mutate


def _add(name: str, resource: dict[str, Any]) -> Any:
    def mutate(template: dict[str, Any]) -> None:
        template[name] = resource

    return mutate


def _add_event(function: str, event: dict[str, Any]) -> Any:
    def mutate(template: dict[str, Any]) -> None:
        template[function]["Properties"]["Events"]["Extra"] = event

    return mutate


_SCHEDULE = {
    "Type": "AWS::Scheduler::Schedule",
    "Properties": {
        "ScheduleExpression": "rate(1 hour)",
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "Target": {
            "Arn": {"Fn::GetAtt": ["NotificationFunction", "Arn"]},
            "RoleArn": {"Fn::GetAtt": ["SchedulerRole", "Arn"]},
        },
    },
}


@pytest.mark.parametrize(
    ("mutation", "problem"),
    [
        (
            _without("PostingDeadLetterAlarm"),
            "PostingWorkerFunction.Events.Documents: its dead-letter queue"
            " PostingDeadLetterQueue has no alarm",
        ),
        (
            _without("TaxCommitQueue", "Properties", "RedrivePolicy"),
            "TaxCommitFunction.Events.DueCommits: no dead-letter queue",
        ),
        (
            _without("NotificationQueueAgeAlarm"),
            "NotificationFunction.Events.FinishedRuns: no alarm on the age of NotificationQueue",
        ),
        (
            _without("PostingWorkerFunctionThrottlesAlarm"),
            "PostingWorkerFunction.Events.Documents: no Throttles alarm on PostingWorkerFunction",
        ),
        (
            _without("ScheduledPostingFunction", "Properties", "DeadLetterQueue"),
            "ScheduledPostingFunction (async: ApiFunction's schedules): no dead-letter queue",
        ),
        (
            _without("ScheduledPostingDeadLetterAlarm"),
            "ScheduledPostingFunction (async: ApiFunction's schedules): its dead-letter queue"
            " ScheduledPostingDeadLetterQueue has no alarm",
        ),
        (
            _without(
                "ApiFunction", "Properties", "Environment", "Variables", "SCHEDULE_DEAD_LETTER_ARN"
            ),
            "ApiFunction's schedules: no dead-letter queue",
        ),
        (
            _without(
                "SchedulerRole", "Properties", "Policies", 0, "PolicyDocument", "Statement", 1
            ),
            "ApiFunction's schedules: the role SchedulerRole may not send to"
            " ScheduleDeliveryDeadLetterQueue",
        ),
        (
            _without("ScheduleInvocationDroppedAlarm"),
            "ApiFunction's schedules: no InvocationDroppedCount alarm on the schedule group",
        ),
        (
            _without("ScheduleTargetErrorAlarm"),
            "ApiFunction's schedules: no TargetErrorCount alarm on the schedule group",
        ),
        (_add("ExtraSchedule", _SCHEDULE), "ExtraSchedule.Target: no dead-letter queue"),
        (
            _add("ExtraSchedule", _SCHEDULE),
            "NotificationFunction (async: ExtraSchedule.Target): no dead-letter queue",
        ),
        (
            _add_event("TaxCommitFunction", {"Type": "ScheduleV2", "Properties": {}}),
            "TaxCommitFunction (async: TaxCommitFunction.Events.Extra): no dead-letter queue",
        ),
        (_without("Api5xxAlarm", "Properties", "AlarmActions"), "Api5xxAlarm: no AlarmActions"),
        (
            _without("AlarmEmailSubscription"),
            "OldestDueWorkerItemAlarm: nobody is subscribed to AlarmTopic",
        ),
    ],
)
def test_the_async_path_check_fails_on_a_template_missing_a_piece(
    mutation: Any, problem: str
) -> None:
    import copy

    from infra.template import all_resources

    # Given the template with one piece of an asynchronous path or of an alarm removed
    template = copy.deepcopy(all_resources())
    mutation(template)
    # Then the check names what is missing
    problems = _async_path_problems(template)
    assert [p for p in problems if p.startswith(problem)], problems


# ---------------------------------------------------------------------------
# State that survives a stack change
# ---------------------------------------------------------------------------


def test_every_table_and_the_user_pool_survive_deleting_or_replacing_the_stack() -> None:
    from infra.template import load_template

    declared = load_template()["Resources"]
    stateful = {
        name: resource
        for name, resource in declared.items()
        if resource["Type"] in {"AWS::DynamoDB::Table", "AWS::Cognito::UserPool"}
    }
    assert len(stateful) == 1 + len(resources("AWS::DynamoDB::Table")) >= 9
    for name, resource in stateful.items():
        # Then CloudFormation keeps each when the stack is deleted or the resource replaced
        assert resource.get("DeletionPolicy") == "Retain", name
        assert resource.get("UpdateReplacePolicy") == "Retain", name
        # and nobody deletes it by hand without first turning its protection off
        properties = resource["Properties"]
        if resource["Type"] == "AWS::DynamoDB::Table":
            assert properties.get("DeletionProtectionEnabled") is True, name
            # with point-in-time recovery (the idempotency table's 24-hour records excepted,
            # with the reason its checkov skip gives)
            recovery = properties.get("PointInTimeRecoverySpecification", {})
            if name == "IdempotencyTable":
                skips = resource["Metadata"]["checkov"]["skip"]
                assert [skip["id"] for skip in skips] == ["CKV_AWS_28"]
            else:
                assert recovery == {"PointInTimeRecoveryEnabled": True}, name
        else:
            assert properties.get("DeletionProtection") == "ACTIVE", name


def test_every_dead_letter_queue_keeps_a_message_longer_than_its_queue() -> None:
    from infra.template import nested_stacks

    queues = resources("AWS::SQS::Queue")
    redriven = {name: q for name, q in queues.items() if "RedrivePolicy" in q["Properties"]}
    assert len(redriven) == 4
    for name, queue in redriven.items():
        dead_letter = _named(queue["Properties"]["RedrivePolicy"]["deadLetterTargetArn"])
        assert dead_letter in queues, name
        kept = int(queue["Properties"]["MessageRetentionPeriod"])
        kept_dead = int(queues[dead_letter]["Properties"]["MessageRetentionPeriod"])
        # Then a message dead-lettered just before its queue would drop it (SQS ages it from
        # its first send) still waits in the dead-letter queue for at least two days
        assert kept_dead - kept >= 2 * 86400, (name, kept, dead_letter, kept_dead)
    # And the queue pattern refuses a retention that would not leave that margin
    for stack in nested_stacks().values():
        limit = stack.template["Parameters"]["MessageRetentionPeriod"]["MaxValue"]
        dead = stack.template["Resources"]["DeadLetterQueue"]["Properties"]
        assert dead["MessageRetentionPeriod"] - limit >= 2 * 86400


def test_the_posting_worker_and_tax_commit_have_a_maximum_concurrency_from_a_parameter() -> None:
    import math

    from bench import scale
    from infra.template import load_template

    declared = load_template()
    parameters = declared["Parameters"]
    functions_ = declared["Resources"]
    for function, event, parameter in [
        ("PostingWorkerFunction", "Documents", "PostingWorkerMaximumConcurrency"),
        ("TaxCommitFunction", "DueCommits", "TaxCommitMaximumConcurrency"),
    ]:
        source = functions_[function]["Properties"]["Events"][event]
        # Then SQS scales each function up to a parameter's value, not the account's limit
        assert source["Type"] == "SQS"
        assert source["Properties"]["ScalingConfig"] == {"MaximumConcurrency": {"Ref": parameter}}
        # within what Lambda accepts for an SQS event source, with a default
        spec = parameters[parameter]
        assert (spec["Type"], spec["MinValue"], spec["MaxValue"]) == ("Number", 2, 1000)
        assert 2 <= spec["Default"] <= 1000
    # And the worker's default is what the model of docs/at-scale.md sizes: enough workers for
    # one company's numbering limit, and no more than the tables' write quota takes
    model = scale.model(1_000_000, [1, 100], scale.RESULTS)
    per_worker = 1000 / (
        model["inputs"]["cpu_ms_per_document"]
        + model["inputs"]["requests_per_document"] * model["inputs"]["read_latency_ms"]
        + model["inputs"]["commit_latency_ms"] / model["documents_per_commit_built"]
    )
    default = parameters["PostingWorkerMaximumConcurrency"]["Default"]
    one_company = model["company_limit_batched"]["numbering"]
    table = model["drains_batched"][1]["limits_docs_per_s"]["table_writes"]
    assert math.ceil(one_company / per_worker) <= default <= math.ceil(table / per_worker)
    assert model["inputs"]["lambda_concurrency"] == default  # the model drains with it


# ---------------------------------------------------------------------------
# Identity fit for production
# ---------------------------------------------------------------------------


def test_the_user_pool_has_no_self_sign_up_requires_mfa_and_mails_through_ses() -> None:
    from infra.template import load_template

    declared = load_template()
    pool = declared["Resources"]["UserPool"]["Properties"]
    # Then only an administrator creates users
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    # every user signs in with a second factor, an authenticator app (no SMS: no SNS role)
    assert pool["MfaConfiguration"] == "ON"  # the string: YAML reads a bare ON as True
    assert pool["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]
    assert pool["Policies"]["PasswordPolicy"]["MinimumLength"] >= 12
    # invitations and resets go through SES, from the identity the notifications use
    assert pool["EmailConfiguration"] == {
        "EmailSendingAccount": "DEVELOPER",
        "SourceArn": {
            "Fn::Sub": "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}"
            ":identity/${SesIdentity}"
        },
        "From": {"Ref": "SesFromAddress"},
    }
    assert {"SesIdentity", "SesFromAddress"} <= set(declared["Parameters"])
    # And the app client's tokens have set lifetimes: an hour, refreshed for 12 hours
    client = declared["Resources"]["UserPoolClient"]["Properties"]
    units = {"minutes": 60, "hours": 3600, "days": 86400}
    lifetimes = {
        token: client[f"{token}Validity"] * units[client["TokenValidityUnits"][token]]
        for token in ("IdToken", "AccessToken", "RefreshToken")
    }
    assert lifetimes == {"IdToken": 3600, "AccessToken": 3600, "RefreshToken": 12 * 3600}
    assert client["EnableTokenRevocation"] is True
    assert client["GenerateSecret"] is False  # a browser client (PKCE) cannot keep one
    assert client["PreventUserExistenceErrors"] == "ENABLED"
