"""Invoice verification in the background: the `verify_invoice` step and what a user may do
with an invoice verified with errors (docs/design.md "Background invoice verification").

The step (`verify`, called by the posting worker) reads the invoice, the referenced order
lines (one BatchGetItem) and the company's tolerance, and asks the pure rule
(domain/verification.py). Verified: it posts the invoice at once, in the posting's own commit
transaction, which also marks the order lines invoiced (conditionally: two invoices verified
against the same receipts cannot both post), removes this item and the `post_document` item
after it, counts the run and writes the log entry. With errors: the invoice shows
`verification.status: with_errors`, the log entry says what is expected, invoiced and missing
per order line, and the item waits for the next run WITHOUT counting an attempt (goods may
arrive); all in one transaction. Other problems (an order that no longer matches, a closed
period) are errors of the document and count as attempts, as for any posting.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from decimal import Decimal
from typing import Any

from aws_lambda_powertools import Logger

from background_posting import clock
from background_posting.config import get_settings
from background_posting.domain.documents import (
    DISCARDED,
    IN_PROGRESS,
    READY_TO_POST,
    Document,
    DocumentLine,
    Status,
)
from background_posting.domain.errors import Conflict, ValidationFailed
from background_posting.domain.errors import NotFound as NotFoundError
from background_posting.domain.identity import Caller
from background_posting.domain.purchasing import OrderLine
from background_posting.domain.verification import (
    SHORT_OF_GOODS,
    Allocation,
    InvoiceLineRef,
    Verification,
    allocations,
    as_posted,
    needs_verification,
    references,
    suggested_lines,
    with_suggestion,
)
from background_posting.domain.verification import verify as verify_invoice
from background_posting.domain.work import Outcome, WorkerItem
from background_posting.services import posting, tax_service, visible
from background_posting.services.attempts import Attempt, StepResult
from background_posting.store import companies as company_store
from background_posting.store import document_store, purchasing_store, work_log
from background_posting.store import worker_items as item_store
from background_posting.store.history import Change
from background_posting.store.writes import Write, transact

logger = Logger(child=True)

ACTION = "verify_invoice"
REVERIFY_LIMIT = 3  # a verification overtaken by another invoice's posting is redone this often
IN_COMMIT = 50
"""Order lines an invoice marks invoiced inside its posting's commit; an invoice over more
claims them beforehand (`purchasing_store.claim`, docs/invoice-verification.md "Mass data")."""


# -- when the Post button sends the invoice to the background ---------------------------------


def reference_problems(
    document: Document,
    refs: list[InvoiceLineRef],
    headers: dict[str, dict[str, Any]],
    lines: dict[tuple[str, int], OrderLine],
) -> list[dict[str, Any]]:
    """Each referencing line whose order is missing, of another company, vendor or currency,
    or has no such line."""
    problems = []
    for ref in refs:
        field = f"lines[{ref.index}].purchase_order"
        order = headers.get(ref.purchase_order)
        message = None
        if order is None or order.get("company") != document.company:
            message = f"purchase order {ref.purchase_order} does not exist in {document.company}"
        elif order.get("vendor") != document.account:
            message = (
                f"purchase order {ref.purchase_order} is of vendor {order.get('vendor')}, "
                f"not {document.account}"
            )
        elif order.get("currency") != document.currency:
            message = (
                f"purchase order {ref.purchase_order} is in {order.get('currency')}, "
                f"not {document.currency}"
            )
        elif (ref.purchase_order, ref.line) not in lines:
            field = f"lines[{ref.index}].purchase_order_line"
            message = f"purchase order {ref.purchase_order} has no line {ref.line}"
        if message:
            problems.append({"code": "purchase_order_mismatch", "field": field, "message": message})
    return problems


def _suggested(document: Document) -> list[DocumentLine]:
    """The lines verification builds for an invoice that names its purchase orders (none for
    one whose lines reference order lines themselves); 422 naming an order that is missing."""
    orders = []
    for index, order_id in enumerate(document.purchase_orders):
        try:
            order = purchasing_store.get_order(order_id)
        except NotFoundError:
            order = None
        if order is None or order.company != document.company:
            raise ValidationFailed(
                f"{document.number} cannot be verified: purchase order {order_id} does not "
                f"exist in {document.company}.",
                code="posting_validation_failed",
                details={
                    "errors": [
                        {
                            "code": "purchase_order_mismatch",
                            "field": f"purchase_orders[{index}]",
                            "message": f"purchase order {order_id} does not exist in "
                            f"{document.company}",
                        }
                    ]
                },
            )
        orders.append(order)
    return suggested_lines(orders)


def _nothing_received(document: Document, at: datetime, online: bool) -> Verification:
    """An invoice naming orders with nothing received and not invoiced on any of them."""
    names = ", ".join(document.purchase_orders)
    return Verification(
        status="with_errors",
        expected=Decimal(0),
        invoiced=Decimal(0),
        difference=Decimal(0),
        tolerance=Decimal(0),
        checked_at=at,
        errors=[
            {
                "code": SHORT_OF_GOODS,
                "message": f"Nothing has been received and not yet invoiced on {names}, so "
                "there is nothing to invoice. "
                + (
                    "Nothing was posted: post it in the background to wait for the goods."
                    if online
                    else "It is verified again in every run (goods may arrive meanwhile); "
                    "reschedule or discard it."
                ),
                "field": "purchase_orders",
            }
        ],
    )


def _verification(document: Document, *, online: bool = False) -> Verification:
    """The verification of the invoice now (its suggested lines built first), by one rule
    for the background step, online posting and the preview."""
    at = clock.now()
    suggested = _suggested(document)
    if document.purchase_orders and not suggested:
        return _nothing_received(document, at, online)
    refs, lines = _checked(with_suggestion(document, suggested))
    settings = company_store.get_settings(document.company).invoice_verification
    result = verify_invoice(refs, lines, settings, document.currency, at, online=online)
    return result.model_copy(update={"suggested": suggested}) if suggested else result


def _checked(document: Document) -> tuple[list[InvoiceLineRef], dict[tuple[str, int], OrderLine]]:
    refs = references(document)
    headers, lines = purchasing_store.order_headers_and_lines(
        (r.purchase_order, r.line) for r in refs
    )
    problems = reference_problems(document, refs, headers, lines)
    if problems:
        raise ValidationFailed(
            f"{document.number} cannot be verified: {problems[0]['message']}.",
            code="posting_validation_failed",
            details={"errors": problems},
        )
    return refs, lines


def on_queue(document: Document, changed: Document) -> Document:
    """Post button / list view: an invoice referencing order lines is checked (its orders
    exist and match) and waits for verification (`verification.status: pending`)."""
    if not needs_verification(document):
        return changed
    _checked(with_suggestion(document, _suggested(document)))
    return changed.model_copy(update={"verification": Verification(status="pending")})


def verification_now(document: Document, *, online: bool = False) -> Verification:
    """What verification says of the invoice now, by the background step's own rule (online
    verification and the preview), as it would post; writes nothing. ValidationFailed when an
    order it names does not match."""
    settings = company_store.get_settings(document.company).invoice_verification
    return as_posted(_verification(document, online=online), settings)


class _Claims:
    """What an invoice's posting takes from its order lines: marked invoiced in the commit
    itself, or (more lines than fit it) claimed before it, the commit conditional on the
    claims, settled after it; released when the posting fails before its commit."""

    def __init__(self, document_id: str):
        self.document_id = document_id
        self.claimed: purchasing_store.ClaimSet | None = None

    def writes(self, taken: list[Allocation]) -> list[Write]:
        """The commit's writes for `taken`; claims them first when there are many."""
        if len(taken) <= IN_COMMIT:
            return purchasing_store.invoiced(taken)
        self.claimed = purchasing_store.claim(self.document_id, taken)
        return [purchasing_store.claims_posted(self.claimed)]

    def verified_online(self, document: Document) -> tuple[Document, list[Write]]:
        return _verified_online(document, self)

    def failed(self) -> None:
        if self.claimed is not None:
            self.claimed = None
            purchasing_store.release(self.document_id)

    def posted(self) -> None:
        if self.claimed is not None:
            purchasing_store.settle(
                dataclasses.replace(self.claimed, state=purchasing_store.POSTED)
            )


