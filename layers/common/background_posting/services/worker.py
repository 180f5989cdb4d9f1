"""The posting worker: one document's worker items, in order, each at most once.

For each message (a document of a run) the worker takes each waiting item in turn, leasing
it first so that no other worker runs it meanwhile, and:

* on success deletes the item in the same DynamoDB transaction that does the work (the
  posting's commit), with the run's counter and the log entry;
* on failure counts the attempt and logs every error; at the item's maximum attempts a
  document that is not posted yet goes back to In Progress and loses its worker items (its
  errors stay in its worker log group); follow-up work on a posted document is retried and
  never changes the document.

Store and network failures (throttling, timeouts) are not the document's fault: they do not
count as attempts; the message is retried by SQS.

AvaTax documents (../shared/DESIGN.md "AvaTax documents: three stages"): the posting worker
calculates the tax (`calculate_tax`, uncommitted in AvaTax, the line taxes saved on the document)
and posts it (`post_document`, with those taxes) in one message; it stops at `commit_tax`, which
the tax commit function does when a later run sends it the document (`tax_commit=True`). Each
stage is its own item with its own attempts; AvaTax's own transient failures are retried inside
the call (services/tax.py), then count as an attempt with AvaTax's words in the log. A failing
commit leaves the document Complete and is tried again in every run; from its maximum attempts
on, each failure is also logged as an error that raises an alarm.

A message fully processed counts once towards its run's `done` messages; the one that
finishes the run asks for the run's e-mail digests (services/notifications.py).
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import PynamoDBException, TransactWriteError
from pynamodb.transactions import TransactWrite

from background_posting.adapters.sqs import Queue
from background_posting.config import get_settings
from background_posting.domain.background import TAX_COMMIT_ACTIONS
from background_posting.domain.documents import COMPLETE, IN_PROGRESS, READY_TO_POST
from background_posting.domain.errors import Conflict, DomainError, NotFound, ValidationFailed
from background_posting.services import documents as documents_service
from background_posting.services import income_schedules, verification
from background_posting.services import tax as tax_service
from background_posting.services.notifications import request_digests
from background_posting.services.queues import posting_queue
from background_posting.store import documents as document_store
from background_posting.store import ledger as ledger_store
from background_posting.store import work_log
from background_posting.store import worker_items as item_store
from background_posting.store.base import connection, is_condition_failure

logger = Logger(child=True)

TRANSIENT = (BotoCoreError, ClientError, PynamoDBException)
SAFETY_MARGIN_SECONDS = 10.0
POSTING_ACTIONS = frozenset({"calculate_tax", "verify_invoice", "post_document"})
TAX_BUDGET_SECONDS = 30.0  # an AvaTax call, its retries included, ends within this
ABANDONED_AT_LIMIT = frozenset({"income_schedule_journals", "adjustment_journal"})


class OutOfTime(Exception):
    """Not enough time left in this invocation to start the next item."""


@dataclass(frozen=True)
class Message:
    run_id: str | None
    document_id: str

    @classmethod
    def parse(cls, body: dict[str, Any]) -> Message:
        document_id = body.get("document_id")
        if not isinstance(document_id, str) or not document_id:
            raise ValueError("the message names no document_id")
        run_id = body.get("run_id")
        return cls(run_id if isinstance(run_id, str) else None, document_id)


def _now() -> float:
    return time.time()


def _entry(
    item: item_store.WorkerItem,
    run_id: str | None,
    outcome: str,
    errors: list[dict[str, Any]],
    attempt: int,
    documents: list[str] | None = None,
) -> work_log.LogEntry:
    return work_log.LogEntry(
        at=datetime.now(UTC).isoformat(),
        document_id=item.document_id,
        reference=item.reference,
        document_type=item.document_type,
        action=item.action,
        outcome=outcome,
        errors=errors,
        run_id=run_id,
        attempt=attempt,
        documents=documents or [],
    )


def process(
    message: Message,
    worker_id: str,
    seconds_left: Callable[[], float],
    *,
    tax_commit: bool = False,
) -> str:
    """Work through the document's due items; the message's outcome for the run's counts.

    The posting worker does every action but the tax commit; the tax commit function
    (`tax_commit=True`) only that.
    """
    outcomes: list[str] = []
    for item in item_store.items_of(message.document_id):
        now = _now()
        if item.not_before > now:
            break  # waits for a later run (a retry delay, or a commit after posting)
        if (item.action in TAX_COMMIT_ACTIONS) is not tax_commit:
            break  # the other function's work: a run sends the document there
        needed = TAX_BUDGET_SECONDS if item.action in tax_service.PROVIDER_ACTIONS else 0.0
        if seconds_left() < SAFETY_MARGIN_SECONDS + needed:
            raise OutOfTime(item.reference)
        lease_until = now + get_settings().lease_seconds
        if not item_store.lease(item, worker_id, lease_until, now):
            break  # another worker holds this document's work
        outcome = _perform(item, message.run_id, worker_id)
        outcomes.append(outcome)
        if outcome in {"failed", "returned"}:
            break  # later items wait for this one
    if set(outcomes) <= {"skipped", "calculated"}:  # nothing the run counts happened
        work_log.count(message.run_id, "skipped")
        result = "skipped"
    else:
        result = next(o for o in ("returned", "failed", "posted", "completed") if o in outcomes)
    # This message is done: the run may have finished with it (then its digests are asked for)
    request_digests(work_log.count_done(message.run_id))
    return result


def _perform(item: item_store.WorkerItem, run_id: str | None, worker_id: str) -> str:
    try:
        if item.action == "calculate_tax":
            return _calculate(item, run_id)
        if item.action == "verify_invoice":  # verifies, and posts when verified
            return verification.verify(item, run_id, worker_id)
        if item.action == "post_document":
            return _post(item, run_id)
        if item.action == "commit_tax":
            return _commit(item, run_id, worker_id)
        if item.action == "income_schedule_journals":
            return _recognise_income(item, run_id)
        raise ValidationFailed(
            f"{item.reference}: no worker knows the step {item.action!r}; an administrator "
            "should remove this worker item.",
            code="unknown_action",
        )
    except TRANSIENT:
        item_store.release(item, worker_id)
        raise
    except DomainError as exc:
        return _fail(item, run_id, worker_id, _errors_of(exc))
    except Exception as exc:  # a defect: logged in full, counted as an attempt
        logger.exception("worker item failed", extra={"reference": item.reference})
        return _fail(
            item,
            run_id,
            worker_id,
            [
                {
                    "code": "unexpected_error",
                    "message": f"{type(exc).__name__}: {exc}",
                    "trace": traceback.format_exc(limit=5),
                }
            ],
        )


def _errors_of(exc: DomainError) -> list[dict[str, Any]]:
    listed = exc.details.get("errors") if isinstance(exc.details, dict) else None
    if isinstance(listed, list) and listed:
        return [dict(e) for e in listed]
    return [{"code": exc.code, "message": exc.message}]


def _post(item: item_store.WorkerItem, run_id: str | None) -> str:
    try:
        document = document_store.get_document(item.document_id).document
    except NotFound:
        _finish_without_work(item, run_id, "the document no longer exists")
        return "skipped"
    if document.status == COMPLETE:
        # Posted already (a crash after the commit, before this item went): just tidy up.
        _finish_without_work(item, run_id, f"{document.number} was already posted")
        return "skipped"
    if document.status != READY_TO_POST:
        _finish_without_work(item, run_id, f"{document.number} is {document.status}")
        return "skipped"

    def finish(tx: TransactWrite) -> None:
        item_store.delete_in(tx, item)
        work_log.count_in(tx, run_id, "posted")
        work_log.add_entry_in(
            tx, item.log_group, _entry(item, run_id, "posted", [], item.attempts + 1)
        )

    try:
        posted = documents_service.post_now(document, item.submitted_by, finish, extra_items=3)
    except ledger_store.DocumentMoved:
        return "skipped"  # someone else completed, withdrew or changed it meanwhile
    logger.info(
        "document posted",
        extra={"reference": posted.number, "transaction": posted.transaction_number},
    )
    return "posted"


def _recognise_income(item: item_store.WorkerItem, run_id: str | None) -> str:
    """Income schedule journals for a posted invoice; the invoice stays Complete whatever."""
    numbers = income_schedules.recognise(
        item.document_id, item.submitted_by, item.log_group, item.max_attempts
    )
    with TransactWrite(connection=connection()) as tx:
        item_store.delete_in(tx, item)
        work_log.count_in(tx, run_id, "completed")
        work_log.add_entry_in(
            tx,
            item.log_group,
            _entry(item, run_id, "completed", [], item.attempts + 1, documents=numbers),
        )
    return "completed"


def _calculate(item: item_store.WorkerItem, run_id: str | None) -> str:
    """Stage 1 of an AvaTax document: its tax calculated (uncommitted) and saved on it."""
    try:
        stored = document_store.get_document(item.document_id)
    except NotFound:
        _finish_without_work(item, run_id, "the document no longer exists")
        return "skipped"
    document = stored.document
    if document.status != READY_TO_POST:
        _finish_without_work(item, run_id, f"{document.number} is {document.status}")
        return "skipped"
    taxed = tax_service.calculate(document, TAX_BUDGET_SECONDS)

    def finish(tx: TransactWrite) -> None:
        item_store.delete_in(tx, item)
        work_log.add_entry_in(
            tx, item.log_group, _entry(item, run_id, "tax_calculated", [], item.attempts + 1)
        )

    try:
        document_store.save_amendment(
            stored, taxed, lines_changed=True, extend=finish, extra_items=2
        )
    except Conflict:
        return "skipped"  # someone else calculated, withdrew or changed it meanwhile
    logger.info(
        "tax calculated",
        extra={
            "reference": document.number,
            "tax": taxed.tax and taxed.tax.model_dump(mode="json"),
        },
    )
    return "calculated"


def _commit(item: item_store.WorkerItem, run_id: str | None, worker_id: str) -> str:
    """Stage 3 of an AvaTax document: the tax committed in AvaTax, by a later run than the
    posting's; whatever happens, the document stays Complete."""
    try:
        document = document_store.get_document(item.document_id, with_lines=False).document
    except NotFound:
        _finish_without_work(item, run_id, "the document no longer exists")
        return "skipped"
    if document.status != COMPLETE or document.tax is None or document.tax.status != "calculated":
        state = document.tax.status if document.tax else "not calculated"
        why = f"{document.number} is {document.status}, its tax {state}: nothing to commit"
        _finish_without_work(item, run_id, why)
        return "skipped"
    if not tax_service.posted_before_run(document, run_id):
        item_store.release(item, worker_id)
        return "skipped"  # posted by this very run: a later run commits it
    committed = tax_service.commit(document, TAX_BUDGET_SECONDS)
    record, actions, condition = document_store.header_update(document, committed)
    try:
        with TransactWrite(connection=connection()) as tx:
            tx.update(record, actions=actions, condition=condition)
            item_store.delete_in(tx, item)
            work_log.count_in(tx, run_id, "completed")
            work_log.add_entry_in(
                tx, item.log_group, _entry(item, run_id, "tax_committed", [], item.attempts + 1)
            )
    except TransactWriteError as exc:
        if is_condition_failure(exc):
            item_store.release(item, worker_id)
            return "skipped"  # the document changed meanwhile: the next run commits (again)
        raise
    logger.info("tax committed", extra={"reference": document.number, "code": document.tax.code})
    return "completed"


