"""template.yaml: handlers import, and each function's IAM policy is exactly what its code uses."""

from __future__ import annotations

from typing import Any

import pytest

from background_posting.config import Settings
from background_posting.store import documents as document_store
from background_posting.store import ledger as ledger_store
from infra.lambda_runtime import LocalFunction
from infra.resources import queue_name, table_names
from infra.template import functions, parameter_defaults, resources
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
    monkeypatch.setattr(document_store, "LINES_PER_CHUNK", 1)
    monkeypatch.setattr(ledger_store, "LINES_PER_CHUNK", 1)
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
    # Given the template's redrive policies of the worker queues
    from background_posting.handlers.worker_queue import MAX_RECEIVES
    from infra.template import load_template

    resources = load_template()["Resources"]
    for queue in ("PostingQueue", "TaxCommitQueue"):
        policy = resources[queue]["Properties"]["RedrivePolicy"]
        # Then the handler counts a message abandoned on the same receive SQS gives up on
        assert int(policy["maxReceiveCount"]) == MAX_RECEIVES, queue