def _verified_online(document: Document, claims: _Claims) -> tuple[Document, list[Write]]:
    """The invoice verified now, and its order lines marked invoiced in the posting's commit;
    with errors, 422 listing them (nothing written)."""
    result = verification_now(document, online=True)
    if result.status == "with_errors":
        raise ValidationFailed(
            f"{document.number} does not match its goods receipts, so it was not posted: "
            f"{result.errors[0]['message']}",
            code=SHORT_OF_GOODS,
            details={"errors": result.errors, "verification": result.model_dump(mode="json")},
        )
    verified = document.model_copy(update={"verification": result})
    return verified, claims.writes(allocations(result))


def post_online(caller: Caller, document: Document) -> Document:
    """`{"mode": "immediate"}` on an invoice that references order lines: verified now by the
    same rule as in the background. Verified, it posts at once (its commit marks the order
    lines invoiced, conditionally, as the step's does); with errors, 422 and nothing changes.
    Another invoice taking the same receipts meanwhile makes it verify again."""
    purchasing_store.release(document.id)  # an earlier, interrupted posting's claims
    for _ in range(REVERIFY_LIMIT):
        claims = _Claims(document.id)
        try:
            posted = posting.post_with_follow_up(caller, document, claims.verified_online)
        except Exception as exc:
            claims.failed()
            if not isinstance(exc, purchasing_store.ReceiptsTaken):
                raise
        else:
            claims.posted()
            return posted
        logger.info("online verification overtaken", extra={"reference": document.number})
        document = visible.read_document(caller, document.id)
        document.require_postable()
    raise Conflict(
        f"{document.number}: other invoices kept using the same goods receipts; post it again.",
        code="verification_contention",
    )


