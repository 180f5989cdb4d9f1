"""The store's own guarantees, whatever its callers read: DynamoDB Local, real threads.

"Posted at most once" lives in the commit's condition (a postable status and the version
read), not in the callers' checks; the transaction's cancellation reasons are read item by
item; a lost response retried with the same ClientRequestToken is the success it was.
"""

from __future__ import annotations

import time

import pytest

from background_posting.config import Settings
from background_posting.domain.documents import COMPLETE, Document
from background_posting.domain.errors import Conflict, ValidationFailed
from background_posting.domain.work import LogEntry
from background_posting.services import posting, worker
from background_posting.store import accounts as account_store
from background_posting.store import companies as company_store
from background_posting.store import counters, document_store, history, log_groups, work_log
from background_posting.store import reference as reference_store
from background_posting.store import worker_items as item_store
from background_posting.store.writes import StoreRefused, transact
from tests.support.concurrency import race
from tests.support.scenario import ADMIN, given_company, given_document


def read(document: Document) -> Document:
    return document_store.get_document(document.id).document


def test_a_stale_read_of_a_posted_document_cannot_post_it_again(local_store: Settings) -> None:
    # Given a document posted once, and read again afterwards (Complete, one version on)
    given_company()
    document = given_document()
    posting.post_now(read(document), "clerk")
    stale = read(document)
    assert stale.status == COMPLETE
    # When the store is asked to post that read, which is at the current version
    with pytest.raises(Conflict) as refused:
        posting.post_now(stale, "clerk")
    # Then it refuses, and there is still one transaction
    assert refused.value.code == "document_already_posted"
    assert counters.current("ACME", "TRN") == 1


def test_sixteen_threads_posting_reads_taken_at_any_moment_make_one_transaction(
    local_store: Settings,
) -> None:
    # Given documents posted by 16 threads that each read the document just before posting
    # (some read it In Progress, some read it already Complete)
    given_company()
    batch = [given_document() for _ in range(5)]
    for document in batch:
        results = race(*(lambda d=document: posting.post_now(read(d), "clerk") for _ in range(16)))
        posted = [r for r in results if isinstance(r, Document)]
        refused = [r for r in results if isinstance(r, Conflict)]
        # Then exactly one posting of each document committed; every other was refused
        assert len(posted) == 1, results
        assert len(refused) == 15, results
    assert counters.current("ACME", "TRN") == len(batch)
    assert sorted(read(d).transaction_number or "" for d in batch) == [
        f"TRN{n:06d}" for n in range(1, len(batch) + 1)
    ]


def test_a_commit_for_a_run_with_no_record_is_refused_at_once_by_name(
    local_store: Settings,
) -> None:
    # Given a posting whose commit also counts a run that has no record
    given_company()
    document = given_document()
    started = time.monotonic()
    # When it commits
    with pytest.raises(work_log.RunMissing):
        posting.post_now(read(document), "clerk", [work_log.counted("no-such-run", "posted")])
    # Then it was refused by that item's condition, at once (no retries), and nothing posted
    assert time.monotonic() - started < 10
    assert read(document).status == "In Progress"
    assert counters.current("ACME", "TRN") == 0


def test_a_request_repeated_with_its_token_is_answered_as_the_success_it_was(
    local_store: Settings,
) -> None:
    # Given a transaction that may only happen once (a worker log group that must not exist)
    group_id, created = log_groups.group_created("clerk", "clerk@example.com", "Once", ["ACME"])
    transact([created], token="group-" + group_id[:20])
    # When the same request is sent again with the same token (a response lost, retried)
    transact([created], token="group-" + group_id[:20])
    # Then it succeeds, and nothing was written twice
    assert log_groups.get_group(group_id).title == "Once"
    # While the same request without the token is refused by its condition
    with pytest.raises(Conflict):
        transact([created])


