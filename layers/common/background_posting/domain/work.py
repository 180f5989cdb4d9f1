"""The work vocabulary: worker items, the actions they stand for, runs, log groups and their
entries, and the outcomes an attempt comes to (docs/design.md "Worker items, runs, log
groups").

Plain data, no persistence: `store.worker_items` and `store.work_log` keep these, the worker
(`services/`) makes them, `domain.run_results` reads a run's results from them, and `http/`
shapes their JSON.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Action(StrEnum):
    """What one worker item does to its document, in the order a document's items run."""

    CALCULATE_TAX = "calculate_tax"
    VERIFY_INVOICE = "verify_invoice"
    POST_DOCUMENT = "post_document"
    COMMIT_TAX = "commit_tax"
    INCOME_SCHEDULE_JOURNALS = "income_schedule_journals"
    """Also makes the income schedule's adjustment journal, when some of its periods are closed
    already: it comes from the same schedule in the same idempotent step, so it is no item of
    its own."""
    REVERSE_JOURNAL = "reverse_journal"
    """A posted accrual (`auto_reverse_on`) reversed by the first run on or after its date."""


ACTION_ORDER: tuple[Action, ...] = tuple(Action)
TAX_COMMIT_ACTIONS: frozenset[Action] = frozenset({Action.COMMIT_TAX})
"""What the tax commit function does (in a later run than the posting); the posting worker
does every other action."""
POSTING_ACTIONS: frozenset[Action] = frozenset(
    {Action.CALCULATE_TAX, Action.VERIFY_INVOICE, Action.POST_DOCUMENT}
)
"""The actions before a document is posted: failing them for good returns it to In Progress."""
UNLEASED_ACTIONS: frozenset[Action] = frozenset({Action.POST_DOCUMENT})
"""Actions whose whole effect is one conditional commit: two workers doing one at once cannot
both succeed, so no lease is taken. Every other action calls out (AvaTax) or writes before
its commit, and is leased so that one worker at a time does it."""


class Outcome(StrEnum):
    """What one attempt at a worker item came to: a log entry's outcome."""

    POSTED = "posted"
    COMPLETED = "completed"
    """Follow-up work done (income schedule journals)."""
    TAX_CALCULATED = "tax_calculated"
    TAX_COMMITTED = "tax_committed"
    FAILED = "failed"
    RETURNED = "returned_to_in_progress"
    """Failed its maximum attempts before posting: the document is In Progress again."""
    ABANDONED = "abandoned"
    """Follow-up work given up at its maximum attempts (the document stays Complete)."""
    SKIPPED = "skipped"
    """Nothing to do by the time a worker reached it."""
    CANCELLED = "cancelled"
    """Taken out of the background by its submitter or an administrator (Cancel background
    posting): the document is In Progress again, its worker items gone."""
    WAITING_FOR_GOODS = "waiting_for_goods"
    """A payable invoice short of goods received: its verification item failed (logged as
    `failed`, with what was expected and invoiced), and it is verified again in every run
    without counting against the maximum attempts. Counted in a run apart as well."""


FAILURES: frozenset[Outcome] = frozenset({Outcome.FAILED, Outcome.RETURNED, Outcome.ABANDONED})

RUN_COUNTERS: dict[Outcome, str] = {
    Outcome.POSTED: "posted",
    Outcome.COMPLETED: "completed",
    Outcome.FAILED: "failed",
    Outcome.RETURNED: "returned",
    Outcome.SKIPPED: "skipped",
    Outcome.WAITING_FOR_GOODS: "waiting_for_goods",
}
"""The run counter each counted outcome adds to (a tax commit counts as completed work); a
tax calculation is not counted (its posting is); an invoice waiting for goods counts as
failed and as waiting for goods."""
COUNTER_NAMES: tuple[str, ...] = (
    "queued",
    "posted",
    "failed",
    "returned",
    "skipped",
    "completed",
    "done",
    "abandoned",
    "waiting_for_goods",
)
"""A run's counters: `done` counts the queued documents whose messages are processed,
`abandoned` those of them given up on (the dead-letter queue)."""


@dataclass(frozen=True)
class WorkerItem:
    """One unit of background work for one document (DESIGN.md "Worker items")."""

    document_id: str
    sequence: int
    action: str
    reference: str
    company: str
    document_type: str
    submitted_by: str
    log_group: str
    created_at: str
    attempts: int
    max_attempts: int
    last_error: str | None
    not_before: float
    lease_owner: str | None
    lease_until: float | None
    attempts_setting: str | None = None
    """The background posting setting its attempts count against (`max_attempts` or
    `max_attempts_avatax`), read at each attempt; None on items queued before items named it,
    which keep `max_attempts`, the maximum in force when they were queued."""
    account: str | None = None
    """The document's customer or vendor (None for a journal, or an item queued before items
    named it)."""
    log_group_title: str = ""
    """Its worker log group's title, copied when it was queued, so that a document returned
    after that group was deleted still says which it was ("" on items queued before)."""

    def held_at(self, now: float) -> bool:
        """A worker holds the item's lease at `now` (a POSIX time)."""
        return self.lease_until is not None and self.lease_until > now

    def state_at(self, now: float) -> str:
        """My Job Queue's state: `in_process` (a worker holds it), `failed` (attempted, will
        retry) or `queued`."""
        if self.held_at(now):
            return "in_process"
        return "failed" if self.attempts > 0 else "queued"


QUEUE_STATES: tuple[str, ...] = ("queued", "in_process", "failed")


@dataclass(frozen=True)
class Run:
    """One background posting run: what it covers, how far its scan is, what it counted."""

    id: str
    trigger: str
    requested_by: str
    created_at: str
    companies: list[str] | None
    document_type: str | None
    scheduled_for: str | None
    cursor: dict[str, Any] | None
    scan_complete: bool
    counts: dict[str, int] = field(default_factory=dict)
    """Keyed by `COUNTER_NAMES`."""
    document: str | None = None
    """A run over one document (Retry now, trigger `document`): its id."""
    reference: str | None = None
    """That document's number."""

    @property
    def finished(self) -> bool:
        """The scan is complete and every queued document's message has been processed.

        Counted per message (`done`), not per outcome: one message may post a document and run
        its follow-up work, which adds two outcomes for one queued document.
        """
        return self.scan_complete and self.counts.get("done", 0) >= self.counts.get("queued", 0)

    @property
    def status(self) -> str:
        if not self.scan_complete:
            return "finding work"
        if not self.finished:
            return "processing"
        return (
            "completed with failures"
            if self.counts.get("failed")
            or self.counts.get("returned")
            or self.counts.get("abandoned")
            else "completed"
        )


@dataclass(frozen=True)
class LogEntry:
    """One result of one attempt at one document's worker item, with every error in full."""

    at: str
    document_id: str
    reference: str
    document_type: str
    action: str
    outcome: str
    errors: list[dict[str, Any]]
    run_id: str | None
    attempt: int
    documents: list[str] = field(default_factory=list)
    """Documents this work created (e.g. the income schedule journals' numbers)."""


@dataclass(frozen=True)
class LogGroup:
    """The log of one submission (a Post, a list view's Background Post): its owner is told."""

    id: str
    owner: str
    email: str
    title: str
    created_at: str
    entries: list[LogEntry]
    companies: tuple[str, ...] = ()
    """The companies of the documents submitted (none recorded: a group older than this)."""

    @property
    def summary(self) -> dict[str, int]:
        """How many entries came to each outcome."""
        return dict(Counter(entry.outcome for entry in self.entries))