def _commit_overdue(item: item_store.WorkerItem, run_id: str | None, attempts: int) -> None:
    """A tax commit failed its maximum attempts: still tried in every run, and now an alarm."""
    message = (
        f"The tax of {item.reference} is still not committed in AvaTax after {attempts} "
        f"attempts (the maximum is {item.max_attempts}). {item.reference} stays Complete and "
        "the commit is tried again in every run; correct what the errors above say, or remove "
        f"the worker item (DELETE /documents/{item.document_id}/worker-items) and commit it in "
        "AvaTax by hand."
    )
    logger.error(
        "tax commit overdue",
        extra={"reference": item.reference, "attempts": attempts, "run_id": run_id},
    )
    work_log.add_entry(
        item.log_group,
        _entry(
            item,
            run_id,
            "tax_commit_overdue",
            [{"code": "max_attempts_reached", "message": message}],
            attempts,
        ),
    )


def _finish_without_work(item: item_store.WorkerItem, run_id: str | None, why: str) -> None:
    with TransactWrite(connection=connection()) as tx:
        item_store.delete_in(tx, item)
        work_log.add_entry_in(
            tx,
            item.log_group,
            _entry(
                item, run_id, "skipped", [{"code": "nothing_to_do", "message": why}], item.attempts
            ),
        )


