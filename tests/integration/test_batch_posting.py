"""A worker batch posts one company's plain documents together: DynamoDB Local, real threads.

One commit numbers several documents consecutively (the company's counter is one item);
each document is still posted at most once, whatever overlaps; a document that cannot post
goes the ordinary way and has its attempt counted there.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from background_posting.config import Settings
from background_posting.domain.documents import COMPLETE, READY_TO_POST, Document
from background_posting.services import background_service
from background_posting.store import counters, document_store, log_groups, work_log, writes
from background_posting.store import worker_items as item_store
from infra.lambda_runtime import LocalContext
from tests.support.concurrency import race
from tests.support.counting import dynamodb_requests
from tests.support.events import queue_event
from tests.support.queues import load_handler
from tests.support.scenario import ADMIN, given_company, given_document


def queued(count: int, **overrides: Any) -> list[Document]:
    made = [given_document(**overrides) for _ in range(count)]
    return background_service.post_from_list_view(ADMIN, [d.id for d in made])


def sqs_event(run_id: str, documents: list[Document]) -> dict[str, Any]:
    """The posting queue's event for these documents, each message carrying its item."""
    bodies = []
    for document in documents:
        items = [item_store.as_message(i) for i in item_store.items_of(document.id)]
        bodies.append({"run_id": run_id, "document_id": document.id, "items": items})
    return queue_event("posting_queue.json", bodies)


def status_of(document: Document) -> str:
    return document_store.get_document(document.id, with_lines=False).document.status


def test_a_batch_of_one_companys_documents_is_posted_in_one_commit(
    local_store: Settings, monkeypatch: Any
) -> None:
    # Given ten queued documents of one company in one run
    given_company()
    batch = queued(10)
    run, _ = work_log.create_run("run_now", "admin", None, None)
    commits: list[int] = []
    original = writes.transact

    def counting(items: Any, token: Any = None) -> None:
        commits.append(len(items))
        original(items, token)

    monkeypatch.setattr("background_posting.store.ledger_store.transact", counting)
    # When the posting worker gets them as one SQS batch
    handler = load_handler("PostingWorkerFunction")
    answer = handler(sqs_event(run.id, batch), LocalContext("PostingWorkerFunction", 90))
    # Then all are posted by one commit, numbered consecutively, and the run counted them
    assert answer["batchItemFailures"] == []
    assert [status_of(d) for d in batch] == [COMPLETE] * 10
    assert len(commits) == 1
    numbers = sorted(
        document_store.get_document(d.id).document.transaction_number or "" for d in batch
    )
    assert numbers == [f"TRN{n:06d}" for n in range(1, 11)]
    assert counters.current("ACME", "TRN") == 10
    counts = work_log.get_run(run.id).counts
    assert (counts["posted"], counts["done"]) == (10, 10)
    assert all(item_store.items_of(d.id) == [] for d in batch)
    (group,) = log_groups.groups_of(ADMIN.user_id).groups
    assert [e.outcome for e in log_groups.get_group(group.id).entries] == ["posted"] * 10