def test_a_write_dynamodb_refuses_as_malformed_is_not_transient(local_store: Settings) -> None:
    # Given an item over DynamoDB's 400 KB item limit
    group_id, _ = log_groups.group_created("clerk", "clerk@example.com", "Big", ["ACME"])
    huge = log_groups.entry_added(
        group_id,
        LogEntry(
            at="2026-12-01T09:00:00+00:00",
            document_id="d",
            reference="SIN000001",
            document_type="sales_invoice",
            action="post_document",
            outcome="failed",
            errors=[{"code": "x", "message": "x" * 500_000}],
            run_id=None,
            attempt=1,
        ),
    )
    # Then DynamoDB's refusal is raised as a named domain error (counted as an attempt)
    with pytest.raises(StoreRefused):
        transact([huge])


def test_a_failed_attempt_made_by_two_overlapping_workers_counts_once(
    local_store: Settings,
) -> None:
    # Given a queued document that cannot post (its period is closed)
    given_company()
    from background_posting.services import background_service

    made = given_document(document_date="2020-01-15")
    (queued,) = background_service.post_from_list_view(ADMIN, [made.id])
    # When four workers try it at the same moment
    results = race(
        *(
            lambda n=n: worker.process(worker.Message(None, queued.id), f"w{n}", lambda: 900.0)
            for n in range(4)
        )
    )
    # Then no attempt was counted twice: each failure a worker reports is one attempt, with
    # one log entry, numbered in turn (a worker that read the item after another's failure
    # makes the next attempt; one that read it at the same moment counts nothing)
    outcomes = sorted(map(str, results))
    tried = outcomes.count("failed") + outcomes.count("returned")
    assert tried >= 1, results
    (group,) = log_groups.groups_of(ADMIN.user_id).groups
    failures = [e for e in log_groups.get_group(group.id).entries if e.outcome == "failed"]
    assert len(failures) == tried
    assert sorted(e.attempt for e in failures) == list(range(1, tried + 1))
    remaining = item_store.items_of(queued.id)
    assert [i.attempts for i in remaining] == ([] if "returned" in outcomes else [tried])


def _close_periods(company_id: str) -> None:
    """An administrator closes every period of the company (nothing is posted in it yet)."""
    company, version = company_store.get_company(company_id)
    closed = [p.model_copy(update={"status": "closed"}) for p in company.periods]
    after = company.model_copy(update={"periods": closed})
    audit = history.audited(company_id, f"company {company_id}", "close_period", "admin", {}, {})
    company_store.replace_company(after, version, audit)


def test_a_posting_built_before_its_period_closed_cannot_commit_after(
    local_store: Settings,
) -> None:
    # Given a posting built from the company as read while its period was open
    given_company()
    document = given_document()
    stale = reference_store.read("ACME", {"CUST01"})
    prepared = posting.prepare_posting(read(document), "clerk", (), stale)
    # When the period is closed before the posting commits
    _close_periods("ACME")
    # Then the commit is refused by name, and nothing is posted
    with pytest.raises(reference_store.ReferenceChanged) as refused:
        posting.commit_postings([prepared], stale)
    assert refused.value.code == "reference_changed"
    assert read(document).status != COMPLETE and counters.current("ACME", "TRN") == 0
    # And posting it again with the same stale read builds it from what the company says now:
    # the period is closed, so it is refused with that reason
    with pytest.raises(ValidationFailed) as invalid:
        posting.post_now(read(document), "clerk", (), stale)
    assert [e["code"] for e in invalid.value.details["errors"]] == ["period_closed"]
    assert counters.current("ACME", "TRN") == 0


def test_an_account_changed_between_read_and_commit_is_read_again(local_store: Settings) -> None:
    # Given a posting's reference data read, then the customer account renamed meanwhile
    given_company()
    document = given_document()
    stale = reference_store.read("ACME", {"CUST01"})
    account, version = account_store.get_account("CUST01")
    renamed = account.model_copy(update={"name": "Renamed Ltd"})
    audit = history.audited("ACME", "account CUST01", "amend", "admin", {}, {})
    account_store.replace_account(renamed, version, audit)
    # When the document is posted with that read
    posted = posting.post_now(read(document), "clerk", (), stale)
    # Then it posts once, built from the account as it is now
    assert posted.status == COMPLETE and counters.current("ACME", "TRN") == 1
    assert stale.accounts["CUST01"].name == "Renamed Ltd"
