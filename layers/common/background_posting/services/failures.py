"""A worker item's failed attempt, and what its maximum attempts mean (one place for both).

Each failure is one transaction: the attempt counted on the item (conditional on the
attempts read and on the lease, so an attempt made by two overlapping workers counts once,
and an item already removed gets no more), the log entry with every error, and the run's
count. The maximum is the background posting setting in force at this attempt (not the one
the item was queued with). At the maximum attempts the limit policy
(`domain.background.at_limit`) decides, in the same transaction:

* not posted yet (`calculate_tax`, `post_document`): the document goes back to In Progress,
  loses its worker items, and keeps its last errors; the errors stay in its worker log group;
* follow-up work on a posted document (income schedule journals): the item is removed and
  the document stays Complete;
* the tax commit: still tried in every run; each failure from now on raises an alarm.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from background_posting import clock
from background_posting.config import get_settings
from background_posting.domain.background import AtLimit, at_limit, maximum_attempts
from background_posting.domain.documents import (
    IN_PROGRESS,
    READY_TO_POST,
    Document,
    background_errors,
)
from background_posting.domain.errors import DomainError
from background_posting.domain.work import Outcome
from background_posting.services.attempts import Attempt, StepResult
from background_posting.store import document_store, log_groups
from background_posting.store import org as org_store
from background_posting.store import worker_items as item_store
from background_posting.store.worker_items import WorkerItem
from background_posting.store.writes import Write, transact

logger = Logger(child=True)


def errors_of(exc: DomainError) -> list[dict[str, Any]]:
    listed = exc.details.get("errors") if isinstance(exc.details, dict) else None
    if isinstance(listed, list) and listed:
        return [dict(e) for e in listed]
    return [{"code": exc.code, "message": exc.message}]


def fail(attempt: Attempt, document: Document | None, errors: list[dict[str, Any]]) -> StepResult:
    """Count the failed attempt and apply the limit policy; the attempt's outcome."""
    item = attempt.item
    attempts = item.attempts + 1
    now = clock.now().timestamp()
    summary = "; ".join(str(e.get("message", "")) for e in errors)
    failed = attempt.entry(Outcome.FAILED, errors, attempts)
    maximum = maximum_attempts(item, org_store.background_posting_settings())  # as it is now
    policy = at_limit(item.action) if attempts >= maximum else None
    try:
        if policy is AtLimit.RETURN_DOCUMENT and document is not None:
            if document.status == READY_TO_POST:
                try:
                    returned = _return_document(attempt, document, failed, attempts, errors, now)
                    return StepResult(Outcome.RETURNED, attempt.finishing, returned)
                except document_store.DocumentMoved:
                    pass  # moved meanwhile: the attempt is only counted
        elif policy is AtLimit.ABANDON:
            _abandon(attempt, failed, attempts, now)
            return StepResult(Outcome.FAILED, attempt.finishing)
        writes = [
            item_store.failure_counted(
                item, attempt.owner, summary, now + get_settings().retry_delay_seconds, now
            ),
            failed,
            *attempt.counted(Outcome.FAILED),
        ]
        if policy is AtLimit.KEEP_TRYING:
            writes.append(_commit_overdue(attempt, attempts, maximum))
        transact(writes)
    except item_store.ItemGone:
        # another worker counted this very attempt, or the item was removed meanwhile
        return StepResult(Outcome.SKIPPED)
    return StepResult(Outcome.FAILED, attempt.finishing)


def _spent(attempt: Attempt, now: float) -> Write:
    """The failing item's removal at its limit, under the same conditions as counting it."""
    return item_store.spent(attempt.item, attempt.owner, now)


def returned_document(
    document: Document, errors: list[dict[str, Any]], item: WorkerItem, attempts: int
) -> Document:
    """The document back In Progress after its maximum attempts, carrying its last attempt's
    errors and the log group they are in, with its title (they stay on it after that group is
    deleted; the title is the item's own copy, read from the group only for items queued
    before items kept it)."""
    title = item.log_group_title or log_groups.group_title(item.log_group) or ""
    return document.moved_to(
        IN_PROGRESS,
        clock.now(),
        last_background_errors=background_errors(
            errors, item.log_group, step=item.action, attempts=attempts, log_group_title=title
        ),
    )


def _return_document(
    attempt: Attempt,
    document: Document,
    failed: Write,
    attempts: int,
    errors: list[dict[str, Any]],
    now: float,
) -> Document:
    item = attempt.item
    changed = returned_document(document, errors, item, attempts)
    message = (
        f"{document.number} failed {attempts} times and is In Progress again; "
        "correct it and post it again."
    )
    others = [
        other
        for other in item_store.items_of(item.document_id)
        if (other.sequence, other.action) != (item.sequence, item.action)
    ]
    transact(
        [
            document_store.moved(
                document,
                changed,
                attempt.change("returned", step=item.action, attempts=attempts),
                from_statuses=[READY_TO_POST],
            ),
            _spent(attempt, now),
            *(item_store.removed(other) for other in others),
            failed,
            *attempt.counted(Outcome.RETURNED),
            attempt.entry(
                Outcome.RETURNED,
                [{"code": "max_attempts_reached", "message": message}],
                attempts,
            ),
        ]
    )
    logger.info("document returned to In Progress", extra={"reference": document.number})
    return changed


def _abandon(attempt: Attempt, failed: Write, attempts: int, now: float) -> None:
    """Follow-up work that failed its maximum attempts is removed; the invoice stays Complete
    and the log keeps every error, so the finance team can post the journals by hand."""
    item = attempt.item
    message = (
        f"The {item.action.replace('_', ' ')} for {item.reference} failed {attempts} times and "
        f"will not be tried again; {item.reference} stays Complete. Post the journals by hand."
    )
    transact(
        [
            _spent(attempt, now),
            failed,
            *attempt.counted(Outcome.FAILED),
            attempt.entry(
                Outcome.ABANDONED, [{"code": "max_attempts_reached", "message": message}], attempts
            ),
        ]
    )


def _commit_overdue(attempt: Attempt, attempts: int, maximum: int) -> Write:
    """A tax commit failed its maximum attempts: still tried in every run, and now an alarm."""
    item = attempt.item
    message = (
        f"The tax of {item.reference} is still not committed in AvaTax after {attempts} "
        f"attempts (the maximum is {maximum}). {item.reference} stays Complete and "
        "the commit is tried again in every run; correct what the errors above say, or remove "
        f"the worker item (DELETE /documents/{item.document_id}/worker-items) and commit it in "
        "AvaTax by hand."
    )
    logger.error(
        "tax commit overdue",
        extra={"reference": item.reference, "attempts": attempts, "run_id": attempt.run_id},
    )
    return attempt.entry(
        "tax_commit_overdue", [{"code": "max_attempts_reached", "message": message}], attempts
    )
