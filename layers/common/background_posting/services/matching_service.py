"""Credit notes from invoices, Post & Match, Match, undoing a match, and the open-items list.

The rules are in domain/matching.py; the writes in store/matches.py. Post & Match puts the
invoice's side of the match into the credit note's own posting commit (services/document_service
`post_now` with `extend`): one DynamoDB transaction posts the credit note and matches both,
or nothing is written.
"""

from __future__ import annotations

import random
import time
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from background_posting import clock
from background_posting.domain.background import background_reasons
from background_posting.domain.documents import (
    COMPLETE,
    Document,
    DocumentLine,
)
from background_posting.domain.errors import Conflict, NotFound
from background_posting.domain.identity import Caller
from background_posting.domain.matching import (
    credit_note_type,
    match_amount,
    new_match,
    pair_of,
    post_and_match_pair,
    require_source,
    with_match,
    without_match,
)
from background_posting.services import document_service, posting, visible
from background_posting.store import companies as company_store
from background_posting.store import document_store, listings
from background_posting.store import matches as match_store
from background_posting.store.history import Change

RACE_RETRIES = 8
"""How often Match (and its undo) reads both documents again after losing a race to another
change of one of them; between tries it waits a little longer each time (with jitter)."""


def _back_off(attempt: int) -> None:
    time.sleep(random.uniform(0, 0.02 * (attempt + 1)))


def _credit_lines(invoice: Document) -> list[DocumentLine]:
    """The invoice's lines as a credit note's: no calculated tax, no income schedule."""
    return [
        line.model_copy(update={"tax": None, "income_schedule": None})
        for line in invoice.lines
        if isinstance(line, DocumentLine)
    ]


def credit_note_from(
    caller: Caller, invoice_id: str, lines: list[DocumentLine] | None, fields: dict[str, Any]
) -> Document:
    """A new In Progress credit note for a Complete invoice's company, account and currency,
    with the invoice's lines (or those given), dated today in the company's time zone unless
    `fields` says otherwise; `source_document` names the invoice."""
    invoice = visible.read_document(caller, invoice_id)
    note_type = credit_note_type(invoice)
    company = company_store.get_company(invoice.company)[0]
    stamp = clock.now()
    today = stamp.astimezone(ZoneInfo(company.timezone)).date()
    chosen = _credit_lines(invoice) if lines is None else lines
    note = Document(
        id=uuid.uuid4().hex,
        number="",
        type=note_type,
        company=invoice.company,
        account=invoice.account,
        document_date=fields.get("document_date") or today,
        currency=invoice.currency,
        tax_mode=invoice.tax_mode,
        reference=fields.get("reference") or invoice.number,
        description=fields.get("description") or f"Credit note for {invoice.number}",
        lines=chosen,
        line_count=len(chosen),
        created_at=stamp,
        created_by=caller.user_id,
        updated_at=stamp,
        source_document=invoice.id,
    )
    return document_store.insert_document(
        note, Change("create", caller.user_id, {"credit_note_for": invoice.number})
    )


# -- Post & Match ---------------------------------------------------------------------------


def post_and_match(caller: Caller, credit_note_id: str) -> tuple[Document, Document]:
    """Post the credit note and match all of it to its source invoice in one transaction.

    Refused (nothing written) when the credit note would go to the background, fails a
    posting validation, or the invoice is not Complete, is matched already or has less
    outstanding than the credit note; a concurrent match or posting cancels the transaction.
    """
    note = visible.read_document(caller, credit_note_id)
    invoice = _header(caller, require_source(note))
    reasons = background_reasons(note, company_store.get_settings(note.company), "button")
    if reasons:
        raise Conflict(
            f"{note.number} would post in the background ({'; '.join(reasons)}), and Post & "
            "Match posts at once: Post it, then Match it when it is Complete.",
            code="post_and_match_needs_immediate_posting",
            details={"number": note.number, "reasons": reasons},
        )
    draft = posting.draft_for(note)  # every posting validation, before anything
    gross = draft.totals["gross"]  # negative when the credit note charges the account
    post_and_match_pair(note, invoice, gross)

    match_id = uuid.uuid4().hex
    at = clock.now()
    note_side = new_match(match_id, invoice, gross, at, caller.user_id)
    current = invoice
    for attempt in range(RACE_RETRIES):
        # The invoice's half of the match goes inside the posting commit
        invoice_side = new_match(match_id, note, gross, at, caller.user_id)
        after = with_match(current, invoice_side).model_copy(
            update={"version": current.version + 1, "updated_at": at}
        )
        also = [
            match_store.outstanding_changed(
                current, after, match_store.matched(match_id, caller.user_id, gross, note, "match")
            ),
            match_store.match_added(_stored(match_id, current, note, gross, at, caller)),
        ]
        try:
            posted = posting.post_now(
                note.model_copy(update={"matches": [note_side]}), caller.user_id, also
            )
        except document_store.DocumentMoved:
            document_store.get_document(note.id, with_lines=False).document.require_postable()
            raise
        except match_store.MatchRaced:
            # The invoice changed meanwhile: read it again; it must still qualify
            if attempt + 1 == RACE_RETRIES:
                raise
            current = match_store.header_of(invoice.id)
            post_and_match_pair(note, current, gross)
            _back_off(attempt)
            continue
        return posted, match_store.header_of(invoice.id)
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


