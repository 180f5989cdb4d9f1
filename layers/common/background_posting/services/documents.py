"""Documents: create, read, list, amend, discard, print and post, with the status rules."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pydantic import ConfigDict, TypeAdapter

from background_posting.domain.background import plan_items
from background_posting.domain.documents import (
    COMPLETE,
    IN_PROGRESS,
    MAX_LINES,
    TRANSACTION_PREFIX,
    Document,
    DocumentInput,
    DocumentLine,
    DocumentPatch,
    JournalLine,
    JournalLines,
    TradingLines,
    refuse_income_schedules,
)
from background_posting.domain.errors import Conflict, InvalidRequest, NotFound, ValidationFailed
from background_posting.domain.identity import Caller
from background_posting.domain.ledger import TransactionDraft, build_transaction
from background_posting.domain.printout import Printout, printout
from background_posting.domain.tax import calculated_externally, cleared_line_taxes, tax_override
from background_posting.domain.verification import lines_to_post
from background_posting.services import tax as tax_service
from background_posting.store import accounts as account_store
from background_posting.store import companies as company_store
from background_posting.store import documents as document_store
from background_posting.store import ledger as ledger_store
from background_posting.store import org as org_store
from background_posting.store import reference as reference_store
from background_posting.store import work_log
from background_posting.store import worker_items as item_store
from background_posting.store.writes import Write

_input_adapter: TypeAdapter[Any] = TypeAdapter(DocumentInput, config=ConfigDict(defer_build=True))


def now() -> datetime:
    return datetime.now(UTC)


def _check_account(company_id: str, account_id: str | None, field: str = "account") -> None:
    """An account named on a document must exist in the document's company."""
    if account_id is None:
        return
    try:
        account = account_store.get_account(account_id)[0]
    except NotFound:
        account = None
    if account is None or account.company != company_id:
        message = (
            f"Account {account_id} does not exist in company {company_id}: choose one of "
            f"{company_id}'s customers or vendors."
        )
        raise ValidationFailed(
            message,
            code="account_not_found",
            details={
                "errors": [
                    {
                        "field": field,
                        "label": "Account",
                        "message": message,
                        "code": "account_not_found",
                    }
                ]
            },
        )


def create_document(caller: Caller, data: Any, document_id: str | None = None) -> Document:
    """A new In Progress document; `document_id` (a recurring invoice's, derived from its
    template and date) makes a second creation fail with `document_exists`."""
    caller.require_company(data.company)
    company_store.get_company(data.company)
    _check_account(data.company, data.account)
    stamp = now()
    document = Document(
        id=document_id or uuid.uuid4().hex,
        number="",
        type=data.type,
        company=data.company,
        account=data.account,
        document_date=data.document_date,
        currency=data.currency,
        tax_mode=data.tax_mode,
        reference=data.reference,
        description=data.description,
        recurring=getattr(data, "recurring", False),
        lines=list(data.lines),
        line_count=len(data.lines),
        created_at=stamp,
        created_by=caller.user_id,
        updated_at=stamp,
    )
    return document_store.insert_document(document)


def read_document(caller: Caller, document_id: str, *, with_lines: bool = True) -> Document:
    return _visible(caller, document_id, with_lines=with_lines).document


def read_document_page(caller: Caller, document_id: str, offset: int, limit: int) -> Document:
    """The document with lines [offset, offset + limit): large documents are read in pages."""
    return _visible(caller, document_id, line_offset=offset, line_limit=limit).document


def _visible(
    caller: Caller,
    document_id: str,
    *,
    with_lines: bool = True,
    line_offset: int = 0,
    line_limit: int | None = None,
) -> document_store.Stored:
    stored = document_store.get_document(
        document_id, with_lines=with_lines, line_offset=line_offset, line_limit=line_limit
    )
    if not caller.may_use(stored.document.company):
        raise NotFound(
            f"Document {document_id!r} does not exist.",
            code="document_not_found",
            details={"id": document_id},
        )
    return stored


def list_documents(
    caller: Caller,
    company: str | None,
    doc_type: str | None,
    status: str | None,
    limit: int,
    token: str | None,
    has_background_errors: bool | None = None,
) -> document_store.Page:
    companies = companies_to_list(caller, company)
    return document_store.list_documents(
        companies, doc_type, status, limit, token, has_background_errors
    )


