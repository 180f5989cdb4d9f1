"""The ledger table: posted transactions.

A transaction is a header item (`pk = TXN#<company>#<number>`, `sk = HEADER`) and its lines,
500 to an item, under `pk = LINES#<document id>#v<document version>`. Posting writes the
lines first when they do not fit in one DynamoDB transaction; they are invisible until the
commit: one transaction that takes the next transaction number, writes the header (which
names the lines' key and how many chunks to read) and moves the document to Complete on the
condition that it is still at the version and status it was read at. So:

* a reader sees a whole transaction or none (it can only find lines through a header);
* a crash before the commit leaves only unreachable line chunks, which the next attempt
  overwrites with the same keys (no duplicate lines), then commits;
* two workers posting one document at once both may write the chunks, but only one commit's
  condition holds: one transaction, one number.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from background_posting.domain.documents import TRANSACTION_PREFIX, Document, format_number
from background_posting.domain.errors import Conflict, NotFound
from background_posting.store import counters
from background_posting.store import documents as document_store
from background_posting.store.base import (
    bound,
    connection,
    fits_in_transaction,
    is_condition_failure,
    register,
)

LINES_PER_CHUNK = 500
HEADER = "HEADER"


@register(lambda s: s.ledger_table)
class LedgerRecord(Model):
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


def _chunk_records(lines_pk: str, rows: Sequence[Any]) -> list[LedgerRecord]:
    return [
        LedgerRecord(
            lines_pk,
            f"{index // LINES_PER_CHUNK:06d}",
            lines=json.dumps(list(rows[index : index + LINES_PER_CHUNK]), separators=(",", ":")),
        )
        for index in range(0, len(rows), LINES_PER_CHUNK)
    ]


def _inline(chunks: list[LedgerRecord], extra_items: int) -> bool:
    """Whether the lines go inside the commit (header, counter, document + the caller's)."""
    return fits_in_transaction([len(c.lines or "") for c in chunks], 3 + extra_items)


def stage_lines(
    document: Document, rows: Sequence[Any], extra_items: int = 0
) -> list[LedgerRecord]:
    """Write line chunks that do not fit the commit transaction; idempotent by key."""
    bound()
    chunks = _chunk_records(lines_key(document), rows)
    if not _inline(chunks, extra_items):
        with LedgerRecord.batch_write() as batch:
            for chunk in chunks:
                batch.save(chunk)
    return chunks


@dataclass(frozen=True)
class Committed:
    number: str
    document: Document


class DocumentMoved(Conflict):
    """The document is no longer at the version/status the posting read."""


def commit(
    document: Document,
    chunks: list[LedgerRecord],
    header_body: Callable[[str], dict[str, Any]],
    posted: Callable[[str], Document],
    extend: Callable[[TransactWrite], None] | None = None,
    extra_items: int = 0,
) -> Committed:
    """Number, write the header (and small documents' lines) and complete the document at once.

    `extend` adds the caller's own writes (worker item deletions, run counters, log entries,
    follow-up worker items) to the same transaction; `extra_items` says how many it adds.
    """
    bound()
    inline = _inline(chunks, extra_items)
    lines_pk = lines_key(document)
    for _attempt in range(100):
        seen = counters.current(document.company, TRANSACTION_PREFIX)
        number = format_number(TRANSACTION_PREFIX, seen + 1)
        changed = posted(number)
        header = LedgerRecord(
            _header_pk(document.company, number),
            HEADER,
            body=json.dumps(header_body(number), separators=(",", ":")),
            lines_pk=lines_pk,
            chunk_count=len(chunks),
        )
        puts = [header, *(chunks if inline else [])]
        record, actions, condition = document_store.header_update(document, changed)
        document_index = -1
        try:
            with TransactWrite(connection=connection()) as tx:
                tx.save(header, condition=LedgerRecord.pk.does_not_exist())
                for chunk in puts[1:]:
                    tx.save(chunk)
                counters.take_next(tx, document.company, TRANSACTION_PREFIX, seen)
                tx.update(record, actions=actions, condition=condition)
                if extend is not None:
                    extend(tx)
                # The counter is the first update, the document the second.
                document_index = _first_update_position(tx) + 1
            return Committed(number, changed)
        except TransactWriteError as exc:
            if not is_condition_failure(exc):
                raise
            reasons = exc.cancellation_reasons or []
            reason = reasons[document_index] if 0 <= document_index < len(reasons) else None
            if reason is not None and reason.code == "ConditionalCheckFailed":
                raise DocumentMoved(
                    f"{document.number} changed while it was being posted.",
                    code="concurrent_update",
                    details={"number": document.number},
                ) from exc
            # Another posting took this transaction number: read the counter and retry.
    raise Conflict(
        "Could not number the transaction: too many postings at once; try again.",
        code="numbering_contention",
    )


def _first_update_position(tx: TransactWrite) -> int:
    """Where the first update sits in the request pynamodb will send.

    pynamodb sends condition checks, then deletes, then puts, then updates (each in the order
    added); the cancellation reasons DynamoDB returns follow that order, one per item.
    """
    return len(tx._condition_check_items) + len(tx._delete_items) + len(tx._put_items)


@dataclass(frozen=True)
class StoredTransaction:
    header: dict[str, Any]
    lines: list[Any]


def get_transaction(
    company: str, number: str, offset: int = 0, limit: int | None = None
) -> StoredTransaction:
    """The header and lines [offset, offset + limit) (all lines when limit is None)."""
    bound()
    try:
        header = LedgerRecord.get(_header_pk(company, number), HEADER, consistent_read=True)
    except DoesNotExist as exc:
        raise NotFound(
            f"Transaction {number} does not exist.", code="transaction_not_found"
        ) from exc
    count = int(header.chunk_count or 0)
    end = count * LINES_PER_CHUNK if limit is None else offset + limit
    first, last = offset // LINES_PER_CHUNK, min(count, -(-end // LINES_PER_CHUNK)) - 1
    lines: list[Any] = []
    if last >= first:
        query = LedgerRecord.query(
            header.lines_pk or "",
            LedgerRecord.sk.between(f"{first:06d}", f"{last:06d}"),
            consistent_read=True,
        )
        for chunk in query:
            lines.extend(json.loads(chunk.lines or "[]"))
    skip = offset - first * LINES_PER_CHUNK
    return StoredTransaction(json.loads(header.body or "{}"), lines[skip : skip + end - offset])
