"""One try at one worker item: what a step and the failure handling share."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from background_posting import clock
from background_posting.domain.documents import Document
from background_posting.domain.work import LogEntry, Outcome, WorkerItem
from background_posting.store import document_store, log_groups, work_log
from background_posting.store import reference as reference_store
from background_posting.store import worker_items as item_store
from background_posting.store.history import Change
from background_posting.store.writes import Write, transact

BACKGROUND = "background posting"
"""Who a worker's change is by, in a document's history (for whom: `submitted_by`)."""


@dataclass
class Attempt:
    """One try at one worker item by one worker."""

    item: WorkerItem
    run_id: str | None
    owner: str | None
    """The worker holding the item's lease; None for work done without one."""
    reference: Callable[[Document], reference_store.Reference]
    finishing: bool = False
    """This is the message's last item: its transaction also counts the message done."""
    clock: Callable[[], float] = time.time
    """The worker's clock (seconds since the epoch): what a step compares dates with."""
    _last_at: datetime | None = None

    def _at(self) -> datetime:
        """Now, and later than this attempt's previous entry (entries sort by time)."""
        at = clock.now()
        if self._last_at is not None and at <= self._last_at:
            at = self._last_at + timedelta(microseconds=1)
        self._last_at = at
        return at

    def counted(self, *outcomes: Outcome) -> list[Write]:
        """The run's counters for this attempt's transaction (none outside a run)."""
        if self.run_id is None:
            return []
        return [work_log.counted(self.run_id, *outcomes, done=self.finishing)]

    def change(self, action: str, **details: Any) -> Change:
        """A change this attempt makes to its document, for the document's history."""
        told = {"run": self.run_id, "submitted_by": self.item.submitted_by, **details}
        return Change(action, BACKGROUND, {k: v for k, v in told.items() if v is not None})

    def entry(
        self,
        outcome: str,
        errors: list[dict[str, Any]] | None = None,
        attempt: int | None = None,
        documents: list[str] | None = None,
    ) -> Write:
        return log_groups.entry_added(
            self.item.log_group,
            log_entry(
                self.item, self.run_id, outcome, errors or [], attempt, documents, self._at()
            ),
        )

    def nothing_to_do(
        self, why: str, document: Document | None, *, checked: bool = True
    ) -> StepResult:
        """The item's work is done already or moot on `document` as read: the item goes, the
        log says why; if `checked`, on the condition that the document is still as read, else
        `DocumentChanged` (taken out of the background and sent back since, say: the item
        read may be the new one, and its work is judged again on the document as it is)."""
        check = [document_store.unchanged(self.item.document_id, document)] if checked else []
        transact(
            [
                *check,
                item_store.removed(self.item),
                self.entry(
                    Outcome.SKIPPED,
                    [{"code": "nothing_to_do", "message": why}],
                    attempt=self.item.attempts,
                ),
            ]
        )
        return StepResult(Outcome.SKIPPED)

    def release(self) -> None:
        if self.owner is not None:
            item_store.release(self.item, self.owner)


@dataclass(frozen=True)
class StepResult:
    outcome: Outcome
    counted_done: bool = False
    document: Document | None = None
    """The document as the step left it, when it changed it."""
    stop: bool = False
    """The step did the document's remaining work too (invoice verification posts it)."""


def log_entry(
    item: WorkerItem,
    run_id: str | None,
    outcome: str,
    errors: list[dict[str, Any]],
    attempt: int | None = None,
    documents: list[str] | None = None,
    at: datetime | None = None,
) -> LogEntry:
    return LogEntry(
        at=(at or clock.now()).isoformat(),
        document_id=item.document_id,
        reference=item.reference,
        document_type=item.document_type,
        action=item.action,
        outcome=outcome,
        errors=errors,
        run_id=run_id,
        attempt=item.attempts + 1 if attempt is None else attempt,
        documents=documents or [],
    )