def _fail(
    item: item_store.WorkerItem, run_id: str | None, worker_id: str, errors: list[dict[str, Any]]
) -> str:
    retry_after = _now() + get_settings().retry_delay_seconds
    summary = "; ".join(str(e.get("message", "")) for e in errors)
    attempts = item_store.record_failure(item, worker_id, summary, retry_after)
    work_log.add_entry(item.log_group, _entry(item, run_id, "failed", errors, attempts))
    if attempts >= item.max_attempts and item.action in POSTING_ACTIONS:
        return _return_to_in_progress(item, run_id, attempts)
    if attempts >= item.max_attempts and item.action in ABANDONED_AT_LIMIT:
        _abandon(item, run_id, attempts)
    if attempts >= item.max_attempts and item.action in TAX_COMMIT_ACTIONS:
        _commit_overdue(item, run_id, attempts)
    work_log.count(run_id, "failed")
    return "failed"


def _abandon(item: item_store.WorkerItem, run_id: str | None, attempts: int) -> None:
    """Follow-up work that failed its maximum attempts is removed; the invoice stays Complete
    and the log keeps every error, so the finance team can post the journals by hand."""
    message = (
        f"The {item.action.replace('_', ' ')} for {item.reference} failed {attempts} times and "
        f"will not be tried again; {item.reference} stays Complete. Post the journals by hand."
    )
    with TransactWrite(connection=connection()) as tx:
        item_store.delete_in(tx, item)
        work_log.add_entry_in(
            tx,
            item.log_group,
            _entry(
                item,
                run_id,
                "abandoned",
                [{"code": "max_attempts_reached", "message": message}],
                attempts,
            ),
        )