def companies_to_list(caller: Caller, company: str | None) -> list[str]:
    """The companies a list covers: the one named, else those the caller is logged into."""
    if company is not None and not company.strip():
        message = "Company: enter the id of a company (it is empty)."
        raise InvalidRequest(
            message,
            details={
                "errors": [
                    {"field": "company", "label": "Company", "message": message, "code": "empty"}
                ]
            },
        )
    if company is not None:
        caller.require_company(company)
        return [company]
    if caller.logged_in is not None:
        return caller.companies_in(sorted(caller.logged_in))
    if "*" in caller.allowed_companies:
        message = "Choose a company: you may use every company, so the list shows one at a time."
        raise InvalidRequest(
            message,
            details={
                "errors": [
                    {"field": "company", "label": "Company", "message": message, "code": "missing"}
                ]
            },
        )
    return caller.companies_in(sorted(caller.allowed_companies))


def amend_document(caller: Caller, document_id: str, patch: DocumentPatch) -> Document:
    stored = _visible(caller, document_id)
    current = stored.document
    current.require_amendable()
    changes = patch.model_dump(exclude_unset=True)
    # An amended document starts afresh: the errors of its last background attempt go.
    merged = current.model_dump() | changes | {"updated_at": now(), "last_background_errors": None}
    if "lines" in changes:
        line_model = JournalLine if current.is_journal else DocumentLine
        merged["lines"] = [line_model.model_validate(line) for line in changes["lines"]]
    amended = Document.model_validate(merged)
    stale_tax = any(
        isinstance(line, DocumentLine) and line.tax is not None for line in amended.lines
    )
    if stale_tax:  # an amended document's tax is calculated again when it posts
        amended = cleared_line_taxes(amended)
    # The same rules as a new document (currency known, lines well-formed):
    _input_adapter.validate_python(
        amended.model_dump(
            include={
                "type",
                "company",
                "account",
                "document_date",
                "currency",
                "tax_mode",
                "reference",
                "description",
                "lines",
            }
        )
    )
    if "account" in changes:
        _check_account(current.company, amended.account)
    return document_store.save_amendment(
        stored, amended, lines_changed="lines" in changes or stale_tax
    )


APPEND_TRIES = 20
REFERENCE_TRIES = 3
"""How often a posting is built again when the company or its account changed meanwhile."""


def append_lines(
    caller: Caller, document_id: str, lines: list[Any], expected_count: int | None = None
) -> tuple[Document, list[DocumentLine] | list[JournalLine], int]:
    """Append lines to an In Progress document, in order: (document, the lines, their offset).

    Two appends at once both land, one after the other (the store's condition on the header's
    version; the loser reads again and retries). With `expected_count` (the number of lines
    the caller saw), an append lands only at that position: a retried call that already
    landed is refused (409 `line_count_changed`) instead of appending twice.
    """
    for _attempt in range(APPEND_TRIES):
        stored = _visible(caller, document_id, with_lines=False)
        current = stored.document
        current.require_status("given more lines", IN_PROGRESS)
        parsed: list[DocumentLine] | list[JournalLine]
        if current.is_journal:
            parsed = JournalLines.model_validate({"lines": lines}).lines
        else:
            trading = TradingLines.model_validate({"lines": lines}).lines
            refuse_income_schedules(current.type, trading)
            _refuse_entered_tax(trading)
            parsed = trading
        if expected_count is not None and current.line_count != expected_count:
            raise Conflict(
                f"{current.number} has {current.line_count} lines, not {expected_count}: "
                "these lines were appended already or others were added; read it again.",
                code="line_count_changed",
                details={"number": current.number, "line_count": current.line_count},
            )
        if current.line_count + len(parsed) > MAX_LINES:
            raise InvalidRequest(
                f"lines: {current.number} has {current.line_count} lines; a document holds "
                f"at most {MAX_LINES:,}.",
                details={"errors": [{"field": "lines", "message": "too many for one document"}]},
            )
        rows = [line.model_dump(mode="json", exclude_defaults=True) for line in parsed]
        try:
            appended = document_store.append_lines(
                stored, current.model_copy(update={"updated_at": now()}), rows
            )
        except Conflict:
            if expected_count is not None:
                raise
            continue  # another append or change landed first: read again, append after it
        return appended, parsed, current.line_count
    raise Conflict(
        "Could not append the lines: the document is being changed by others; try again.",
        code="concurrent_update",
    )


