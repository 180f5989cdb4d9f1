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

import base64
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from pynamodb.exceptions import DoesNotExist

from background_posting.domain.documents import COMPLETE, Document
from background_posting.domain.errors import Conflict, InvalidRequest, NotFound
from background_posting.store import documents as document_store
from background_posting.store.documents import DocumentRecord
from background_posting.store.writes import Write, transact

MATCH_SK = "MATCH"
TRADING_TYPES = ("sales_invoice", "sales_credit_note", "payable_invoice", "payable_credit_note")


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


def outstanding_changed(before: Document, after: Document) -> Write:
    """Write `after` (new outstanding and matches, version + 1) over a Complete document's
    header; condition: the header is still at `before.version` and Complete, i.e. its
    outstanding amount is still the one read (MatchRaced otherwise)."""
    if before.status != COMPLETE or after.version != before.version + 1:
        raise ValueError("a match changes a Complete document by one version")
    return document_store.moved(before, after, refusal=_raced([before]))


def commit_match(
    invoice: tuple[Document, Document],
    credit_note: tuple[Document, Document],
    match: StoredMatch,
) -> None:
    """Match two Complete documents: each (before, after) header and the match item, in one
    transaction. Raises MatchRaced (nothing written) when either moved since it was read."""
    transact([outstanding_changed(*invoice), outstanding_changed(*credit_note), match_added(match)])


def commit_unmatch(
    invoice: tuple[Document, Document], credit_note: tuple[Document, Document], match_id: str
) -> None:
    """Undo a match: both headers restored (conditional on the versions read) and the match
    item deleted (conditional on its existing), in one transaction."""
    transact(
        [outstanding_changed(*invoice), outstanding_changed(*credit_note), match_removed(match_id)]
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


# -- listing by account and outstanding -----------------------------------------------------


def _key_of(record: DocumentRecord) -> dict[str, Any]:
    """The exclusive start key that resumes a `by-company` query just after `record`."""
    return {
        "pk": {"S": record.pk},
        "sk": {"S": record.sk},
        "list_pk": {"S": record.list_pk or ""},
        "list_sk": {"S": record.list_sk or ""},
    }


def _prefixes(doc_type: str | None, status: str | None, outstanding: bool) -> list[str | None]:
    if outstanding:  # only posted invoices and credit notes have an outstanding amount
        types = [doc_type] if doc_type else list(TRADING_TYPES)
        if status not in (None, COMPLETE):
            return []
        return [f"{t}#{COMPLETE}#" for t in types if t in TRADING_TYPES]
    if doc_type:
        return [f"{doc_type}#{status}#" if status else f"{doc_type}#"]
    return [None]


def _wanted(document: Document, status: str | None, account: str | None, outstanding: bool) -> bool:
    if status and document.status != status:
        return False
    if account and document.account != account:
        return False
    return not outstanding or bool(document.outstanding)


def _headers(company: str, prefix: str | None, start: dict[str, Any] | None) -> Iterator[Any]:
    condition = DocumentRecord.list_sk.startswith(prefix) if prefix else None
    yield from DocumentRecord.by_company.query(
        company, condition, last_evaluated_key=start, page_size=200
    )


def list_documents(
    companies: Sequence[str],
    doc_type: str | None,
    status: str | None,
    account: str | None,
    outstanding: bool,
    limit: int,
    token: str | None,
) -> document_store.Page:
    """Headers of the companies filtered by account and by having something outstanding
    (read through the `by-company` index, narrowed to posted trading documents when
    `outstanding`); `next` resumes after the last document returned."""
    prefixes = _prefixes(doc_type, status, outstanding)
    position: dict[str, Any] = _decode(token) if token else {"company": 0, "prefix": 0, "key": None}
    company_index, prefix_index = int(position["company"]), int(position["prefix"])
    start: dict[str, Any] | None = position.get("key")
    found: list[Document] = []
    while company_index < len(companies) and prefix_index < len(prefixes):
        for record in _headers(companies[company_index], prefixes[prefix_index], start):
            document = Document.model_validate_json(record.body or "{}")
            if _wanted(document, status, account, outstanding):
                found.append(document)
                if len(found) == limit:
                    token = _encode(
                        {"company": company_index, "prefix": prefix_index, "key": _key_of(record)}
                    )
                    return document_store.Page(found, token)
        start = None
        prefix_index += 1
        if prefix_index == len(prefixes):
            company_index, prefix_index = company_index + 1, 0
    return document_store.Page(found, None)


def _encode(position: dict[str, Any]) -> str:
    return "m" + base64.urlsafe_b64encode(json.dumps(position).encode()).decode()


def _decode(token: str) -> dict[str, Any]:
    try:
        value = json.loads(base64.urlsafe_b64decode(token[1:].encode()))
        if not token.startswith("m") or not isinstance(value, dict):
            raise ValueError
        int(value["company"]), int(value["prefix"])
        return value
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidRequest(
            "The `next` token is not one this API gave out for this list.",
            details={"errors": [{"field": "next", "message": "is not a valid page token"}]},
        ) from exc


def header_of(document_id: str) -> Document:
    """The document's header (no lines), read consistently."""
    return document_store.get_document(document_id, with_lines=False).document
