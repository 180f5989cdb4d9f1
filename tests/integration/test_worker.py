"""The posting worker on DynamoDB Local: overlap, crashes between steps, retries to the limit."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from background_posting.config import Settings
from background_posting.domain.documents import COMPLETE, IN_PROGRESS, READY_TO_POST, Document
from background_posting.domain.settings import BackgroundPostingSettings
from background_posting.services import background_service, posting, settings_service, worker
from background_posting.store import counters, document_store, ledger_store, log_groups, work_log
from background_posting.store import worker_items as item_store
from tests.support.clock import Clock
from tests.support.concurrency import race
from tests.support.scenario import ADMIN, given_company, given_document

FOREVER = lambda: 900.0  # noqa: E731 - an invocation with plenty of time left


class Died(BaseException):
    """A worker process killed at this point: no `except Exception` in our code sees it."""


def queued(count: int, **overrides: Any) -> list[Document]:
    """Documents sent to the background from a list view (Ready to Post, with worker items)."""
    made = [given_document(**overrides) for _ in range(count)]
    return background_service.post_from_list_view(ADMIN, [d.id for d in made])


def admins_group() -> str:
    """The worker log group of the (only) list-view submission in the test."""
    (group,) = log_groups.groups_of(ADMIN.user_id).groups
    return group.id


def status_of(document: Document) -> str:
    return document_store.get_document(document.id, with_lines=False).document.status


@pytest.fixture
def clock() -> Clock:
    """The workers' clock, which a test moves forward (e.g. past a dead worker's lease)."""
    return Clock()


def test_a_queued_document_is_posted_once_and_its_items_removed(local_store: Settings) -> None:
    given_company()
    (document,) = queued(1)
    assert status_of(document) == READY_TO_POST
    assert [i.action for i in item_store.items_of(document.id)] == ["post_document"]

    outcome = worker.process(worker.Message(None, document.id), "w1", FOREVER)

    assert outcome == "posted"
    assert status_of(document) == COMPLETE
    assert item_store.items_of(document.id) == []
    group = log_groups.get_group(admins_group())
    assert [e.outcome for e in group.entries] == ["posted"]


CRASH_POINTS = {
    "after reading the worker items": (item_store, "items_of"),
    "after reading the document": (document_store, "get_document"),
    "after building the transaction": (posting, "draft_for"),
    "after staging the lines": (ledger_store, "stage_lines"),
    "after the commit": (ledger_store, "commit_many"),
}


def test_a_worker_that_read_the_document_while_it_was_cancelled_still_posts_it_when_sent_back(
    local_store: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker reads the document while its submitter has it out of the background (In
    Progress), and the submitter sends it back before the worker reads its items: the item
    the worker finds is the new one, which the stale In Progress must not make it remove (the
    document would wait Ready to Post with no work queued, for ever)."""
    given_company()
    (document,) = queued(1)
    background_service.cancel_background(ADMIN, document.id)
    items_of = item_store.items_of

    def sent_back_first(document_id: str) -> list[Any]:
        monkeypatch.setattr(item_store, "items_of", items_of)
        background_service.post_from_list_view(ADMIN, [document_id])
        return items_of(document_id)

    monkeypatch.setattr(item_store, "items_of", sent_back_first)
    outcome = worker.process(worker.Message(None, document.id), "w1", FOREVER)

    assert (outcome, status_of(document)) == ("posted", COMPLETE)
    assert item_store.items_of(document.id) == []


