"""The posting worker's loop: one message (a document of a run) at a time, its items in order.

For each message the worker reads the document (one Query: header and lines) and takes its
due worker items in order; each item's work is a step (services/steps.py) and each failure is
handled in one place (services/failures.py). An item whose whole effect is one conditional
commit (`post_document`) is done without a lease: the commit's own conditions (the document's
version and a postable status, the item still there) let only one of two overlapping workers
succeed, and a failed attempt is counted once (conditional on the attempts read). Every other
item (AvaTax calls, income schedule journals) is leased first, so one worker at a time does
it; a worker that dies lets its lease expire and the next run's worker takes over.

The run already read a plain document's one item from the due index: the message carries it,
so the worker does not read it again. Store and network failures (throttling, timeouts) are
not the document's fault: they count no attempt, and SQS delivers the message again.

The messages of one invocation share a `Batch`: the companies' reference data (company,
settings, transaction counter, accounts: one BatchGetItem per company), and the runs they
belong to, whose digests are asked for once the batch is through (services/notification_service.py).
The batch's plain postings are done first, together (services/batch_posting.py): their
documents and their companies' reference data are read in two BatchGetItems in all
(headers with the companies, then line chunks with the accounts) rather than a Query a
document and a BatchGetItem a company, and their runs are not read at all, since the
commit's own condition on each run's record refuses a run that has none (the ordinary path
then reads it, and posts run-less).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools import Logger

from background_posting.adapters.sqs import Queue
from background_posting.config import get_settings
from background_posting.domain.background import only_posting, plan_items
from background_posting.domain.documents import Document
from background_posting.domain.errors import NotFound
from background_posting.domain.settings import BackgroundPostingSettings
from background_posting.domain.work import (
    RUN_COUNTERS,
    TAX_COMMIT_ACTIONS,
    UNLEASED_ACTIONS,
    Action,
    Outcome,
    WorkerItem,
)
from background_posting.services import batch_posting, steps, tax_service
from background_posting.services.attempts import Attempt
from background_posting.services.posting import accounts_named
from background_posting.services.queues import posting_queue, request_digests
from background_posting.store import document_store, work_log
from background_posting.store import reference as reference_store
from background_posting.store import worker_items as item_store

logger = Logger(child=True)

SAFETY_MARGIN_SECONDS = 10.0
TAX_BUDGET_SECONDS = steps.TAX_BUDGET_SECONDS


class OutOfTime(Exception):
    """Not enough time left in this invocation to start the next item."""


@dataclass(frozen=True)
class Message:
    run_id: str | None
    document_id: str
    items: tuple[WorkerItem, ...] | None = None
    """The document's due items as the run read them, when it read them whole."""

    @classmethod
    def parse(cls, body: dict[str, Any]) -> Message:
        document_id = body.get("document_id")
        if not isinstance(document_id, str) or not document_id:
            raise ValueError("the message names no document_id")
        run_id = body.get("run_id")
        carried = body.get("items")
        items = (
            tuple(item_store.from_message(i) for i in carried)
            if isinstance(carried, list) and carried
            else None
        )
        return cls(run_id if isinstance(run_id, str) else None, document_id, items)

    def as_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"run_id": self.run_id, "document_id": self.document_id}
        if self.items:
            body["items"] = [item_store.as_message(i) for i in self.items]
        return body


@dataclass
class Batch:
    """What the messages of one invocation share (see the module's docstring)."""

    worker_id: str
    seconds_left: Callable[[], float]
    clock: Callable[[], float] = time.time
    """The time now (seconds since the epoch), against which leases and retry delays run."""
    references: dict[str, reference_store.Reference] = field(default_factory=dict)
    runs: dict[str, bool] = field(default_factory=dict)
    posted: set[tuple[str | None, str]] = field(default_factory=set)
    """Messages whose documents `post_together` posted already."""

    def post_together(self, messages: list[Message]) -> None:
        """Post the plain documents of the messages, each company's in as few commits as fit
        (services/batch_posting.py); `process` then answers for them at once."""
        posted = batch_posting.post_together(
            [(m.run_id, m.document_id, m.items) for m in messages],
            self._run_assumed,
            self.reference,
            self.clock(),
            self.references.update,
        )
        for run_id, _document_id in posted:
            if run_id is not None:
                self.runs[run_id] = True  # the commit's condition found its record
        self.posted |= posted

    def _run_assumed(self, run_id: str | None) -> str | None:
        """The run id, unread: a commit that counts for a run holds only while the run's
        record is there (RunMissing otherwise, and the ordinary path reads it), so posting
        together needs no read of its own; None once this batch found no record."""
        if run_id is None:
            return None
        return run_id if self.runs.get(run_id, True) else None

    def reference(self, document: Document) -> reference_store.Reference:
        """The document's company's reference data, read once per batch (again when the
        document names an account not read yet)."""
        cached = self.references.get(document.company)
        wanted = accounts_named(document)
        if cached is None or not wanted <= cached.accounts.keys():
            known = set(cached.accounts) if cached is not None else set()
            cached = reference_store.read(document.company, wanted | known)
            self.references[document.company] = cached
        return cached

    def run(self, run_id: str | None) -> str | None:
        """The run id, if the run has a record (read once per batch); else None."""
        if run_id is None:
            return None
        if run_id not in self.runs:
            self.runs[run_id] = work_log.find_run(run_id) is not None
            if not self.runs[run_id]:
                logger.warning(
                    "run not found: the document is worked on outside any run",
                    extra={"run_id": run_id},
                )
        return run_id if self.runs[run_id] else None

    def forget(self, run_id: str) -> None:
        self.runs[run_id] = False

    def finish(self) -> None:
        """Ask for the digests of the runs this batch worked for (each run that finished)."""
        for run_id, exists in self.runs.items():
            if exists:
                request_digests(work_log.find_run(run_id))