def _return_to_in_progress(item: item_store.WorkerItem, run_id: str | None, attempts: int) -> str:
    """The maximum attempts are spent: the document goes back to In Progress, its items go."""
    document = document_store.get_document(item.document_id, with_lines=False).document
    if document.status != READY_TO_POST:
        return "failed"
    changed = document.model_copy(
        update={
            "status": IN_PROGRESS,
            "version": document.version + 1,
            "updated_at": datetime.now(UTC),
        }
    )
    record, actions, condition = document_store.header_update(document, changed)
    message = (
        f"{document.number} failed {attempts} times and is In Progress again; "
        "correct it and post it again."
    )
    try:
        with TransactWrite(connection=connection()) as tx:
            tx.update(record, actions=actions, condition=condition)
            for remaining in item_store.items_of(item.document_id):
                item_store.delete_in(tx, remaining)
            work_log.count_in(tx, run_id, "returned")
            work_log.add_entry_in(
                tx,
                item.log_group,
                _entry(
                    item,
                    run_id,
                    "returned_to_in_progress",
                    [{"code": "max_attempts_reached", "message": message}],
                    attempts,
                ),
            )
    except TransactWriteError as exc:
        if is_condition_failure(exc):
            return "failed"
        raise
    logger.info("document returned to In Progress", extra={"reference": document.number})
    return "returned"


def hand_on(message: Message, queue: Queue | None = None) -> None:
    """Out of time: queue the document again for a fresh invocation (its items stay as they are)."""
    (queue or posting_queue()).send({"run_id": message.run_id, "document_id": message.document_id})
