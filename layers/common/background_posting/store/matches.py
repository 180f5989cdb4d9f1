"""Matches, stored in the documents table beside the documents they join.

A match is three writes that happen together or not at all:

* the invoice's header: `outstanding` less the amount, the match added to `matches`;
* the credit note's header: the same;
* the match item (`pk = MATCH#<id>`, `sk = MATCH`), which says which two documents it joins
  and by how much, so that `DELETE /matches/{id}` can find and restore both.

Each header update is conditional on the version (and status) of the document as it was read,
and a document's version moves with every change to it, its outstanding amount included: so
the condition holds only while the outstanding amount is the one the match was worked out
from. Two matches racing for one invoice: one commits, the other's transaction is cancelled
and nothing of it is written. `outstanding_changed` and `match_added` are writes for a caller's
transaction (the posting commit, for Post & Match); `commit_match` and `commit_unmatch` are
the transactions of their own for Match and undoing one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from pynamodb.exceptions import DoesNotExist

from background_posting.domain.documents import COMPLETE, Document
from background_posting.domain.errors import Conflict, NotFound
from background_posting.store import document_store
from background_posting.store.document_store import DocumentRecord
from background_posting.store.history import Change
from background_posting.store.writes import Write, transact

MATCH_SK = "MATCH"


@dataclass(frozen=True)
class StoredMatch:
    """A match item: which invoice and credit note it joins, and by how much."""

    id: str
    company: str
    account: str | None
    currency: str
    invoice: str
    credit_note: str
    amount: Decimal
    at: datetime
    by: str

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "company": self.company,
            "account": self.account,
            "currency": self.currency,
            "invoice": self.invoice,
            "credit_note": self.credit_note,
            "amount": format(self.amount, "f"),
            "at": self.at.isoformat(),
            "by": self.by,
        }


def _match_pk(match_id: str) -> str:
    return f"MATCH#{match_id}"


class MatchRaced(Conflict):
    """A document of the match changed after it was read: nothing was written."""


def _raced(documents: Sequence[Document]) -> MatchRaced:
    numbers = [d.number for d in documents]
    return MatchRaced(
        f"{' or '.join(numbers)} changed while the match was being made (another match or "
        "posting at the same moment); nothing was matched. Read them again and retry.",
        code="concurrent_update",
        details={"numbers": numbers},
    )


def match_added(match: StoredMatch) -> Write:
    """Put the match item; condition: no match with this id exists."""
    return Write.put(
        DocumentRecord(_match_pk(match.id), MATCH_SK, body=json.dumps(match.as_json())),
        DocumentRecord.pk.does_not_exist(),
        refusal=Conflict(f"Match {match.id} exists already.", code="match_exists"),
    )


def match_removed(match_id: str) -> Write:
    """Delete the match item; condition: it still exists (a match is undone once)."""
    return Write.delete(
        DocumentRecord(_match_pk(match_id), MATCH_SK),
        DocumentRecord.pk.exists(),
        refusal=NotFound(
            f"Match {match_id!r} does not exist.", code="match_not_found", details={"id": match_id}
        ),
    )


def outstanding_changed(before: Document, after: Document, change: Change) -> Write:
    """Write `after` (new outstanding and matches, version + 1) over a Complete document's
    header, with its history entry; condition: the header is still at `before.version` and
    Complete, i.e. its outstanding amount is still the one read (MatchRaced otherwise)."""
    if before.status != COMPLETE or after.version != before.version + 1:
        raise ValueError("a match changes a Complete document by one version")
    details = {
        **change.details,
        "outstanding": {
            "before": None if before.outstanding is None else format(before.outstanding, "f"),
            "after": None if after.outstanding is None else format(after.outstanding, "f"),
        },
    }
    return document_store.moved(
        before, after, Change(change.action, change.by, details), refusal=_raced([before])
    )


def matched(match_id: str, by: str, amount: Decimal, other: Document, action: str) -> Change:
    """The history of a match (or its undoing) on one of its two documents."""
    return Change(
        action, by, {"match": match_id, "amount": format(amount, "f"), "with": other.number}
    )


def commit_match(
    invoice: tuple[Document, Document],
    credit_note: tuple[Document, Document],
    match: StoredMatch,
) -> None:
    """Match two Complete documents: each (before, after) header and the match item, in one
    transaction. Raises MatchRaced (nothing written) when either moved since it was read."""
    transact(
        [
            outstanding_changed(
                *invoice, matched(match.id, match.by, match.amount, credit_note[0], "match")
            ),
            outstanding_changed(
                *credit_note, matched(match.id, match.by, match.amount, invoice[0], "match")
            ),
            match_added(match),
        ]
    )


def commit_unmatch(
    invoice: tuple[Document, Document],
    credit_note: tuple[Document, Document],
    match: StoredMatch,
    by: str,
) -> None:
    """Undo a match: both headers restored (conditional on the versions read) and the match
    item deleted (conditional on its existing), in one transaction."""
    transact(
        [
            outstanding_changed(
                *invoice, matched(match.id, by, match.amount, credit_note[0], "unmatch")
            ),
            outstanding_changed(
                *credit_note, matched(match.id, by, match.amount, invoice[0], "unmatch")
            ),
            match_removed(match.id),
        ]
    )


def get_match(match_id: str) -> StoredMatch:
    try:
        record = DocumentRecord.get(_match_pk(match_id), MATCH_SK, consistent_read=True)
    except DoesNotExist as exc:
        raise NotFound(
            f"Match {match_id!r} does not exist.", code="match_not_found", details={"id": match_id}
        ) from exc
    data = json.loads(record.body or "{}")
    return StoredMatch(
        id=data["id"],
        company=data["company"],
        account=data.get("account"),
        currency=data["currency"],
        invoice=data["invoice"],
        credit_note=data["credit_note"],
        amount=Decimal(data["amount"]),
        at=datetime.fromisoformat(data["at"]),
        by=data.get("by", ""),
    )


def header_of(document_id: str) -> Document:
    """The document's header (no lines), read consistently."""
    return document_store.get_document(document_id, with_lines=False).document
