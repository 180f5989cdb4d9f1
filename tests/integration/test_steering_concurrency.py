"""Steering queued work under real overlap: threads against DynamoDB Local (issue 28, item 6).

Cancel background posting racing a worker, round after round: either the cancel wins (nothing
posted, the document In Progress without worker items) or the worker does (the cancel is
refused with a 409, the document posted once); never both, never a document lost between.
Two Retry nows at once: two runs, one posting. A cancel racing a run's scan: nothing posted,
and the run finishes whether its scan saw the document or not. Post on a date next to London's
clock changes: due from that day's midnight in London, not an hour either side, posted once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, datetime, timedelta

import pytest

from background_posting.config import Settings
from background_posting.domain.documents import COMPLETE, IN_PROGRESS, READY_TO_POST, Document
from background_posting.domain.errors import Conflict
from background_posting.domain.identity import Caller
from background_posting.domain.purchasing import GoodsReceiptInput, PurchaseOrderInput
from background_posting.domain.work import Run
from background_posting.services import (
    background_service,
    document_service,
    purchasing_service,
    runs,
    worker,
)
from background_posting.store import counters, document_store, work_log
from background_posting.store import worker_items as item_store
from tests.support.concurrency import race
from tests.support.purchasing import invoice_body, order_body, receipt_body
from tests.support.queues import RecordingQueue
from tests.support.scenario import ADMIN, _documents, given_company, given_document

FOREVER = lambda: 900.0  # noqa: E731 - an invocation with plenty of time left
ROUNDS = 12
CLERK = Caller("clerk", "clerk@example.com", allowed_companies=frozenset({"*"}))


def plain_posting(round_: int) -> Document:
    """A sales invoice the clerk posted from a list view: one post_document item, done without
    a lease (the commit's own conditions decide)."""
    document = given_document()
    (queued,) = background_service.post_from_list_view(CLERK, [document.id])
    return queued


def verified_first(round_: int) -> Document:
    """A payable invoice against its own received order: its verify_invoice item is leased by
    the worker, which verifies and posts it."""
    order_id = f"PO-{round_}"
    purchasing_service.create_order(ADMIN, PurchaseOrderInput.model_validate(order_body(order_id)))
    for line, quantity in ((1, "100"), (2, "50")):
        purchasing_service.receive_goods(
            ADMIN, GoodsReceiptInput.model_validate(receipt_body(line, quantity, order_id))
        )
    created = document_service.create_document(
        CLERK, _documents.validate_python(invoice_body(order_id=order_id))
    )
    queued, in_background = background_service.post_with_button(CLERK, created.id, "auto")
    assert in_background
    return queued


KINDS: dict[str, Callable[[int], Document]] = {
    "a plain posting": plain_posting,
    "an invoice the worker leases to verify": verified_first,
}


def read(document: Document) -> Document:
    return document_store.get_document(document.id, with_lines=False).document


@pytest.mark.parametrize("kind", list(KINDS))
def test_cancel_racing_a_worker_either_cancels_or_posts_never_both(
    kind: str, local_store: Settings
) -> None:
    given_company()
    cancelled = posted = 0
    for round_ in range(ROUNDS):
        # Given the clerk's document in the background, as a run's message carries it
        document = KINDS[kind](round_)
        assert document.status == READY_TO_POST
        message = worker.Message(None, document.id, tuple(item_store.items_of(document.id)))

        # When the clerk cancels it while a worker takes it
        cancel, work = race(
            lambda d=document: background_service.cancel_background(CLERK, d.id),
            lambda m=message, n=round_: worker.process(m, f"w{n}", FOREVER),
        )

        # Then exactly one of them had its way, and the document is whole
        assert not isinstance(work, Exception), work
        after = read(document)
        assert item_store.items_of(document.id) == [], (round_, cancel, work)
        if isinstance(cancel, Document):
            assert cancel.status == IN_PROGRESS
            assert (after.status, after.transaction_number) == (IN_PROGRESS, None), round_
            assert work == "skipped", (round_, work)
            cancelled += 1
        else:
            assert isinstance(cancel, Conflict), cancel
            assert cancel.code in {"worker_item_held", "document_complete", "concurrent_update"}
            assert after.status == COMPLETE and after.transaction_number is not None, round_
            assert work == "posted", (round_, work)
            posted += 1
        assert counters.current("ACME", "TRN") == posted, round_
    assert cancelled + posted == ROUNDS


def test_two_retry_nows_at_once_post_the_document_once(local_store: Settings) -> None:
    given_company()
    for round_ in range(ROUNDS // 2):
        # Given the clerk's document in the background
        document = plain_posting(round_)
        runs_queue, posting = RecordingQueue(), RecordingQueue()

        # When the clerk presses Retry now twice at once, and both runs and their workers go
        started = race(
            *(
                lambda d=document, q=runs_queue: background_service.retry_now(CLERK, d.id, q)
                for _ in "ab"
            )
        )
        assert all(isinstance(r, Run) for r in started), started
        race(*(lambda r=r, q=posting: runs.execute_run(r.id, FOREVER, q) for r in started))
        assert len(posting.messages) == 2  # both runs found it due: two workers race
        outcomes = race(
            *(
                # each worker's own batch, left unfinished: the digests' queue is not here
                lambda m=m, n=n: worker.process(
                    worker.Message.parse(m), f"w{n}", FOREVER, batch=worker.Batch(f"w{n}", FOREVER)
                )
                for n, m in enumerate(posting.messages)
            )
        )

        # Then it is posted once, and the runs between them count one posting
        assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
        assert read(document).status == COMPLETE
        assert counters.current("ACME", "TRN") == round_ + 1
        assert item_store.items_of(document.id) == []
        finished = [work_log.get_run(r.id) for r in started]
        assert sum(r.counts["posted"] for r in finished) == 1, [r.counts for r in finished]
        assert all(r.trigger == "document" and r.document == document.id for r in finished)


def at(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


@pytest.mark.parametrize(
    ("post_on", "day_starts"),
    [
        ("2027-03-28", "2027-03-28T00:00:00+00:00"),  # the clocks go forward at 01:00 GMT
        ("2027-03-29", "2027-03-28T23:00:00+00:00"),  # the first day on BST
        ("2027-10-31", "2027-10-30T23:00:00+00:00"),  # back at 02:00 BST: it starts on BST
        ("2027-11-01", "2027-11-01T00:00:00+00:00"),  # the first day on GMT again
    ],
)
def test_post_on_a_day_next_to_londons_clock_change_posts_once_from_its_midnight(
    post_on: str, day_starts: str, local_store: Settings
) -> None:
    # Given ACME (Europe/London) and the clerk's invoice posted on that date, a week before
    given_company()
    document = given_document()
    on = date.fromisoformat(post_on)
    week_before = datetime.fromisoformat(day_starts) - timedelta(days=7)
    queued, in_background = background_service.post_with_button(
        CLERK, document.id, "auto", on, now=week_before
    )
    assert in_background and (queued.status, queued.post_on) == (READY_TO_POST, on)
    boundary = at(day_starts)
    (item,) = item_store.items_of(document.id)
    assert item.not_before == boundary
    # When a run looks a second before London's midnight of that day, it is not due
    assert _due(boundary - 1) == []
    assert (
        worker.process(worker.Message(None, document.id), "w", FOREVER, clock=lambda: boundary - 1)
        == "skipped"
    )
    assert read(document).status == READY_TO_POST
    # When two workers reach it a second after, at the same moment
    assert _due(boundary + 1) == [document.id]
    outcomes = race(
        *(
            lambda n=n: worker.process(
                worker.Message(None, document.id), f"w{n}", FOREVER, clock=lambda: boundary + 1
            )
            for n in range(2)
        )
    )
    # Then it is posted once
    assert sorted(outcomes) == ["posted", "skipped"], outcomes
    after = read(document)
    assert (after.status, after.post_on) == (COMPLETE, on)
    assert counters.current("ACME", "TRN") == 1


def _due(now: float) -> list[str]:
    """The documents a run's scan finds due at `now` (every shard of the due index)."""
    return [
        due.document_id
        for shard in range(item_store.DUE_SHARDS)
        for due in item_store.due_documents(shard, None, None, now=now)[0]
    ]


def test_cancel_racing_a_runs_scan_leaves_nothing_posted_and_the_run_finishes(
    local_store: Settings,
) -> None:
    given_company()
    for round_ in range(ROUNDS):
        # Given the clerk's document in the background and a Run Now about to scan
        document = plain_posting(round_)
        run, _ = work_log.create_run("run_now", "runner", None, None)
        posting = RecordingQueue()

        # When the clerk cancels it while the run scans the due index (the cancel a little
        # later each round, so that some scans see the document first), then the workers go
        lag = (round_ % 6) * 0.04
        cancel, scanned = race(
            lambda d=document, s=lag: (
                time.sleep(s),
                background_service.cancel_background(CLERK, d.id),
            )[1],
            lambda r=run, q=posting: runs.execute_run(r.id, FOREVER, q),
        )
        assert isinstance(cancel, Document), cancel
        assert isinstance(scanned, Run), scanned
        outcomes = [
            worker.process(worker.Message.parse(m), "w", FOREVER, batch=worker.Batch("w", FOREVER))
            for m in posting.messages
        ]

        # Then nothing is posted, the document is In Progress without items, and the run,
        # whether its scan saw the document or not, finishes
        assert set(outcomes) <= {"skipped"}, outcomes
        after = read(document)
        assert (after.status, after.transaction_number) == (IN_PROGRESS, None)
        assert item_store.items_of(document.id) == []
        assert counters.current("ACME", "TRN") == 0
        finished = work_log.get_run(run.id)
        assert finished.finished and finished.counts["posted"] == 0, finished.counts