@pytest.mark.parametrize("point", list(CRASH_POINTS))
def test_a_worker_dying_at_any_step_loses_nothing_and_posts_nothing_twice(
    point: str, local_store: Settings, monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> None:
    given_company()
    batch = queued(3)
    module, name = CRASH_POINTS[point]
    original = getattr(module, name)
    calls = itertools.count()

    def dies_after(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        if next(calls) == 0:
            raise Died(point)
        return result

    # Given a worker that dies at this point while holding the first document
    monkeypatch.setattr(module, name, dies_after)
    with pytest.raises(Died):
        worker.process(worker.Message(None, batch[0].id), "dead-worker", FOREVER, clock=clock)
    monkeypatch.setattr(module, name, original)

    # When, after its lease has expired, three workers process every document at once,
    # each message delivered twice
    clock.advance(3600)
    run, _ = work_log.create_run("run_now", "admin", None, None)
    messages = [worker.Message(run.id, d.id) for d in batch] * 2
    results = race(
        *(
            lambda m=m, n=n: worker.process(m, f"w{n}", FOREVER, clock=clock)
            for n, m in enumerate(messages)
        )
    )
    assert not [r for r in results if isinstance(r, Exception)], results

    # Then every document is Complete, with exactly one transaction, and no work remains
    assert [status_of(d) for d in batch] == [COMPLETE] * 3
    assert counters.current("ACME", "TRN") == 3
    numbers = {document_store.get_document(d.id).document.transaction_number for d in batch}
    assert numbers == {"TRN000001", "TRN000002", "TRN000003"}
    assert all(item_store.items_of(d.id) == [] for d in batch)
    counts = work_log.get_run(run.id).counts
    assert counts["posted"] == 3 - (point == "after the commit")
    assert counts["posted"] + counts["skipped"] == len(messages)


def test_a_failing_document_is_retried_then_returned_to_in_progress_with_every_error(
    local_store: Settings,
) -> None:
    given_company()
    # Given a document dated in a closed period whose tax code is unknown (two problems)
    (document,) = queued(1, document_date="2026-10-10")
    # When three runs try it (the default maximum attempts is 3)
    runs = [work_log.create_run("schedule", "scheduler", None, None)[0] for _ in range(3)]
    outcomes = [worker.process(worker.Message(r.id, document.id), "w", FOREVER) for r in runs]
    # Then it failed twice, then went back to In Progress without worker items
    assert outcomes == ["failed", "failed", "returned"]
    assert status_of(document) == IN_PROGRESS
    assert item_store.items_of(document.id) == []
    entries = log_groups.get_group(admins_group()).entries
    assert [e.outcome for e in entries] == ["failed", "failed", "failed", "returned_to_in_progress"]
    assert all("period_closed" in {e["code"] for e in entry.errors} for entry in entries[:3])
    assert [work_log.get_run(r.id).counts["failed"] for r in runs] == [1, 1, 0]
    assert work_log.get_run(runs[2].id).counts["returned"] == 1
    # And a fourth run finds nothing to do
    assert worker.process(worker.Message(None, document.id), "w", FOREVER) == "skipped"


def _fails(document: Document, times: int) -> list[str]:
    """`times` runs over the document, each one attempt; their outcomes."""
    runs = [work_log.create_run("schedule", "scheduler", None, None)[0] for _ in range(times)]
    return [worker.process(worker.Message(r.id, document.id), "w", FOREVER) for r in runs]


def test_a_lowered_maximum_reaches_work_already_queued_at_its_next_attempt(
    local_store: Settings,
) -> None:
    given_company()
    # Given a failing document queued while the maximum is 3, and one failed attempt
    (document,) = queued(1, document_date="2026-10-10")
    assert _fails(document, 1) == ["failed"]
    # When the administrator lowers the maximum to 2 (the source pages' remedy for a document
    # that keeps failing and notifying)
    settings_service.save_background_posting_settings(
        ADMIN, BackgroundPostingSettings(max_attempts=2)
    )
    # Then the queued item shows the maximum now in force, and its next failure is its last
    (item,) = background_service.worker_items(ADMIN, document.number)
    assert (item.attempts, item.max_attempts) == (1, 2)
    assert _fails(document, 1) == ["returned"]
    assert status_of(document) == IN_PROGRESS
    returned = log_groups.get_group(admins_group()).entries[-1]
    assert "failed 2 times" in returned.errors[0]["message"]


def test_a_raised_maximum_gives_work_already_queued_more_attempts(local_store: Settings) -> None:
    given_company()
    settings_service.save_background_posting_settings(
        ADMIN, BackgroundPostingSettings(max_attempts=2)
    )
    # Given a failing document queued while the maximum is 2, and one failed attempt
    (document,) = queued(1, document_date="2026-10-10")
    assert _fails(document, 1) == ["failed"]
    # When the maximum is raised to 4
    settings_service.save_background_posting_settings(
        ADMIN, BackgroundPostingSettings(max_attempts=4)
    )
    # Then it is tried until its fourth attempt, not returned at its second
    assert _fails(document, 3) == ["failed", "failed", "returned"]
    returned = log_groups.get_group(admins_group()).entries[-1]
    assert "failed 4 times" in returned.errors[0]["message"]


def test_a_write_dynamodb_refuses_every_time_counts_an_attempt_with_its_message(
    local_store: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    given_company()
    (document,) = queued(1)
    # Given a posting whose transaction header DynamoDB refuses each time (over 400 KB)
    header_body = posting._header_body
    monkeypatch.setattr(
        posting,
        "_header_body",
        lambda *args: header_body(*args) | {"padding": "x" * 450_000},
    )
    # When the worker tries it
    outcome = worker.process(worker.Message(None, document.id), "w1", FOREVER)
    # Then the attempt counts, with DynamoDB's refusal in the log, and nothing is posted
    assert outcome == "failed"
    assert status_of(document) == READY_TO_POST
    (item,) = item_store.items_of(document.id)
    assert item.attempts == 1 and "DynamoDB refused" in (item.last_error or "")
    (entry,) = log_groups.get_group(admins_group()).entries
    assert entry.outcome == "failed" and entry.attempt == 1
    assert [e["code"] for e in entry.errors] == ["store_refused"]
    assert "DynamoDB refused" in entry.errors[0]["message"]
    assert counters.current("ACME", "TRN") == 0
