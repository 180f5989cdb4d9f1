"""Posting at most once, numbering in order, and surviving crashes: threads on DynamoDB Local."""

from __future__ import annotations

from typing import Any

import pytest

from background_posting.config import Settings
from background_posting.domain.documents import COMPLETE, Document
from background_posting.domain.errors import Conflict
from background_posting.services import posting
from background_posting.store import chunks, counters, document_store, ledger_store
from tests.support.concurrency import race
from tests.support.scenario import given_company, given_document


def read(document: Document) -> Document:
    return document_store.get_document(document.id).document


def test_two_posts_of_one_document_at_once_make_one_transaction(local_store: Settings) -> None:
    given_company()
    document = given_document()
    results = race(*(lambda: posting.post_now(read(document), "clerk") for _ in range(4)))
    posted = [r for r in results if isinstance(r, Document)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(posted) == 1, results
    assert len(refused) == 3
    assert counters.current("ACME", "TRN") == 1
    assert read(document).status == COMPLETE
    assert read(document).transaction_number == "TRN000001"


def test_transaction_numbers_are_unique_and_in_order_under_concurrent_posting(
    local_store: Settings,
) -> None:
    given_company()
    batch = [given_document() for _ in range(8)]
    results = race(*(lambda d=d: posting.post_now(read(d), "clerk") for d in batch))
    assert all(isinstance(r, Document) for r in results), results
    numbers = sorted(read(d).transaction_number or "" for d in batch)
    assert numbers == [f"TRN{n:06d}" for n in range(1, 9)]
    for document in batch:
        header = ledger_store.get_transaction("ACME", read(document).transaction_number or "")
        assert header.header["document_id"] == document.id


def test_a_large_document_that_crashes_midway_posts_once_when_run_again(
    local_store: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given chunks of 10 lines, so that 1,200 lines need far more than one transaction
    monkeypatch.setattr(chunks, "LINES_PER_CHUNK", 10)
    given_company()
    document = given_document(lines=1200)
    # When the worker dies after writing some of the staged chunks
    written = 0
    original = ledger_store.LedgerRecord.batch_write

    class Crash(RuntimeError):
        pass

    def dying_batch_write(*args: Any, **kwargs: Any) -> Any:
        batch = original(*args, **kwargs)
        save = batch.save

        def save_then_die(item: Any) -> None:
            nonlocal written
            written += 1
            if written == 37:
                raise Crash("worker died")
            save(item)

        batch.save = save_then_die  # type: ignore[method-assign]
        return batch

    monkeypatch.setattr(ledger_store.LedgerRecord, "batch_write", dying_batch_write)
    with pytest.raises(Crash):
        posting.post_now(read(document), "clerk")
    # Then nobody sees a transaction, and the document still waits
    assert read(document).status == "In Progress"
    assert counters.current("ACME", "TRN") == 0
    # When it runs again
    monkeypatch.setattr(ledger_store.LedgerRecord, "batch_write", original)
    posted = posting.post_now(read(document), "clerk")
    # Then there is one complete transaction without duplicate lines
    stored = ledger_store.get_transaction("ACME", posted.transaction_number or "")
    analysis = [line for line in stored.lines if line["kind"] == "analysis"]
    assert len(analysis) == 1200
    assert sorted(line["source_line"] for line in analysis) == list(range(1200))
    assert stored.header["line_count"] == len(stored.lines)
    assert counters.current("ACME", "TRN") == 1


def test_lines_too_large_for_one_transaction_are_staged_even_when_few(
    local_store: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a transaction payload limit that 40 lines exceed (DynamoDB's is 4 MB in all)
    from background_posting.store import writes

    monkeypatch.setattr(writes, "MAX_TRANSACTION_BYTES", 25_000)
    given_company()
    document = given_document(lines=40)
    staged: list[int] = []
    original = ledger_store.LedgerRecord.batch_write

    def counting_batch_write(*args: Any, **kwargs: Any) -> Any:
        staged.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(ledger_store.LedgerRecord, "batch_write", counting_batch_write)
    # When it is posted
    posted = posting.post_now(read(document), "clerk")
    # Then its lines were staged before the commit, and the transaction is whole
    assert staged
    stored = ledger_store.get_transaction("ACME", posted.transaction_number or "")
    assert len([line for line in stored.lines if line["kind"] == "analysis"]) == 40


def test_what_fits_one_transaction_counts_items_and_bytes() -> None:
    from background_posting.store.writes import Write, fits

    def chunk(size: int) -> Write:
        return Write("put", {"Item": {"lines": {"S": "x" * size}}})

    assert fits([chunk(100_000)] * 10, more_items=3)
    assert not fits([chunk(1_000)] * 98, more_items=3)  # 101 items
    assert not fits([chunk(400_000)] * 10, more_items=3)  # 4 MB of lines
