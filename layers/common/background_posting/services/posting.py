"""Posting a document: its reference data read, its transaction drafted and checked, and the
commit that posts it once (with the follow-up work the caller adds), tried again when the
reference data changed meanwhile."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from background_posting import clock
from background_posting.domain.background import plan_items
from background_posting.domain.documents import (
    TRANSACTION_PREFIX,
    Document,
    JournalLine,
    PostingRates,
)
from background_posting.domain.identity import Caller
from background_posting.domain.ledger import TransactionDraft, build_transaction
from background_posting.domain.money import Rate
from background_posting.domain.tax import calculated_externally, tax_override
from background_posting.domain.verification import lines_to_post
from background_posting.services import tax_service
from background_posting.store import document_store, ledger_store, log_groups
from background_posting.store import org as org_store
from background_posting.store import reference as reference_store
from background_posting.store import worker_items as item_store
from background_posting.store.writes import Write

REFERENCE_TRIES = 3  # postings built again after the reference data changed under them


def accounts_named(document: Document) -> set[str]:
    """The accounts a posting of `document` reads: its own and its journal lines'."""
    wanted = {document.account} if document.account else set()
    for line in document.lines:
        if isinstance(line, JournalLine) and line.account:
            wanted.add(line.account)
    return wanted


def reference_for(document: Document) -> reference_store.Reference:
    """The company, settings, transaction counter and accounts: one consistent read."""
    return reference_store.read(document.company, accounts_named(document))


def draft_for(
    document: Document, reference: reference_store.Reference | None = None
) -> TransactionDraft:
    """The transaction posting `document` would create; ValidationFailed lists every problem."""
    reference = reference or reference_for(document)
    gl = reference.company.gl_accounts
    document = lines_to_post(document, gl.small_differences, gl.expense)  # verification's
    return build_transaction(
        document,
        reference.company,
        reference.accounts,
        reference.settings,
        tax_override(document),
    )


def line_rows(draft: TransactionDraft) -> Iterator[dict[str, Any]]:
    """The transaction's lines as stored, one at a time (the store writes them chunk by chunk)."""
    for line in draft.lines:
        yield {
            "kind": line.kind,
            "gl_account": line.gl_account,
            "account": line.account,
            "description": line.description,
            "document_value": format(line.document_value, "f"),
            "home_value": format(line.home_value, "f"),
            "dual_value": format(line.dual_value, "f"),
            "source_line": line.source_line,
            "tax_code": line.tax_code,
        }


def draft_json(draft: TransactionDraft) -> dict[str, Any]:
    """What a transaction says beside its lines, as the API shows it (posted or previewed)."""
    return {
        "company": draft.company,
        "period": draft.period,
        "document_date": draft.document_date.isoformat(),
        "currency": draft.currency,
        "home_currency": draft.home_currency,
        "dual_currency": draft.dual_currency,
        "rate_document_to_home": format(draft.rate_document_to_home, "f"),
        "rate_home_to_dual": format(draft.rate_home_to_dual, "f"),
        "totals": {k: format(v, "f") for k, v in draft.totals.items()},
        "line_count": len(draft.lines),
        "discount": draft.discount.as_json() if draft.discount is not None else None,
    }


def rates_posted(original: Document) -> PostingRates:
    """The rates a posted document posted at, as its transaction recorded them: exact
    fractions, or (a transaction posted before they were recorded) the decimal rates it
    shows. A reversal posts at its original's, an income schedule journal at its invoice's."""
    header: dict[str, Any] = ledger_store.get_transaction(
        original.company, original.transaction_number or "", 0, 0
    ).header
    exact = header.get("exact_rates")
    if exact:
        home, dual = exact["document_to_home"], exact["home_to_dual"]
        return PostingRates(
            document_to_home=(Decimal(home[0]), Decimal(home[1])),
            home_to_dual=(Decimal(dual[0]), Decimal(dual[1])),
        )
    return PostingRates(
        document_to_home=(Decimal(header["rate_document_to_home"]), Decimal(1)),
        home_to_dual=(Decimal(header["rate_home_to_dual"]), Decimal(1)),
    )


def _fraction(rate: Rate) -> list[str]:
    return [format(rate.numerator, "f"), format(rate.denominator, "f")]


def _header_body(
    draft: TransactionDraft, document: Document, actor: str, at: datetime
) -> dict[str, Any]:
    """The transaction header's body (the store adds its number at the commit)."""
    return draft_json(draft) | {
        "exact_rates": {  # as fractions: what a reversal posts at (services/reversal.py)
            "document_to_home": _fraction(draft.rate_document_to_home),
            "home_to_dual": _fraction(draft.rate_home_to_dual),
        },
        "document_id": document.id,
        "document_number": document.number,
        "document_type": document.type,
        "posted_at": at.isoformat(),
        "posted_by": actor,
    }


