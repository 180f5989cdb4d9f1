"""Matching an invoice with a credit note of the same account: pure rules over documents.

Sign convention: `outstanding` is what a posted invoice or credit note still has open, in
document currency, signed by the document's type: positive when it charges the account as an
invoice does or credits it as a credit note does (a credit note's credit is positive too).
Posting sets it to the document's gross, which is the control line's value signed that way: an
invoice whose total is negative (it credits the account) or a credit note whose total is
negative (it charges it) has a negative outstanding. A match of `amount` (always positive)
takes `amount` off both documents, so it is refused unless both have at least `amount`
outstanding: a match never moves an outstanding amount the wrong way, and an account's open
items, each signed as its control line (invoices +, credit notes -, for sales), always add
up to the account's control balance in the ledger. Undoing a match gives it back to both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from background_posting.domain.documents import (
    COMPLETE,
    CREDIT_NOTE_TYPES,
    IN_PROGRESS,
    Document,
    Match,
)
from background_posting.domain.errors import Conflict, ValidationFailed
from background_posting.domain.money import is_rounded

CREDIT_NOTE_FOR: dict[str, str] = {
    "sales_invoice": "sales_credit_note",
    "payable_invoice": "payable_credit_note",
}
INVOICE_FOR: dict[str, str] = {note: invoice for invoice, note in CREDIT_NOTE_FOR.items()}


def credit_note_type(invoice: Document) -> str:
    """SIN -> SCR, PIN -> PCR; a credit note is made only from a Complete invoice."""
    if invoice.type not in CREDIT_NOTE_FOR:
        raise Conflict(
            f"{invoice.number} is a {invoice.type.replace('_', ' ')}: a credit note is made "
            "from a sales or payable invoice.",
            code="not_an_invoice",
            details={"number": invoice.number, "type": invoice.type},
        )
    invoice.require_status("credited", COMPLETE)
    return CREDIT_NOTE_FOR[invoice.type]


@dataclass(frozen=True)
class Pair:
    """An invoice and a credit note that may be matched, in that order."""

    invoice: Document
    credit_note: Document


def pair_of(first: Document, second: Document) -> Pair:
    """Which is the invoice and which the credit note; refused unless they can be matched:
    one invoice and one credit note of the same kind (sales or payable), company, account and
    currency."""
    if first.id == second.id:
        raise ValidationFailed(
            "with: a document cannot be matched with itself.",
            code="invalid_request",
            details={"errors": [{"field": "with", "message": "is the document itself"}]},
        )
    documents = sorted((first, second), key=lambda d: d.type in CREDIT_NOTE_TYPES)
    invoice, note = documents
    if INVOICE_FOR.get(note.type) != invoice.type:
        raise Conflict(
            f"{first.number} and {second.number} cannot be matched: a match pairs a sales "
            "invoice with a sales credit note, or a payable invoice with a payable credit note.",
            code="documents_not_matchable",
            details={"numbers": [first.number, second.number], "types": [first.type, second.type]},
        )
    for field in ("company", "account", "currency"):
        if getattr(invoice, field) != getattr(note, field):
            raise Conflict(
                f"{invoice.number} and {note.number} cannot be matched: they differ in "
                f"{field} ({getattr(invoice, field)} and {getattr(note, field)}).",
                code="documents_not_matchable",
                details={"numbers": [invoice.number, note.number], "field": field},
            )
    return Pair(invoice, note)


def require_open(document: Document, amount: Decimal) -> None:
    """The document is Complete with at least `amount` outstanding."""
    document.require_status("matched", COMPLETE)
    outstanding = document.outstanding or Decimal(0)
    if outstanding < 0:
        kind = (
            "a credit note that charges"
            if document.type in CREDIT_NOTE_TYPES
            else "an invoice that credits"
        )
        raise Conflict(
            f"{document.number} has {outstanding} {document.currency} outstanding: it is {kind} "
            "the account, and a match only takes a credit off what an invoice charges.",
            code="not_outstanding",
            details={
                "number": document.number,
                "outstanding": format(outstanding, "f"),
                "amount": format(amount, "f"),
            },
        )
    if outstanding < amount:
        raise Conflict(
            f"{document.number} has {outstanding} {document.currency} outstanding, less than "
            f"the {amount} {document.currency} to match.",
            code="not_outstanding",
            details={
                "number": document.number,
                "outstanding": format(outstanding, "f"),
                "amount": format(amount, "f"),
            },
        )


def match_amount(pair: Pair, requested: Decimal | None) -> Decimal:
    """What a Match matches: the amount asked for, or (none asked) all that both have open."""
    if requested is None:
        for document in (pair.invoice, pair.credit_note):
            require_open(document, Decimal(0))  # Complete, and not of the wrong sign
            if not document.outstanding:
                raise Conflict(
                    f"{document.number} has nothing outstanding: it is fully matched.",
                    code="not_outstanding",
                    details={"number": document.number, "outstanding": "0"},
                )
        return min(
            pair.invoice.outstanding or Decimal(0), pair.credit_note.outstanding or Decimal(0)
        )
    if requested <= 0 or not is_rounded(requested, pair.invoice.currency):
        raise ValidationFailed(
            f"amount: {requested} is not a positive amount in {pair.invoice.currency}'s minor "
            "units.",
            code="invalid_request",
            details={"errors": [{"field": "amount", "message": "must be positive and rounded"}]},
        )
    require_open(pair.invoice, requested)
    require_open(pair.credit_note, requested)
    return requested


def with_match(document: Document, match: Match) -> Document:
    """The document after `match`: its outstanding less the amount, the match recorded."""
    return document.model_copy(
        update={
            "outstanding": (document.outstanding or Decimal(0)) - match.amount,
            "matches": [*document.matches, match],
        }
    )


def without_match(document: Document, match_id: str) -> Document:
    """The document after its match `match_id` is undone: the amount is outstanding again."""
    kept = [m for m in document.matches if m.id != match_id]
    undone = sum((m.amount for m in document.matches if m.id == match_id), Decimal(0))
    return document.model_copy(
        update={"outstanding": (document.outstanding or Decimal(0)) + undone, "matches": kept}
    )


def require_source(credit_note: Document) -> str:
    """An In Progress credit note made from an invoice: the invoice's id."""
    credit_note.require_status("posted", IN_PROGRESS)
    if credit_note.type not in CREDIT_NOTE_TYPES or credit_note.source_document is None:
        raise Conflict(
            f"{credit_note.number} was not created from an invoice: Post & Match needs a credit "
            "note made with POST /documents/{id}/credit-note. Post it and Match it instead.",
            code="no_source_invoice",
            details={"number": credit_note.number},
        )
    return credit_note.source_document


