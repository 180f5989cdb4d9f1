"""The ledger table: posted transactions.

A transaction is a header item (`pk = TXN#<company>#<number>`, `sk = HEADER`) and its lines,
500 to an item, under `pk = LINES#<document id>#v<document version>`. Posting writes the
lines first when they do not fit in one DynamoDB transaction; they are invisible until the
commit: one transaction that takes the next transaction number, writes the header (which
names the lines' key and how many chunks to read) and moves the document to Complete on the
condition that it is still at the version read AND In Progress or Ready to Post, whatever the
caller read. So:

* a reader sees a whole transaction or none (it can only find lines through a header);
* a crash before the commit leaves only unreachable line chunks, which the next attempt
  overwrites with the same keys (no duplicate lines), then commits;
* two workers posting one document at once both may write the chunks, but only one commit's
  condition holds: one transaction, one number.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist

from background_posting.domain.documents import (
    COMPLETE,
    POSTABLE,
    TRANSACTION_PREFIX,
    Document,
    format_number,
)
from background_posting.domain.errors import Conflict, NotFound
from background_posting.store import counters, document_store
from background_posting.store import writes as store_writes
from background_posting.store.base import StoreModel, register
from background_posting.store.chunks import chunk_key, chunked, dumps, joined, span
from background_posting.store.history import Change
from background_posting.store.writes import LostRace, Write, token_for, transact

HEADER = "HEADER"
MAX_NUMBERING_ATTEMPTS = 100


@register(lambda s: s.ledger_table)
class LedgerRecord(StoreModel):
    class Meta:
        table_name = "ledger"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    body = UnicodeAttribute(null=True)
    lines_pk = UnicodeAttribute(null=True)
    chunk_count = NumberAttribute(null=True)
    lines = UnicodeAttribute(null=True)


def _header_pk(company: str, number: str) -> str:
    return f"TXN#{company}#{number}"


def lines_key(document: Document) -> str:
    return f"LINES#{document.id}#v{document.version}"


def _chunk_records(lines_pk: str, rows: Iterable[Any]) -> Iterator[LedgerRecord]:
    """The lines, 500 to an item, serialised one chunk at a time."""
    for index, text in chunked(rows):
        yield LedgerRecord(lines_pk, chunk_key(index), lines=text)


@dataclass(frozen=True)
class Staged:
    """A document's line chunks: `inline` ones go inside the commit, the rest were written."""

    chunk_count: int
    inline: list[Write]


def stage_lines(document: Document, rows: Iterable[Any], also: Sequence[Write] = ()) -> Staged:
    """Write the line chunks that do not fit the commit transaction; idempotent by key.

    Chunks are kept for the commit while they fit beside its own items (header, counter,
    document) and `also`; once they would not, they are written, a batch at a time, so a large
    document's lines never sit in memory all at once as items.
    """
    # beside the chunks: the counter, the header, the document and its history entry, and the
    # checks of the company profile and the document's account (`commit_many`'s `unchanged`)
    besides = store_writes.flattened(also)
    room_items = store_writes.MAX_TRANSACTION_ITEMS - 6 - len(besides)
    room_bytes = store_writes.MAX_TRANSACTION_BYTES - 20_000 - sum(w.size for w in besides)
    kept: list[tuple[LedgerRecord, Write]] = []
    kept_bytes = 0
    count = 0
    staging = False
    with LedgerRecord.batch_write() as batch:
        for chunk in _chunk_records(lines_key(document), rows):
            count += 1
            if staging:
                batch.save(chunk)
                continue
            write = Write.put(chunk)
            kept.append((chunk, write))
            kept_bytes += write.size
            if len(kept) > room_items or kept_bytes > room_bytes:
                staging = True  # these do not fit the commit: write them all beforehand
                for record, _ in kept:
                    batch.save(record)
                kept = []
    return Staged(count, [write for _, write in kept])


@dataclass(frozen=True)
class Committed:
    number: str
    document: Document


def _not_postable(document: Document) -> Conflict:
    if document.status == COMPLETE:
        return Conflict(
            f"{document.number} is posted already (transaction {document.transaction_number}).",
            code="document_already_posted",
            details={"number": document.number, "transaction": document.transaction_number},
        )
    return Conflict(
        f"{document.number} is {document.status}: it cannot be posted.",
        code="document_not_postable",
        details={"number": document.number, "status": document.status},
    )


