"""The steps of background work: one function per worker item action.

A step takes the attempt (the item, its run, the lease held, the batch's reference data) and
the document as the worker read it, does the action's work, and finishes it in one
transaction that also deletes the item, counts the run and logs the entry. Whatever a step
raises is handled in one place (`perform`, then services/failures.py): a domain error counts
an attempt with its words; a transient AWS failure counts nothing and is raised for SQS.

To add an action (verify an invoice, match, a recurring invoice): write its step here and
name it in `STEPS`.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable

from aws_lambda_powertools import Logger

from background_posting.domain.background import starts_in
from background_posting.domain.documents import COMPLETE, READY_TO_POST, Document
from background_posting.domain.errors import Conflict, DomainError, NotFound
from background_posting.domain.work import Outcome
from background_posting.services import (
    failures,
    income_schedules,
    posting,
    reversal,
    tax_service,
    verification_service,
)
from background_posting.services.attempts import Attempt, StepResult
from background_posting.store import companies as company_store
from background_posting.store import document_store, work_log
from background_posting.store import org as org_store
from background_posting.store import worker_items as item_store
from background_posting.store.transient import is_aws_error, is_transient
from background_posting.store.writes import transact

logger = Logger(child=True)

TAX_BUDGET_SECONDS = 30.0  # an AvaTax call, its retries included, ends within this


def perform(attempt: Attempt, document: Document | None, *, again: bool = True) -> StepResult:
    """The item's step, with every failure handled (see the module's docstring). A step that
    found nothing to do on a document that has changed since it was read (sent back to the
    background after a cancel, say) is performed `again` once on the document as it is now;
    changed once more, the item stays for the next run."""
    step = STEPS.get(attempt.item.action)
    try:
        if step is None:
            raise DomainError(
                f"{attempt.item.reference}: no worker knows the step {attempt.item.action!r}; "
                "an administrator should remove this worker item.",
                code="unknown_action",
            )
        return step(attempt, document)
    except work_log.RunMissing:
        attempt.release()
        raise
    except item_store.ItemGone:
        return StepResult(Outcome.SKIPPED)  # finished or removed by someone else meanwhile
    except document_store.DocumentChanged:
        if again:
            return perform(attempt, _read_again(attempt.item.document_id), again=False)
        attempt.release()
        return StepResult(Outcome.SKIPPED)
    except DomainError as exc:
        return failures.fail(attempt, document, failures.errors_of(exc))
    except Exception as exc:
        if is_transient(exc):
            attempt.release()
            raise
        if is_aws_error(exc):  # refused by AWS, the same way every time: counts an attempt
            return failures.fail(
                attempt, document, [{"code": "store_refused", "message": f"AWS refused: {exc}"}]
            )
        logger.exception("worker item failed", extra={"reference": attempt.item.reference})
        return failures.fail(
            attempt,
            document,
            [
                {
                    "code": "unexpected_error",
                    "message": f"{type(exc).__name__}: {exc}",
                    "trace": traceback.format_exc(limit=5),
                }
            ],
        )


def _read_again(document_id: str) -> Document | None:
    try:
        return document_store.get_document(document_id).document
    except NotFound:
        return None


def post_document(attempt: Attempt, document: Document | None) -> StepResult:
    """Post a Ready to Post document; the item goes in the posting's own commit."""
    if document is None:
        return attempt.nothing_to_do("the document no longer exists", document)
    if document.status == COMPLETE:
        # Posted already (a crash after the commit, before this item went): just tidy up.
        return attempt.nothing_to_do(f"{document.number} was already posted", document)
    if document.status != READY_TO_POST:
        return attempt.nothing_to_do(f"{document.number} is {document.status}", document)
    also = [
        item_store.deleted(attempt.item),
        *attempt.counted(Outcome.POSTED),
        attempt.entry(Outcome.POSTED),
    ]
    try:
        posted = posting.post_now(
            document, attempt.item.submitted_by, also, attempt.reference(document)
        )
    except (document_store.DocumentMoved, item_store.ItemGone):
        return StepResult(Outcome.SKIPPED)  # another worker posted, withdrew or changed it
    logger.info(
        "document posted",
        extra={"reference": posted.number, "transaction": posted.transaction_number},
    )
    return StepResult(Outcome.POSTED, attempt.finishing and attempt.run_id is not None, posted)


