"""Each run publishes the age of the oldest due worker item it saw (OldestDueWorkerItemAlarm)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from background_posting.config import Settings
from background_posting.store import worker_items as item_store
from tests.support.api import invoke_api
from tests.support.data import account_body, company_body, document_body
from tests.support.queues import Drain


def _published(out: str, name: str) -> list[float]:
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    values: list[float] = []
    for line in lines:
        if "_aws" in line and name in line:
            value = line[name]
            values += value if isinstance(value, list) else [value]
    return values


def test_a_run_publishes_how_long_its_oldest_due_worker_item_has_waited(
    api: Any, aws: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    drain = Drain(aws, {})
    invoke_api(api, "POST", "/companies", "admin", company_body("ACME"))
    invoke_api(api, "POST", "/accounts", "admin", account_body("CUST01"))
    # Given a posted invoice whose worker items have waited an hour (created an hour ago)
    made = invoke_api(api, "POST", "/documents", "clerk", document_body()).body
    assert invoke_api(api, "POST", "/documents/post", "clerk", {"ids": [made["id"]]}).status == 202
    records = list(item_store.WorkerItemRecord.query(f"DOC#{made['id']}"))
    assert records
    for record in records:
        record.update(
            actions=[item_store.WorkerItemRecord.created_at.set("2026-01-01T00:00:00+00:00")]
        )
    capsys.readouterr()
    # When Run Now's run scans the due work
    assert invoke_api(api, "POST", "/scheduler/run", "runner").status == 202
    assert drain.once("RunQueue")
    # Then it published the oldest due item's age, in seconds
    (age,) = _published(capsys.readouterr().out, "OldestDueWorkerItemAgeSeconds")
    assert age > 3600


def test_a_run_with_nothing_due_publishes_zero(
    api: Any, aws: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    drain = Drain(aws, {})
    invoke_api(api, "POST", "/companies", "admin", company_body("ACME"))
    assert invoke_api(api, "POST", "/scheduler/run", "runner").status == 202
    capsys.readouterr()
    assert drain.once("RunQueue")
    assert _published(capsys.readouterr().out, "OldestDueWorkerItemAgeSeconds") == [0]