@dataclass(frozen=True)
class Posting:
    """One document's posting, ready to commit: the document as read, as it will be when
    posted (its number comes at the commit), its transaction's header body and lines, and the
    caller's writes that happen with it."""

    document: Document
    completed: Document
    header: dict[str, Any]
    staged: Staged
    also: Sequence[Write] = ()


def commit(
    document: Document,
    completed: Document,
    header: dict[str, Any],
    staged: Staged,
    also: Sequence[Write] = (),
    counter_seen: int | None = None,
) -> Committed:
    """Number the transaction, write its header (and small documents' lines) and complete the
    document, with the caller's writes `also`, in one transaction.

    Whatever the caller read, the document is posted only from In Progress or Ready to Post
    and only at the version read: the transaction's own condition says so, so two postings of
    one document can never both commit. A lost race for the number (the counter or header
    key) reads the counter again and retries; any other failed condition raises at once.
    """
    posting = Posting(document, completed, header, staged, also)
    return commit_many([posting], counter_seen)[0]


def commit_many(
    postings: Sequence[Posting],
    counter_seen: int | None = None,
    unchanged: Sequence[Write] = (),
) -> list[Committed]:
    """Post several documents of one company in one transaction, numbered consecutively.

    One update of the counter takes all their numbers at once (the company's counter is one
    item: numbering k documents per commit lets one company post k times faster, see
    docs/at-scale.md). All or none: a failed condition on any document raises its refusal (for
    example `DocumentMoved` naming it), and nothing of any of them is written. `unchanged`
    are the checks that the reference data the postings were built from is still as read
    (`store.reference.unchanged`), written once for them all.
    """
    if not postings:
        return []
    company = postings[0].document.company
    for posting in postings:
        if posting.document.company != company:
            raise ValueError("postings committed together must belong to one company")
        if posting.document.status not in POSTABLE:
            raise _not_postable(posting.document)
    seen = counter_seen
    for attempt in range(MAX_NUMBERING_ATTEMPTS):
        if seen is None:
            seen = counters.current(company, TRANSACTION_PREFIX)
        writes: list[Write] = [
            counters.take_next(company, TRANSACTION_PREFIX, seen, len(postings)),
            *unchanged,
        ]
        committed = []
        for offset, posting in enumerate(postings):
            number = format_number(TRANSACTION_PREFIX, seen + 1 + offset)
            changed = posting.completed.model_copy(update={"transaction_number": number})
            committed.append(Committed(number, changed))
            writes += [
                Write.put(
                    LedgerRecord(
                        _header_pk(company, number),
                        HEADER,
                        body=dumps(posting.header | {"number": number}),
                        lines_pk=lines_key(posting.document),
                        chunk_count=posting.staged.chunk_count,
                    ),
                    LedgerRecord.pk.does_not_exist(),
                    race=True,
                ),
                document_store.moved(
                    posting.document,
                    changed,
                    Change("post", changed.posted_by or "", {"transaction": number}),
                    from_statuses=POSTABLE,
                ),
                *posting.also,
                *posting.staged.inline,
            ]
        first = postings[0]
        token = token_for(
            first.document.id,
            first.document.version,
            seen,
            len(postings),
            attempt,
            first.completed.updated_at,
        )
        try:
            transact(writes, token=token)
            return committed
        except LostRace:
            seen = None  # another posting took these numbers: read the counter again
            time.sleep(random.uniform(0, min(0.05, 0.001 * 2**attempt)))
    raise Conflict(
        "Could not number the transaction: too many postings at once; try again.",
        code="numbering_contention",
    )


@dataclass(frozen=True)
class StoredTransaction:
    header: dict[str, Any]
    lines: list[Any]


def get_transaction(
    company: str, number: str, offset: int = 0, limit: int | None = None
) -> StoredTransaction:
    """The header and lines [offset, offset + limit) (all lines when limit is None)."""
    try:
        header = LedgerRecord.get(_header_pk(company, number), HEADER, consistent_read=True)
    except DoesNotExist as exc:
        raise NotFound(
            f"Transaction {number} does not exist.", code="transaction_not_found"
        ) from exc
    part = span(offset, limit, int(header.chunk_count or 0))
    lines: list[Any] = []
    if not part.empty:
        query = LedgerRecord.query(
            header.lines_pk or "",
            LedgerRecord.sk.between(chunk_key(part.first), chunk_key(part.last)),
            consistent_read=True,
        )
        lines = joined(chunk.lines for chunk in query)
    return StoredTransaction(json.loads(header.body or "{}"), part.cut(lines))
