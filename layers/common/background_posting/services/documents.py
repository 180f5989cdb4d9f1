"""Documents: create, read, list, amend, discard, print and post, with the status rules."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pydantic import TypeAdapter
from pynamodb.transactions import TransactWrite

from background_posting.domain.background import plan_items
from background_posting.domain.company import Account
from background_posting.domain.documents import (
    COMPLETE,
    DISCARDED,
    IN_PROGRESS,
    MAX_LINES,
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
from background_posting.domain.tax import calculated_externally, cleared_line_taxes, tax_override
from background_posting.services import tax as tax_service
from background_posting.store import accounts as account_store
from background_posting.store import companies as company_store
from background_posting.store import documents as document_store
from background_posting.store import ledger as ledger_store
from background_posting.store import org as org_store
from background_posting.store import work_log
from background_posting.store import worker_items as item_store

_input_adapter: TypeAdapter[Any] = TypeAdapter(DocumentInput)


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
        raise ValidationFailed(
            f"{field}: account {account_id!r} does not exist in company {company_id!r}.",
            code="account_not_found",
            details={"errors": [{"field": field, "message": "does not exist in this company"}]},
        )


def create_document(caller: Caller, data: Any) -> Document:
    caller.require_company(data.company)
    company_store.get_company(data.company)
    _check_account(data.company, data.account)
    stamp = now()
    document = Document(
        id=uuid.uuid4().hex,
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
) -> document_store.Page:
    if company is not None:
        caller.require_company(company)
        companies = [company]
    elif caller.logged_in is not None:
        companies = caller.companies_in(sorted(caller.logged_in))
    elif "*" in caller.allowed_companies:
        raise ValidationFailed(
            "Name a company: you may use every company, so the list needs `company=`.",
            code="invalid_request",
            details={"errors": [{"field": "company", "message": "is required for this user"}]},
        )
    else:
        companies = caller.companies_in(sorted(caller.allowed_companies))
    return document_store.list_documents(companies, doc_type, status, limit, token)


def amend_document(caller: Caller, document_id: str, patch: DocumentPatch) -> Document:
    stored = _visible(caller, document_id)
    current = stored.document
    current.require_amendable()
    changes = patch.model_dump(exclude_unset=True)
    merged = current.model_dump() | changes | {"updated_at": now()}
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


def discard_document(caller: Caller, document_id: str) -> Document:
    document = _visible(caller, document_id, with_lines=False).document
    document.require_discardable()
    # A tax AvaTax calculated for it (uncommitted) is voided there first
    voided = tax_service.void_calculated(document, tax_service.INTERACTIVE_BUDGET_SECONDS)
    return document_store.change_status(document, DISCARDED, {"updated_at": now(), **voided})


def printable(caller: Caller, document_id: str) -> tuple[Document, dict[str, Any] | None]:
    document = read_document(caller, document_id)
    document.require_printable()
    transaction = None
    if document.status == COMPLETE and document.transaction_number:
        transaction = ledger_store.get_transaction(
            document.company, document.transaction_number
        ).header
    return document, transaction


# -- posting -------------------------------------------------------------------------------


def _accounts_for(document: Document) -> dict[str, Account]:
    wanted = {document.account} if document.account else set()
    for line in document.lines:
        if isinstance(line, JournalLine) and line.account:
            wanted.add(line.account)
    found = {}
    for account_id in sorted(wanted):
        try:
            found[account_id] = account_store.get_account(account_id)[0]
        except NotFound:
            continue
    return found


def draft_for(document: Document) -> TransactionDraft:
    """The transaction posting `document` would create; ValidationFailed lists every problem."""
    company = company_store.get_company(document.company)[0]
    settings = company_store.get_settings(document.company)
    accounts = _accounts_for(document)
    return build_transaction(document, company, accounts, settings, tax_override(document))


def line_rows(draft: TransactionDraft) -> list[dict[str, Any]]:
    return [
        {
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
        for line in draft.lines
    ]


def _header_body(
    draft: TransactionDraft, document: Document, number: str, actor: str, at: datetime
) -> dict[str, Any]:
    discount = draft.discount
    return {
        "number": number,
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


def post_now(
    document: Document,
    actor: str,
    extend: Callable[[TransactWrite], None] | None = None,
    extra_items: int = 0,
) -> Document:
    """Post a document read at `document.version`: one transaction, at most once.

    Raises ValidationFailed (nothing written), or Conflict when the document moved meanwhile.
    Safe to repeat after a crash: staged lines are rewritten under the same keys. `extend`
    adds the caller's writes (worker items, log entries, counters) to the commit.
    """
    draft = draft_for(document)
    chunks = ledger_store.stage_lines(document, line_rows(draft), extra_items)
    at = now()

    def posted(number: str) -> Document:
        return document.model_copy(
            update={
                "status": COMPLETE,
                "version": document.version + 1,
                "transaction_number": number,
                "posted_at": at,
                "posted_by": actor,
                "updated_at": at,
            }
        )

    committed = ledger_store.commit(
        document,
        chunks,
        header_body=lambda number: _header_body(draft, document, number, actor, at),
        posted=posted,
        extend=extend,
        extra_items=extra_items,
    )
    return committed.document


def post_with_follow_up(caller: Caller, document: Document) -> Document:
    """Post at once; follow-up work (tax commit, income schedule journals) becomes worker items
    in the same transaction, so it can never be lost. AvaTax calculates the tax first (saved on
    the document, uncommitted); a later run commits it."""
    if calculated_externally(document):
        document = tax_service.calculate_and_save(document, tax_service.INTERACTIVE_BUDGET_SECONDS)
    planned = plan_items(document, org_store.background_posting_settings(), posted_already=True)

    def add_follow_up(tx: TransactWrite) -> None:
        if planned:
            group = work_log.create_group_in(
                tx, caller.user_id, caller.email, f"Follow-up work for {document.number}"
            )
            item_store.add_items(tx, document, planned, caller.user_id, group)

    try:
        return post_now(document, caller.user_id, add_follow_up, extra_items=len(planned) + 1)
    except ledger_store.DocumentMoved:
        latest = document_store.get_document(document.id, with_lines=False).document
        latest.require_postable()
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
        "lines": stored.lines,
        "lines_offset": offset,
        "lines_next": shown if shown < stored.header["line_count"] else None,
    }