def calculate_tax(attempt: Attempt, document: Document | None) -> StepResult:
    """Stage 1 of an AvaTax document: its tax calculated (uncommitted) and saved on it."""
    if document is None:
        return attempt.nothing_to_do("the document no longer exists", document)
    if document.status != READY_TO_POST:
        return attempt.nothing_to_do(f"{document.number} is {document.status}", document)
    stored = document_store.get_document(document.id)
    taxed = tax_service.calculate(stored.document, TAX_BUDGET_SECONDS)
    try:
        saved = document_store.save_amendment(
            stored,
            taxed,
            lines_changed=True,
            change=attempt.change("tax_calculated"),
            also=[item_store.deleted(attempt.item), attempt.entry(Outcome.TAX_CALCULATED)],
        )
    except Conflict:
        attempt.release()
        return StepResult(Outcome.SKIPPED)  # calculated, withdrawn or changed meanwhile
    logger.info(
        "tax calculated",
        extra={
            "reference": document.number,
            "tax": taxed.tax and taxed.tax.model_dump(mode="json"),
        },
    )
    return StepResult(Outcome.TAX_CALCULATED, document=saved)


def commit_tax(attempt: Attempt, document: Document | None) -> StepResult:
    """Stage 3 of an AvaTax document: the tax committed in AvaTax, by a later run than the
    posting's; whatever happens, the document stays Complete. Nothing to commit needs no check
    that the document is still as read: a posted document's tax only moves on (calculated to
    committed, by this step), so nothing a stale read missed could make the commit due again."""
    if document is None:
        return attempt.nothing_to_do("the document no longer exists", document, checked=False)
    if document.status != COMPLETE or document.tax is None or document.tax.status != "calculated":
        state = document.tax.status if document.tax else "not calculated"
        return attempt.nothing_to_do(
            f"{document.number} is {document.status}, its tax {state}: nothing to commit",
            document,
            checked=False,
        )
    if not tax_service.posted_before_run(document, attempt.run_id):
        attempt.release()
        return StepResult(Outcome.SKIPPED)  # posted by this very run: a later run commits it
    committed = tax_service.commit(document, TAX_BUDGET_SECONDS)
    try:
        transact(
            [
                document_store.moved(document, committed, attempt.change("tax_committed")),
                item_store.deleted(attempt.item),
                *attempt.counted(Outcome.COMPLETED),
                attempt.entry(Outcome.TAX_COMMITTED),
            ]
        )
    except Conflict:
        attempt.release()
        return StepResult(Outcome.SKIPPED)  # the document changed meanwhile: the next run commits
    logger.info("tax committed", extra={"reference": document.number, "code": document.tax.code})
    return StepResult(Outcome.COMPLETED, attempt.finishing and attempt.run_id is not None)


def income_schedule_journals(attempt: Attempt, document: Document | None) -> StepResult:
    """Income schedule journals for a posted invoice; the invoice stays Complete whatever."""
    item = attempt.item
    numbers = income_schedules.recognise(
        item.document_id,
        item.submitted_by,
        (item.log_group, item.log_group_title),
        org_store.background_posting_settings(),
    )
    transact(
        [
            item_store.deleted(item),
            *attempt.counted(Outcome.COMPLETED),
            attempt.entry(Outcome.COMPLETED, documents=numbers),
        ]
    )
    return StepResult(Outcome.COMPLETED, attempt.finishing and attempt.run_id is not None)


def reverse_journal(attempt: Attempt, document: Document | None) -> StepResult:
    """A posted accrual reversed on its `auto_reverse_on` date (services/reversal.py). The run
    reaches the item from the date's start in the earliest time zone; before midnight in the
    company's own zone the item waits for then, its attempts not counted."""
    if document is None:
        return attempt.nothing_to_do("the journal no longer exists", document)
    if document.status != COMPLETE or document.auto_reverse_on is None:
        return attempt.nothing_to_do(
            f"{document.number} is {document.status}, not to reverse", document
        )
    company = company_store.get_company(document.company)[0]
    starts = starts_in(document.auto_reverse_on, company.timezone)
    if attempt.clock() < starts:
        transact([item_store.postponed(attempt.item, starts)])
        return StepResult(Outcome.SKIPPED)
    reversed_now = reversal.reverse_accrual(document, attempt.item.submitted_by)
    if reversed_now is None:
        return attempt.nothing_to_do(f"{document.number} is reversed already", document)
    transact(
        [
            item_store.deleted(attempt.item),
            *attempt.counted(Outcome.COMPLETED),
            attempt.entry(Outcome.COMPLETED, documents=[reversed_now.number]),
        ]
    )
    logger.info("accrual reversed", extra={"reference": document.number, "by": reversed_now.number})
    return StepResult(Outcome.COMPLETED, attempt.finishing and attempt.run_id is not None)


STEPS: dict[str, Callable[[Attempt, Document | None], StepResult]] = {
    "calculate_tax": calculate_tax,
    "verify_invoice": verification_service.verify,
    "post_document": post_document,
    "commit_tax": commit_tax,
    "income_schedule_journals": income_schedule_journals,
    "reverse_journal": reverse_journal,
}
