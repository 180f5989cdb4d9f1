"""Documents: create, read, list, amend, discard and print, with the status rules (posting
them: `posting`)."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, TypeAdapter

from background_posting import clock
from background_posting.domain.document_input import (
    AmendedJournalLines,
    AmendedTradingLines,
    DocumentInput,
    DocumentPatch,
    JournalLines,
    TradingLines,
    new_document,
    refuse_income_schedules,
)
from background_posting.domain.documents import (
    COMPLETE,
    IN_PROGRESS,
    MAX_LINES,
    Document,
    DocumentLine,
    JournalLine,
)
from background_posting.domain.errors import Conflict, InvalidRequest, NotFound, ValidationFailed
from background_posting.domain.identity import Caller
from background_posting.domain.printout import Printout, printout
from background_posting.domain.tax import cleared_line_taxes
from background_posting.services import visible
from background_posting.store import accounts as account_store
from background_posting.store import companies as company_store
from background_posting.store import document_store, ledger_store, listings
from background_posting.store import reference as reference_store
from background_posting.store.history import Change

_input_adapter: TypeAdapter[Any] = TypeAdapter(DocumentInput, config=ConfigDict(defer_build=True))


def _in_company(company_id: str, account_id: str) -> bool:
    try:
        return account_store.get_account(account_id)[0].company == company_id
    except NotFound:
        return False


def _not_found(company_id: str, account_id: str, field: str, label: str) -> dict[str, str]:
    return {
        "field": field,
        "label": label,
        "message": f"Account {account_id} does not exist in company {company_id}: choose one "
        f"of {company_id}'s customers or vendors.",
        "code": "account_not_found",
    }


def _refuse(errors: list[dict[str, str]]) -> None:
    if errors:
        raise ValidationFailed(
            errors[0]["message"], code="account_not_found", details={"errors": errors}
        )


def _check_account(company_id: str, account_id: str | None, field: str = "account") -> None:
    """An account named on a document must exist in the document's company."""
    if account_id is not None and not _in_company(company_id, account_id):
        _refuse([_not_found(company_id, account_id, field, "Account")])


def _check_line_accounts(company_id: str, lines: list[Any], first_index: int = 0) -> None:
    """A journal line's account must exist in the journal's company too (found when it is
    entered, not only when it posts): each line naming another company's is named."""
    known: dict[str, bool] = {}
    errors = []
    for index, line in enumerate(lines):
        account_id = line.account if isinstance(line, JournalLine) else None
        if account_id is None:
            continue
        if account_id not in known:
            known[account_id] = _in_company(company_id, account_id)
        if not known[account_id]:
            field = f"lines[{first_index + index}].account"
            errors.append(
                _not_found(
                    company_id, account_id, field, f"Account on line {first_index + index + 1}"
                )
            )
    _refuse(errors)


def create_document(caller: Caller, data: Any, document_id: str | None = None) -> Document:
    """A new In Progress document; `document_id` (a recurring invoice's, derived from its
    template and date) makes a second creation fail with `document_exists`."""
    caller.require_company(data.company)
    company_store.get_company(data.company)
    _check_account(data.company, data.account)
    _check_line_accounts(data.company, list(data.lines))
    document = new_document(data, caller.user_id, clock.now(), document_id)
    return document_store.insert_document(document, Change("create", caller.user_id))


def list_documents(
    caller: Caller,
    company: str | None,
    doc_type: str | None,
    status: str | None,
    limit: int,
    token: str | None,
    has_background_errors: bool | None = None,
    verification: str | None = None,
) -> listings.Page:
    companies = companies_to_list(caller, company)
    return listings.list_documents(
        companies, doc_type, status, limit, token, has_background_errors, verification
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
    stored = visible.stored(caller, document_id)
    current = stored.document
    current.require_amendable()
    changes = patch.model_dump(exclude_unset=True)
    # An amended document starts afresh: the errors of its last background attempt go.
    merged = (
        current.model_dump() | changes | {"updated_at": clock.now(), "last_background_errors": None}
    )
    if "lines" in changes:
        # Validated as a list, so a problem is named by its line (`lines[2].quantity`).
        lines_model = AmendedJournalLines if current.is_journal else AmendedTradingLines
        merged["lines"] = lines_model.model_validate({"lines": changes["lines"]}).lines
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
                # a trading document refuses it as a field it does not have (400 naming it)
                *(["auto_reverse_on"] if amended.auto_reverse_on is not None else []),
                *(["purchase_orders"] if amended.purchase_orders else []),
            }
        )
    )
    if "account" in changes:
        _check_account(current.company, amended.account)
    if "lines" in changes:
        _check_line_accounts(current.company, list(amended.lines))
    return document_store.save_amendment(
        stored,
        amended,
        lines_changed="lines" in changes or stale_tax,
        change=Change("amend", caller.user_id),
    )


APPEND_TRIES = 20
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
        stored = visible.stored(caller, document_id, with_lines=False)
        current = stored.document
        current.require_status("given more lines", IN_PROGRESS)
        parsed: list[DocumentLine] | list[JournalLine]
        if current.is_journal:
            parsed = JournalLines.model_validate({"lines": lines}).lines
            _check_line_accounts(current.company, parsed, current.line_count)
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
                stored,
                current.model_copy(update={"updated_at": clock.now()}),
                rows,
                Change("lines_added", caller.user_id),
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
    document = visible.read_document(caller, document_id)
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


def read_transaction(
    caller: Caller, document_id: str, offset: int = 0, limit: int | None = None
) -> dict[str, Any]:
    document = visible.read_document(caller, document_id, with_lines=False)
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
