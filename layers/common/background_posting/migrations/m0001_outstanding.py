"""Migration 1: `outstanding` on invoices and credit notes posted before matching existed.

Those documents are Complete with `outstanding: null`, so they can never be matched and are
missing from the open items. Their outstanding is what posting gives a document today
(services/posting.posted_outstanding): the gross its transaction recorded, signed as the
document's type has it, less what is matched (nothing, for a document of that age). Each
header is written conditionally on the version read (document_store.moved): a document
changed meanwhile (another runner backfilled it) is read again, never overwritten.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from background_posting.domain.documents import COMPLETE, Document
from background_posting.domain.errors import Conflict
from background_posting.domain.types import STORED
from background_posting.store import ledger_store
from background_posting.store.document_store import HEADER, DocumentRecord, moved
from background_posting.store.history import Change
from background_posting.store.writes import transact

PAGE_SIZE = 200
MIGRATION_BY = "migration 1 (outstanding)"
"""Headers examined per step (a DynamoDB Scan page)."""


def step(cursor: dict[str, Any] | None, page_size: int = PAGE_SIZE) -> tuple[int, Any]:
    """One page of the documents table: each Complete invoice or credit note without an
    outstanding amount gets it. Answers (documents changed, the cursor after the page); when
    a document changed between the page's read and its write, the cursor of this page again
    (`{}` for the first), so that the next step reads it afresh."""
    pages = DocumentRecord.scan(
        (DocumentRecord.sk == HEADER) & (DocumentRecord.status == COMPLETE),
        page_size=page_size,
        last_evaluated_key=cursor or None,
    ).page_iter
    page = next(pages)
    changed = raced = 0
    for item in page.get("Items", []):
        record = DocumentRecord.from_raw_data(item)
        document = Document.model_validate(
            json.loads(record.body or "{}") | {"lines": []}, context=STORED
        )
        if not _needs_outstanding(document):
            continue
        if _backfilled(document):
            changed += 1
        else:
            raced += 1
    if raced:
        return changed, cursor or {}
    return changed, pages.last_evaluated_key


def _needs_outstanding(document: Document) -> bool:
    return (
        not document.is_journal
        and document.outstanding is None
        and document.transaction_number is not None
    )


def _backfilled(document: Document) -> bool:
    """The document with its outstanding amount, unless it changed since it was read."""
    header = ledger_store.get_transaction(
        document.company, document.transaction_number or "", 0, 0
    ).header
    matched = sum((match.amount for match in document.matches), Decimal(0))
    after = document.model_copy(
        update={
            "outstanding": Decimal(header["totals"]["gross"]) - matched,
            "version": document.version + 1,
        }
    )
    try:
        transact([moved(document, after, Change("backfill_outstanding", MIGRATION_BY))])
    except Conflict:
        return False
    return True