def process(
    message: Message,
    worker_id: str,
    seconds_left: Callable[[], float],
    *,
    tax_commit: bool = False,
    batch: Batch | None = None,
    clock: Callable[[], float] = time.time,
) -> str:
    """Work through the document's due items; the message's outcome for the run's counts.

    The posting worker does every action but the tax commit; the tax commit function
    (`tax_commit=True`) only that. Without a `batch`, the message is a batch of its own, on
    `clock`.
    """
    own_batch = batch is None
    batch = batch or Batch(worker_id, seconds_left, clock)
    try:
        return _process(message, batch, tax_commit)
    finally:
        if own_batch:
            batch.finish()


def _process(message: Message, batch: Batch, tax_commit: bool) -> str:
    key = (message.run_id, message.document_id)
    if key in batch.posted:
        batch.posted.discard(key)  # posted with its company's others (and counted done)
        return RUN_COUNTERS[Outcome.POSTED]
    run_id = batch.run(message.run_id)
    try:
        # the tax commit needs only the header; every other step the lines too
        stored = document_store.get_document(message.document_id, with_lines=not tax_commit)
        document: Document | None = stored.document
    except NotFound:
        document = None
    items = _items(message, document)
    outcomes: list[Outcome] = []
    counted_done = False
    for index, item in enumerate(items):
        now = batch.clock()
        if item.not_before > now:
            break  # waits for a later run (a retry delay, or a journal's date)
        if (item.action in TAX_COMMIT_ACTIONS) is not tax_commit:
            break  # the other function's work: a run sends the document there
        needed = TAX_BUDGET_SECONDS if item.action in tax_service.PROVIDER_ACTIONS else 0.0
        if batch.seconds_left() < SAFETY_MARGIN_SECONDS + needed:
            raise OutOfTime(item.reference)
        owner = None
        if item.action not in UNLEASED_ACTIONS:
            if not item_store.lease(item, batch.worker_id, now + get_settings().lease_seconds, now):
                break  # another worker holds this document's work
            owner = batch.worker_id
        attempt = Attempt(
            item,
            run_id,
            owner,
            batch.reference,
            finishing=index == len(items) - 1,
            clock=batch.clock,
        )
        try:
            result = steps.perform(attempt, document)
        except work_log.RunMissing:
            if run_id is not None:
                batch.forget(run_id)  # expired meanwhile: SQS delivers it again, run-less
            raise
        outcomes.append(result.outcome)
        counted_done = counted_done or result.counted_done
        document = result.document or document
        if result.outcome in {Outcome.FAILED, Outcome.RETURNED} or result.stop:
            break  # later items wait for this one (or were done with it)
    counted = [o for o in outcomes if o not in {Outcome.SKIPPED, Outcome.TAX_CALCULATED}]
    if not counted_done:
        # this message is done (with nothing the run counted: then it counts as skipped)
        work_log.count_done(run_id, *([] if counted else [Outcome.SKIPPED]))
    if not counted:
        return RUN_COUNTERS[Outcome.SKIPPED]
    return RUN_COUNTERS[
        next(
            o
            for o in (Outcome.RETURNED, Outcome.FAILED, Outcome.POSTED, Outcome.COMPLETED)
            if o in counted
        )
    ]


def _items(message: Message, document: Document | None) -> list[WorkerItem]:
    """The document's items: as the run read them for a plain posting, else read now."""
    carried = message.items
    if carried is not None and document is not None and len(carried) == 1:
        plan = plan_items(document, BackgroundPostingSettings(), posted_already=False)
        if carried[0].action == Action.POST_DOCUMENT and only_posting(plan):
            return list(carried)
    return item_store.items_of(message.document_id)


def hand_on(message: Message, queue: Queue | None = None) -> None:
    """Out of time: queue the document again for a fresh invocation (its items stay as they are)."""
    (queue or posting_queue()).send(message.as_body())
