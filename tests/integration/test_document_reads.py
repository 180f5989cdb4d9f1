"""Reading several documents at once (`store/batch_reads.py`): DynamoDB Local.

A worker batch reads its documents' headers in one BatchGetItem and their line chunks in a
second, instead of a Query each; whatever changes between the two reads, each document comes
back as one version of itself, whole.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from background_posting.config import Settings
from background_posting.domain.documents import DocumentLine
from background_posting.store import batch_reads, document_store
from background_posting.store.history import Change
from tests.support.counting import dynamodb_requests
from tests.support.scenario import given_company, given_document


def whole(document_id: str) -> document_store.Stored:
    return document_store.get_document(document_id)


def read_together(document_ids: list[str]) -> dict[str, document_store.Stored]:
    """The documents as a worker batch reads them (its companies' reference data aside)."""
    return batch_reads.documents_and_references(document_ids, ())[0]


def between_the_two_reads(monkeypatch: Any, change: Callable[[], None]) -> list[int]:
    """Make `change` happen after the headers were read and before their chunks are; the
    number of reads sent, as a one-item list that the reads update."""
    original = batch_reads.batch_get
    calls = [0]

    def changing(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        if calls[0] == 2:
            change()
        return original(*args, **kwargs)

    monkeypatch.setattr(batch_reads, "batch_get", changing)
    return calls


def test_several_documents_are_read_whole_in_two_requests(
    local_store: Settings, monkeypatch: Any
) -> None:
    # Given eight documents of different sizes, one a journal, one with no lines read yet
    given_company()
    made = [given_document(lines=n) for n in (1, 3, 10, 499, 500, 501, 1200)]
    made.append(given_document("journal"))
    # When they are read together, with an id that does not exist among them
    with dynamodb_requests(monkeypatch) as sent:
        found = read_together([*(d.id for d in made), "no-such-document"])
    # Then two BatchGetItems read them all, each exactly as its own Query reads it
    assert sent == Counter({"BatchGetItem": 2})
    assert set(found) == {d.id for d in made}
    for document in made:
        assert found[document.id] == whole(document.id)


def test_a_large_document_is_read_by_its_own_query(local_store: Settings, monkeypatch: Any) -> None:
    # Given a document of more chunks than a batch read takes, beside a small one
    given_company()
    large = given_document(lines=(document_store.BATCH_READ_CHUNKS + 1) * 500)
    small = given_document(lines=2)
    # When both are read together
    with dynamodb_requests(monkeypatch) as sent:
        found = read_together([large.id, small.id])
    # Then the small one came in the batch reads and the large one by a Query of its own
    assert sent == Counter({"BatchGetItem": 2, "Query": 1})
    assert found[large.id] == whole(large.id)
    assert len(found[large.id].document.lines) == (document_store.BATCH_READ_CHUNKS + 1) * 500


def test_an_amendment_between_the_two_reads_gives_the_amended_document_whole(
    local_store: Settings, monkeypatch: Any
) -> None:
    # Given two documents, one amended (new lines, its old chunks deleted) just after the
    # headers were read and before their chunks are
    given_company()
    amended, other = given_document(lines=3), given_document(lines=4)

    def amend() -> None:
        stored = whole(amended.id)
        lines = [DocumentLine(description="Amended", quantity="1", unit_price="5.00")]
        new = stored.document.model_copy(update={"lines": lines})
        document_store.save_amendment(
            stored, new, lines_changed=True, change=Change("amend", "clerk")
        )

    calls = between_the_two_reads(monkeypatch, amend)
    # When both are read together
    found = read_together([amended.id, other.id])
    # Then the amended one is its new version with its new lines, never the old header with
    # missing lines, and the other is as it was
    assert calls == [2]
    assert found[amended.id] == whole(amended.id)
    assert [line.description for line in found[amended.id].document.lines] == ["Amended"]
    assert found[amended.id].document.version == amended.version + 1
    assert found[other.id] == whole(other.id)


def test_lines_appended_between_the_two_reads_are_not_read_with_the_older_header(
    local_store: Settings, monkeypatch: Any
) -> None:
    # Given a document whose last chunk gets more lines after its header was read
    given_company()
    document = given_document(lines=3)
    before = whole(document.id)

    def append() -> None:
        stored = whole(document.id)
        added = [{"description": "Late", "quantity": "1", "unit_price": "1.00"}]
        lines = [*stored.document.lines, DocumentLine.model_validate(added[0])]
        appended = stored.document.model_copy(update={"lines": lines})
        document_store.append_lines(stored, appended, added, Change("lines_added", "clerk"))

    calls = between_the_two_reads(monkeypatch, append)
    # When it is read in a batch
    found = read_together([document.id])
    # Then it is the version whose header was read: its three lines, not four
    assert calls == [2]
    assert found[document.id] == before
    assert len(whole(document.id).document.lines) == 4
