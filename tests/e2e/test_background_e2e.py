"""End to end: a backlog posted by Run Now, and a schedule that fires by itself (local stack)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.support.api import http
from tests.support.http_steps import finished, given_company, given_documents
from tests.support.stack import RunningStack, start_stack
from tests.support.waiting import DEADLINE, eventually


def statuses(url: str, documents: list[dict[str, Any]]) -> list[str]:
    return [http(url, "GET", f"/documents/{d['id']}", "clerk").body["status"] for d in documents]


def test_a_backlog_of_every_type_posts_from_run_now(stack: RunningStack) -> None:
    company = given_company(stack.url)
    backlog = given_documents(stack.url, company, per_type=4)
    queued = http(
        stack.url, "POST", "/documents/post", "clerk", {"ids": [d["id"] for d in backlog]}
    )
    assert queued.status == 202
    assert set(statuses(stack.url, backlog)) == {"Ready to Post"}

    run = http(stack.url, "POST", "/scheduler/run", "runner")
    assert run.status == 202
    eventually(lambda: set(statuses(stack.url, backlog)) == {"Complete"})

    numbers = [
        http(stack.url, "GET", f"/documents/{d['id']}/transaction", "clerk").body["number"]
        for d in backlog
    ]
    assert len(set(numbers)) == len(backlog)
    final = eventually(lambda: finished(stack.url, run.body["run_id"]))
    assert final["counts"]["posted"] >= len(backlog)


def test_a_failing_document_returns_to_in_progress_after_its_attempts(stack: RunningStack) -> None:
    company = given_company(stack.url)
    (bad,) = [d for d in given_documents(stack.url, company, per_type=1) if d["type"] == "journal"]
    # A journal that does not balance cannot post; two attempts allowed
    http(
        stack.url,
        "PATCH",
        f"/documents/{bad['id']}",
        "clerk",
        {
            "lines": [
                {"gl_account": "6000", "value": "10.00"},
                {"gl_account": "2400", "value": "-9.00"},
            ]
        },
    )
    http(stack.url, "PUT", "/settings/background-posting", "admin", {"max_attempts": 2})
    try:
        http(stack.url, "POST", "/documents/post", "clerk", {"ids": [bad["id"]]})
        for _ in range(2):
            run = http(stack.url, "POST", "/scheduler/run", "runner").body["run_id"]
            eventually(lambda run=run: finished(stack.url, run))
        assert statuses(stack.url, [bad]) == ["In Progress"]
        items = http(stack.url, "GET", f"/worker-items?reference={bad['number']}", "clerk").body
        assert items["worker_items"] == []
        groups = http(stack.url, "GET", "/worker-log-groups", "clerk").body["worker_log_groups"]
        entries = [
            e
            for g in groups
            for e in http(stack.url, "GET", f"/worker-log-groups/{g['id']}", "clerk").body[
                "entries"
            ]
            if e["reference"] == bad["number"]
        ]
        assert [e["outcome"] for e in entries].count("failed") == 2
        assert any("journal_unbalanced" in {x["code"] for x in e["errors"]} for e in entries)
    finally:
        http(stack.url, "PUT", "/settings/background-posting", "admin", {"max_attempts": 3})


@pytest.fixture
def own_stack(tmp_path: Path) -> Iterator[RunningStack]:
    """A stack of its own, so that no other test's Run Now posts this test's document."""
    running = start_stack(tmp_path / "dynamodb", tmp_path / "stack.log")
    yield running
    running.stop()


def test_a_schedule_due_within_a_minute_posts_a_queued_document_by_itself(
    own_stack: RunningStack,
) -> None:
    url = own_stack.url
    company = given_company(url)
    (document,) = [
        d for d in given_documents(url, company, per_type=1) if d["type"] == "sales_invoice"
    ]
    assert http(url, "POST", "/documents/post", "clerk", {"ids": [document["id"]]}).status == 202

    # Due at the start of a minute 70 to 130 s from now: the request that sets it has 70 s
    due = datetime.now(UTC) + timedelta(seconds=130)
    answer = http(
        url,
        "PUT",
        "/scheduler",
        "admin",
        {
            "frequency": "hourly",
            "every_hours": 1,
            "start_offset_minutes": due.minute,
            "timezone": "UTC",
        },
    )
    assert answer.status == 200, answer.body
    assert answer.body["next_run"].startswith(due.strftime("%Y-%m-%dT%H:%M"))

    eventually(lambda: statuses(url, [document]) == ["Complete"], 130 + DEADLINE, every=2)
    groups = http(url, "GET", "/worker-log-groups", "clerk").body["worker_log_groups"]
    entries = http(url, "GET", f"/worker-log-groups/{groups[0]['id']}", "clerk").body["entries"]
    assert [e["outcome"] for e in entries] == ["posted"]
    assert entries[0]["run_id"].startswith("scheduled-")


def test_two_runs_started_together_both_finish_and_their_counts_add_up(
    stack: RunningStack,
) -> None:
    # Given a backlog queued for the background (issue 31, item 10: a tryout saw one of two
    # overlapping runs still `processing` with 1,941 of 2,003 done when the other had finished)
    company = given_company(stack.url)
    backlog = given_documents(stack.url, company, per_type=12)
    ids = [d["id"] for d in backlog]
    assert http(stack.url, "POST", "/documents/post", "clerk", {"ids": ids}).status == 202
    # When two runs start at the same moment, their workers racing for the same documents
    runs = [http(stack.url, "POST", "/scheduler/run", "runner").body["run_id"] for _ in range(2)]
    # Then both finish: every message each run queued was counted processed for it, by
    # whichever worker took it (a document the other run posted counts as nothing to do)
    finals = [eventually(lambda run_id=run_id: finished(stack.url, run_id)) for run_id in runs]
    for final in finals:
        assert final["counts"]["processed"] == final["counts"]["queued"], final
    assert sum(f["counts"].get("posted", 0) for f in finals) >= len(backlog)
    # And every document is posted once: one transaction number each, gap-free per company
    assert set(statuses(stack.url, backlog)) == {"Complete"}
    numbers = [
        http(stack.url, "GET", f"/documents/{i}/transaction", "clerk").body["number"] for i in ids
    ]
    assert len(set(numbers)) == len(ids)