# -- the worker step ----------------------------------------------------------------------------


def verify(attempt: Attempt, document: Document | None) -> StepResult:
    """The `verify_invoice` step: verified, it posts the invoice (and ends the document's
    work); with errors, it waits for the next run (no attempt counted)."""
    item = attempt.item
    if document is not None:
        purchasing_store.release(document.id)  # an earlier, interrupted attempt's claims
    for _ in range(REVERIFY_LIMIT):
        if document is None:
            return attempt.nothing_to_do("the document no longer exists", document)
        if document.status != READY_TO_POST:
            return attempt.nothing_to_do(f"{document.number} is {document.status}", document)
        settings = company_store.get_settings(document.company).invoice_verification
        result = _verification(document)
        if result.status == "with_errors":
            return _wait_for_goods(attempt, document, result)
        try:
            return _post_verified(attempt, document, as_posted(result, settings))
        except purchasing_store.ReceiptsTaken:
            logger.info("verification overtaken", extra={"reference": document.number})
            try:  # verify again against what is left
                document = document_store.get_document(item.document_id).document
            except NotFoundError:
                document = None
    raise Conflict(
        f"{item.reference}: other invoices kept using the same goods receipts; tried again in "
        "the next run.",
        code="verification_contention",
    )


def _post_verified(attempt: Attempt, document: Document, result: Verification) -> StepResult:
    """Post the verified invoice; its commit marks the order lines invoiced (conditionally:
    two invoices verified against the same receipts cannot both commit) and removes the
    document's posting item too."""
    item, run_id = attempt.item, attempt.run_id
    posting_items = [i for i in item_store.items_of(document.id) if i.action == "post_document"]
    claims = _Claims(document.id)
    try:
        also = [
            item_store.deleted(item),
            *(item_store.removed(posting) for posting in posting_items),
            *claims.writes(allocations(result)),
            *([work_log.counted(run_id, Outcome.POSTED, done=True)] if run_id else []),
            attempt.entry(Outcome.POSTED),
        ]
        verified = document.model_copy(update={"verification": result})
        posted = posting.post_now(verified, item.submitted_by, also, attempt.reference(document))
    except (document_store.DocumentMoved, item_store.ItemGone):
        claims.failed()
        return StepResult(Outcome.SKIPPED)  # set back, discarded or posted meanwhile
    except Exception:
        claims.failed()
        raise
    claims.posted()
    logger.info(
        "invoice verified and posted",
        extra={
            "reference": posted.number,
            "transaction": posted.transaction_number,
            "outcome": result.outcome,
            "difference": format(result.difference or 0, "f"),
        },
    )
    return StepResult(Outcome.POSTED, run_id is not None, posted, stop=True)


def _wait_for_goods(attempt: Attempt, document: Document, result: Verification) -> StepResult:
    """With errors: shown on the invoice, logged in full, tried again next run (no attempt)."""
    item = attempt.item
    changed = document.model_copy(
        update={
            "verification": result,
            "version": document.version + 1,
            "updated_at": clock.now(),
        }
    )
    summary = "; ".join(str(e["message"]) for e in result.errors)
    retry_after = clock.timestamp() + get_settings().retry_delay_seconds
    try:
        transact(
            [
                document_store.moved(
                    document, changed, attempt.change("verification", outcome="with_errors")
                ),
                purchasing_store.waiting_for_goods(item, summary, retry_after),
                *attempt.counted(Outcome.FAILED, Outcome.WAITING_FOR_GOODS),
                attempt.entry(Outcome.FAILED, result.errors, item.attempts + 1),
            ]
        )
    except (document_store.DocumentMoved, item_store.ItemGone):
        attempt.release()
        return StepResult(Outcome.SKIPPED)  # the invoice changed meanwhile: nothing to say
    logger.info(
        "invoice verified with errors",
        extra={
            "reference": document.number,
            "expected": format(result.expected or 0, "f"),
            "invoiced": format(result.invoiced or 0, "f"),
        },
    )
    return StepResult(Outcome.FAILED, attempt.finishing, changed)