def _stored(
    match_id: str, invoice: Document, note: Document, amount: Decimal, at: datetime, by: Caller
) -> match_store.StoredMatch:
    return match_store.StoredMatch(
        id=match_id,
        company=invoice.company,
        account=invoice.account,
        currency=invoice.currency,
        invoice=invoice.id,
        credit_note=note.id,
        amount=amount,
        at=at,
        by=by.user_id,
    )


def _header(caller: Caller, document_id: str) -> Document:
    return visible.read_document(caller, document_id, with_lines=False)


# -- Match and undo -------------------------------------------------------------------------


def match(
    caller: Caller, document_id: str, other_id: str, amount: Decimal | None
) -> tuple[Document, Document]:
    """Match two Complete documents (an invoice and a credit note of one account) by `amount`
    (default: all that both have outstanding). Answers (document, other) as matched."""
    for attempt in range(RACE_RETRIES):
        document, other = _header(caller, document_id), _header(caller, other_id)
        pair = pair_of(document, other)
        matched = match_amount(pair, amount)
        at = clock.now()
        match_id = uuid.uuid4().hex
        invoice_after = _bumped(
            with_match(
                pair.invoice, new_match(match_id, pair.credit_note, matched, at, caller.user_id)
            ),
            at,
        )
        note_after = _bumped(
            with_match(
                pair.credit_note, new_match(match_id, pair.invoice, matched, at, caller.user_id)
            ),
            at,
        )
        try:
            match_store.commit_match(
                (pair.invoice, invoice_after),
                (pair.credit_note, note_after),
                _stored(match_id, pair.invoice, pair.credit_note, matched, at, caller),
            )
        except match_store.MatchRaced:
            _back_off(attempt)
            continue  # read both again: the amounts still open decide
        if document.id == pair.invoice.id:
            return invoice_after, note_after
        return note_after, invoice_after
    raise Conflict(
        "The documents kept changing while they were being matched; try again.",
        code="concurrent_update",
        details={"ids": [document_id, other_id]},
    )


def _bumped(document: Document, at: datetime) -> Document:
    return document.model_copy(update={"version": document.version + 1, "updated_at": at})


def unmatch(caller: Caller, match_id: str) -> tuple[Document, Document]:
    """Undo a match: the amount is outstanding again on both documents."""
    stored = match_store.get_match(match_id)
    if not caller.may_use(stored.company):
        raise NotFound(f"Match {match_id!r} does not exist.", code="match_not_found")
    for attempt in range(RACE_RETRIES):
        invoice, note = _header(caller, stored.invoice), _header(caller, stored.credit_note)
        for document in (invoice, note):
            document.require_status("unmatched", COMPLETE)
        invoice_after = _bumped(without_match(invoice, match_id), clock.now())
        note_after = _bumped(without_match(note, match_id), clock.now())
        try:
            match_store.commit_unmatch(
                (invoice, invoice_after), (note, note_after), stored, caller.user_id
            )
        except match_store.MatchRaced:
            try:
                match_store.get_match(match_id)
            except NotFound:
                raise NotFound(
                    f"Match {match_id!r} was undone meanwhile.", code="match_not_found"
                ) from None
            _back_off(attempt)
            continue
        return invoice_after, note_after
    raise Conflict(
        "The documents kept changing while the match was being undone; try again.",
        code="concurrent_update",
        details={"id": match_id},
    )


# -- the open-items list --------------------------------------------------------------------


def list_documents(
    caller: Caller,
    company: str | None,
    doc_type: str | None,
    status: str | None,
    account: str | None,
    outstanding: bool,
    limit: int,
    token: str | None,
) -> listings.Page:
    """Documents filtered by account and by having something outstanding, in the companies
    the caller may see (as the plain list: a named company, else those logged into)."""
    companies = document_service.companies_to_list(caller, company)
    return listings.list_by_account(companies, doc_type, status, account, outstanding, limit, token)