def post_and_match_pair(credit_note: Document, invoice: Document, gross: Decimal) -> None:
    """Post & Match may go ahead: an In Progress credit note made from this invoice, which is
    Complete, unmatched, and has at least the credit note's `gross` outstanding."""
    if require_source(credit_note) != invoice.id:
        raise Conflict(
            f"{credit_note.number} was not created from {invoice.number}.",
            code="no_source_invoice",
            details={"number": credit_note.number},
        )
    pair_of(invoice, credit_note)
    if invoice.status == COMPLETE and invoice.matches:
        raise Conflict(
            f"{invoice.number} is matched already ({len(invoice.matches)} match(es)): Post & "
            f"Match needs an unmatched invoice. Post {credit_note.number} and Match it instead.",
            code="invoice_already_matched",
            details={"number": invoice.number, "matches": [m.id for m in invoice.matches]},
        )
    if gross <= 0:
        raise Conflict(
            f"{credit_note.number} totals {gross} {credit_note.currency}: it credits nothing "
            f"to match with {invoice.number}"
            + (" (it charges the account more)." if gross < 0 else ".")
            + " Change its lines, or Post it without matching.",
            code="nothing_to_credit",
            details={"number": credit_note.number, "gross": format(gross, "f")},
        )
    require_open(invoice, gross)


def new_match(match_id: str, other: Document, amount: Decimal, at: datetime, by: str) -> Match:
    return Match(id=match_id, with_=other.id, with_number=other.number, amount=amount, at=at, by=by)