def prepare_posting(
    document: Document,
    actor: str,
    also: Sequence[Write] = (),
    reference: reference_store.Reference | None = None,
) -> ledger_store.Posting:
    """Everything a posting commits but its number: its transaction checked and built (or
    ValidationFailed listing every problem), its lines staged when they do not fit the commit."""
    reference = reference or reference_for(document)
    draft = draft_for(document, reference)
    at = clock.now()
    staged = ledger_store.stage_lines(document, line_rows(draft), also)
    return ledger_store.Posting(
        document,
        # Invoices and credit notes: their gross (negative when its sign does not fit the
        # type), less what is matched in this very commit (Post & Match); see domain/matching.py.
        document.completed(actor, at, outstanding=posted_outstanding(document, draft)),
        _header_body(draft, document, actor, at),
        staged,
        also,
    )


def commit_postings(
    postings: Sequence[ledger_store.Posting], reference: reference_store.Reference
) -> list[Document]:
    """Commit postings of one company together, numbered from the counter `reference` saw."""
    accounts = [p.document.account for p in postings if p.document.account]
    committed = ledger_store.commit_many(
        postings, reference.transaction_counter, reference_store.unchanged(reference, accounts)
    )
    reference.transaction_counter = int(committed[-1].number.removeprefix(TRANSACTION_PREFIX))
    return [c.document for c in committed]


def posted_outstanding(document: Document, draft: TransactionDraft) -> Decimal | None:
    """What a posted invoice or credit note has outstanding (None for a journal): its gross,
    which is the control line's value signed the way its type has it (an invoice that credits
    the account, or a credit note that charges it, has a negative outstanding that no match
    takes), less what is matched."""
    if document.is_journal:
        return None
    return draft.totals["gross"] - sum((m.amount for m in document.matches), Decimal(0))


def post_now(
    document: Document,
    actor: str,
    also: Sequence[Write] = (),
    reference: reference_store.Reference | None = None,
) -> Document:
    """Post a document read at `document.version`: one transaction, at most once.

    Raises ValidationFailed (nothing written), or Conflict when the document moved meanwhile
    or is not In Progress or Ready to Post (the store's commit refuses it, whatever was read).
    Safe to repeat after a crash: staged lines are rewritten under the same keys. `also` are
    the caller's writes (worker items, log entries, counters) that happen in the same commit;
    `reference` what the caller read already (a worker batch shares it between documents).
    """
    reference = reference or reference_for(document)
    tries = REFERENCE_TRIES
    while True:
        posting = prepare_posting(document, actor, also, reference)
        try:
            return commit_postings([posting], reference)[0]
        except reference_store.ReferenceChanged:
            tries -= 1
            if not tries:
                raise
            reference_store.refresh(reference)  # built again from what the company says now


Prepare = Callable[[Document], tuple[Document, Sequence[Write]]]
"""A last step before an online posting: the document as it posts and the writes its commit
must also make (online invoice verification: the verified invoice and its order lines
marked invoiced)."""


def post_with_follow_up(
    caller: Caller, document: Document, prepare: Prepare | None = None
) -> Document:
    """Post at once; follow-up work (tax commit, income schedule journals) becomes worker items
    in the same transaction, so it can never be lost. AvaTax calculates the tax first (saved on
    the document, uncommitted); a later run commits it. `prepare` runs after the tax is known
    and may refuse (nothing is written then)."""
    if calculated_externally(document):
        document = tax_service.calculate_and_save(
            document, caller.user_id, tax_service.INTERACTIVE_BUDGET_SECONDS
        )
    also: Sequence[Write] = ()
    if prepare is not None:
        document, also = prepare(document)
    planned = plan_items(document, org_store.background_posting_settings(), posted_already=True)
    follow_up: list[Write] = list(also)
    if planned:
        title = f"Follow-up work for {document.number}"
        group, created = log_groups.group_created(
            caller.user_id, caller.email, title, [document.company]
        )
        follow_up += [
            created,
            *item_store.items_added(document, planned, caller.user_id, group, title),
        ]
    try:
        return post_now(document, caller.user_id, follow_up)
    except document_store.DocumentMoved:
        latest = document_store.get_document(document.id, with_lines=False).document
        latest.require_postable()  # says why: posted, discarded or queued meanwhile
        raise