def test_overlapping_batches_of_the_same_documents_post_each_once(local_store: Settings) -> None:
    # Given ten queued documents, delivered to three workers at once (a redelivery, a second run)
    given_company()
    batch = queued(10)
    run, _ = work_log.create_run("run_now", "admin", None, None)
    handlers = [load_handler("PostingWorkerFunction") for _ in range(3)]
    results = race(
        *(
            lambda h=h: h(sqs_event(run.id, batch), LocalContext("PostingWorkerFunction", 90))
            for h in handlers
        )
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    # Then every document is Complete with exactly one transaction
    assert [status_of(d) for d in batch] == [COMPLETE] * 10
    assert counters.current("ACME", "TRN") == 10
    numbers = {document_store.get_document(d.id).document.transaction_number for d in batch}
    assert len(numbers) == 10
    counts = work_log.get_run(run.id).counts
    assert counts["posted"] == 10
    assert counts["posted"] + counts["skipped"] == 30


def test_a_document_that_cannot_post_is_left_to_its_own_attempt(local_store: Settings) -> None:
    # Given four good documents and one dated in a closed period, in one batch
    given_company()
    good = queued(4)
    (bad,) = queued(1, document_date="2026-10-10")
    run, _ = work_log.create_run("run_now", "admin", None, None)
    handler = load_handler("PostingWorkerFunction")
    handler(
        sqs_event(run.id, [*good[:2], bad, *good[2:]]), LocalContext("PostingWorkerFunction", 90)
    )
    # Then the good ones are posted, the bad one waits with one attempt counted and logged
    assert [status_of(d) for d in good] == [COMPLETE] * 4
    assert status_of(bad) == READY_TO_POST
    (item,) = item_store.items_of(bad.id)
    assert item.attempts == 1
    counts = work_log.get_run(run.id).counts
    assert (counts["posted"], counts["failed"], counts["done"]) == (4, 1, 5)


def test_a_batch_reads_its_documents_together_and_its_run_once(
    local_store: Settings, monkeypatch: Any
) -> None:
    # Given ten queued documents of one company in one run
    given_company()
    batch = queued(10)
    run, _ = work_log.create_run("run_now", "admin", None, None)
    handler, event = load_handler("PostingWorkerFunction"), sqs_event(run.id, batch)
    # When the posting worker gets them as one SQS batch
    with dynamodb_requests(monkeypatch) as sent:
        handler(event, LocalContext("PostingWorkerFunction", 90))
    # Then it read their headers and lines and the company's reference data in two requests
    # (no Query a document), read the run once (to see whether it finished), committed once
    assert [status_of(d) for d in batch] == [COMPLETE] * 10
    assert sent == Counter({"BatchGetItem": 2, "GetItem": 1, "TransactWriteItems": 1})


def test_a_batch_for_a_run_with_no_record_is_posted_outside_any_run(
    local_store: Settings,
) -> None:
    # Given five queued documents whose messages name a run that has no record
    given_company()
    batch = queued(5)
    handler = load_handler("PostingWorkerFunction")
    # When the posting worker gets them as one SQS batch
    answer = handler(sqs_event("no-such-run", batch), LocalContext("PostingWorkerFunction", 90))
    # Then every message is answered (none retried towards the dead-letter queue), each
    # document posted once and numbered in turn, and no run record was made up
    assert answer["batchItemFailures"] == []
    assert [status_of(d) for d in batch] == [COMPLETE] * 5
    assert counters.current("ACME", "TRN") == 5
    assert work_log.find_run("no-such-run") is None
    assert all(item_store.items_of(d.id) == [] for d in batch)


def test_a_batch_of_two_companies_reads_both_in_the_same_two_requests(
    local_store: Settings, monkeypatch: Any
) -> None:
    # Given a batch mixing two companies' documents: invoices to a customer and bills from a
    # vendor of each, and a journal
    given_company()
    given_company("BETA")
    acme = [*queued(3), *queued(2, doc_type="payable_invoice"), *queued(1, doc_type="journal")]
    beta = queued(4, company="BETA", account="CUST01-BETA")
    run, _ = work_log.create_run("run_now", "admin", None, None)
    handler = load_handler("PostingWorkerFunction")
    mixed = [acme[0], beta[0], *acme[1:3], *beta[1:], *acme[3:]]
    event = sqs_event(run.id, mixed)
    # When the posting worker gets them as one SQS batch
    with dynamodb_requests(monkeypatch) as sent:
        answer = handler(event, LocalContext("PostingWorkerFunction", 90))
    # Then every document is posted, each company's numbered in turn by its own commit, and
    # both companies and all four accounts came in the batch's two reads
    assert answer["batchItemFailures"] == []
    assert [status_of(d) for d in mixed] == [COMPLETE] * 10
    assert (counters.current("ACME", "TRN"), counters.current("BETA", "TRN")) == (6, 4)
    assert sent == Counter({"BatchGetItem": 2, "GetItem": 1, "TransactWriteItems": 2})