def _refuse_entered_tax(lines: list[DocumentLine]) -> None:
    for index, line in enumerate(lines):
        if line.tax is not None:
            raise InvalidRequest(
                f"lines[{index}].tax is calculated by the tax provider when the document "
                "posts; it cannot be entered.",
                details={
                    "errors": [{"field": f"lines[{index}].tax", "message": "cannot be entered"}]
                },
            )


def printable(caller: Caller, document_id: str) -> Printout:
    """What the printed document shows: the document with its company's and account's names
    and addresses, totals, tax per code, due date and discount terms."""
    document = read_document(caller, document_id)
    document.require_printable()
    transaction = None
    if document.status == COMPLETE and document.transaction_number:
        transaction = ledger_store.get_transaction(
            document.company, document.transaction_number
        ).header
    reference = reference_store.read(
        document.company, [document.account] if document.account else []
    )
    account = reference.accounts.get(document.account or "")
    return printout(document, reference.company, account, transaction)


# -- posting -------------------------------------------------------------------------------


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


def _header_body(
    draft: TransactionDraft, document: Document, actor: str, at: datetime
) -> dict[str, Any]:
    """The transaction header's body (the store adds its number at the commit)."""
    discount = draft.discount
    return {
        "company": draft.company,
        "period": draft.period,
        "document_id": document.id,
        "document_number": document.number,
        "document_type": document.type,
        "document_date": document.document_date.isoformat(),
        "currency": draft.currency,
        "home_currency": draft.home_currency,
        "dual_currency": draft.dual_currency,
        "rate_document_to_home": format(draft.rate_document_to_home, "f"),
        "rate_home_to_dual": format(draft.rate_home_to_dual, "f"),
        "totals": {k: format(v, "f") for k, v in draft.totals.items()},
        "line_count": len(draft.lines),
        "discount": discount.as_json() if discount is not None else None,
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
    at = now()
    staged = ledger_store.stage_lines(document, line_rows(draft), also)
    return ledger_store.Posting(
        document,
        # Invoices and credit notes: the control line's value, unsigned, less what is matched
        # in this very commit (Post & Match); see domain/matching.py.
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
    """What a posted invoice or credit note has outstanding (None for a journal)."""
    if document.is_journal:
        return None
    control = draft.control_value or Decimal(0)
    return abs(control) - sum((m.amount for m in document.matches), Decimal(0))


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


def post_with_follow_up(caller: Caller, document: Document) -> Document:
    """Post at once; follow-up work (tax commit, income schedule journals) becomes worker items
    in the same transaction, so it can never be lost. AvaTax calculates the tax first (saved on
    the document, uncommitted); a later run commits it."""
    if calculated_externally(document):
        document = tax_service.calculate_and_save(document, tax_service.INTERACTIVE_BUDGET_SECONDS)
    planned = plan_items(document, org_store.background_posting_settings(), posted_already=True)
    follow_up: list[Write] = []
    if planned:
        group, created = work_log.group_created(
            caller.user_id, caller.email, f"Follow-up work for {document.number}"
        )
        follow_up = [created, *item_store.items_added(document, planned, caller.user_id, group)]
    try:
        return post_now(document, caller.user_id, follow_up)
    except document_store.DocumentMoved:
        latest = document_store.get_document(document.id, with_lines=False).document
        latest.require_postable()  # says why: posted, discarded or queued meanwhile
        raise


def read_transaction(
    caller: Caller, document_id: str, offset: int = 0, limit: int | None = None
) -> dict[str, Any]:
    document = read_document(caller, document_id, with_lines=False)
    if document.status != COMPLETE or not document.transaction_number:
        raise NotFound(
            f"{document.number} is {document.status}: it has no transaction yet.",
            code="transaction_not_found",
            details={"number": document.number, "status": document.status},
        )
    stored = ledger_store.get_transaction(
        document.company, document.transaction_number, offset, limit
    )
    shown = offset + len(stored.lines)
    return stored.header | {
        # matching shown with the transaction (what is still open, and against what)
        "outstanding": None if document.outstanding is None else format(document.outstanding, "f"),
        "matches": [m.model_dump(mode="json") for m in document.matches],
        "lines": stored.lines,
        "lines_offset": offset,
        "lines_next": shown if shown < stored.header["line_count"] else None,
    }