# -- what the user may do with an invoice verified with errors ---------------------------------


def _with_errors(document: Document) -> bool:
    return (
        document.status == READY_TO_POST
        and document.verification is not None
        and document.verification.status == "with_errors"
    )


def _verification_item(document: Document) -> WorkerItem:
    for item in item_store.items_of(document.id):
        if item.action == ACTION:
            return item
    raise Conflict(
        f"{document.number} has no verification waiting.",
        code="verification_not_waiting",
        details={"number": document.number},
    )


def _require_with_errors(document: Document, action: str) -> None:
    if not _with_errors(document):
        state = document.verification.status if document.verification else "not verified"
        raise Conflict(
            f"{document.number} is {document.status} (verification: {state}): only an invoice "
            f"verified with errors can be {action}.",
            code="verification_not_with_errors",
            details={"number": document.number, "status": document.status},
        )


def reschedule(caller: Caller, document_id: str) -> Document:
    """Verify again in the next run (after new goods receipts), whatever its retry delay."""
    document = visible.read_document(caller, document_id, with_lines=False)
    _require_with_errors(document, "rescheduled")
    item = _verification_item(document)
    assert document.verification is not None
    changed = document.model_copy(
        update={
            "verification": document.verification.model_copy(update={"status": "pending"}),
            "version": document.version + 1,
            "updated_at": clock.now(),
        }
    )
    _write(
        document,
        changed,
        Change("reschedule_verification", caller.user_id),
        [purchasing_store.due_now(item)],
    )
    return changed


def complete(caller: Caller, document_id: str) -> Document:
    """A verified invoice posted, not completed, is completed (`verification.status` posted):
    who and when are kept; once only, whatever two people pressed at once."""
    document = visible.read_document(caller, document_id, with_lines=False)
    verification = document.verification
    if verification is None or verification.status != "posted_not_completed":
        state = verification.status if verification else "not verified"
        raise Conflict(
            f"{document.number} is {document.status} (verification: {state}): only an invoice "
            "posted with its verification not completed can be completed.",
            code="verification_not_open",
            details={"number": document.number, "verification": state},
        )
    at = clock.now()
    changed = document.model_copy(
        update={
            "verification": verification.model_copy(
                update={"status": "posted", "completed_by": caller.user_id, "completed_at": at}
            ),
            "version": document.version + 1,
            "updated_at": at,
        }
    )
    _write(document, changed, Change("complete_verification", caller.user_id), [])
    return changed


def set_back_in_progress(caller: Caller, document: Document) -> Document | None:
    """An invoice verified with errors goes back to In Progress to be changed: its worker items
    are removed by this action (not refused). None: not such an invoice (the usual rules)."""
    if not _with_errors(document):
        return None
    return _leave_background(caller, document, IN_PROGRESS, {})


def discard_with_errors(caller: Caller, document: Document) -> Document | None:
    """An invoice verified with errors may be discarded as it is (entered twice, say)."""
    if not _with_errors(document):
        return None
    voided = tax_service.void_calculated(document, tax_service.INTERACTIVE_BUDGET_SECONDS)
    return _leave_background(caller, document, DISCARDED, voided)


def _leave_background(
    caller: Caller, document: Document, status: Status, extra: dict[str, Any]
) -> Document:
    caller.require_company(document.company)
    items = item_store.items_of(document.id)
    now = clock.timestamp()
    held = [i for i in items if i.lease_until is not None and i.lease_until > now]
    if held:
        raise Conflict(
            f"A worker is verifying {document.number} now; try again when it has finished.",
            code="worker_item_in_progress",
            details={"worker_items": held},
        )
    changed = document.moved_to(status, clock.now(), **extra)
    action = "set_back" if status == IN_PROGRESS else "discard"
    _write(
        document,
        changed,
        Change(action, caller.user_id, {"verification": "with_errors", "worker_items": len(items)}),
        [item_store.removed(item) for item in items],
    )
    purchasing_store.release(document.id)  # what an interrupted attempt may still hold
    return changed


def _write(document: Document, changed: Document, change: Change, more: list[Write]) -> None:
    """The document's change and `more` in one transaction, conditional on its version
    (a worker that posts or re-verifies it meanwhile makes this fail whole)."""
    try:
        transact([document_store.moved(document, changed, change), *more])
    except (document_store.DocumentMoved, item_store.ItemGone) as exc:
        raise Conflict(
            f"{document.number} changed meanwhile; read it again.",
            code="concurrent_update",
            details={"number": document.number},
        ) from exc
