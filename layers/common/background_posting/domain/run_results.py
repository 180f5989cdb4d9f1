"""What a run did, read from its log entries: one result per document, grouped by recipient.

Pure rules over plain data (docs/design.md "Notifications"); `domain.digest` turns the
results into an e-mail:

* a run's results are the log entries it wrote; one document's entries in one run (its
  posting, a follow-up step, its return to In Progress) make one `DocumentResult`;
* the recipient is the owner of the worker log group the entries belong to; one person gets
  one digest per run, however many of their log groups the run touched;
* no spam: a document that failed in this run with exactly the errors of its previous result
  in the same log group is a *repeat*. Repeats alone never cause an e-mail; with the
  `reminders` setting they are reported in full like any other result;
* a run that only found nothing to do for someone (skipped work) sends them nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from background_posting.domain.documents import type_name
from background_posting.domain.verification import SHORT_OF_GOODS
from background_posting.domain.work import FAILURES, Action, LogEntry, LogGroup, Outcome


def _rank(outcome: str) -> int:
    """A document's result in a run is its most telling entry's outcome: a failure, then a
    posting, then any other step done (completed, tax calculated or committed), then a skip."""
    order = (
        Outcome.RETURNED,
        Outcome.ABANDONED,
        Outcome.FAILED,
        Outcome.WAITING_FOR_GOODS,
        Outcome.POSTED,
    )
    if outcome in order:
        return order.index(Outcome(outcome))
    return len(order) + (1 if outcome == Outcome.SKIPPED else 0)


STEP_NAMES: dict[str, str] = {
    Action.CALCULATE_TAX: "tax calculation",
    Action.VERIFY_INVOICE: "invoice verification",
    Action.POST_DOCUMENT: "posting",
    Action.COMMIT_TAX: "tax commit",
    Action.INCOME_SCHEDULE_JOURNALS: "income schedule journals",
    Action.REVERSE_JOURNAL: "journal reversal",
}


def step_name(action: str) -> str:
    """`tax commit`: an action in the words of an e-mail."""
    return STEP_NAMES.get(action, action.replace("_", " "))


Fingerprint = tuple[tuple[str, str, str, str], ...]


@dataclass(frozen=True)
class DocumentResult:
    """What one run did to one document of one log group."""

    document_id: str
    reference: str
    document_type: str
    outcome: str
    posted: bool
    actions: tuple[str, ...]  # the worker item actions whose entries make this result
    errors: tuple[dict[str, Any], ...]
    attempt: int
    failed_action: str | None = None  # the step that failed (or was given up)
    created: tuple[str, ...] = ()  # documents the work created (e.g. journal numbers)
    error_fingerprint: Fingerprint = ()
    repeat: bool = False

    @property
    def is_failure(self) -> bool:
        return self.outcome in FAILURES

    @property
    def is_step_done(self) -> bool:
        """Work other than posting succeeded (follow-up journals, a tax calculation or commit)."""
        return self.outcome not in FAILURES and self.outcome not in (
            Outcome.POSTED,
            Outcome.SKIPPED,
            Outcome.WAITING_FOR_GOODS,
        )

    @property
    def type_name(self) -> str:
        return type_name(self.document_type)

    @property
    def failed_step(self) -> str:
        action = self.failed_action or "post_document"
        return step_name(action)


def fingerprint(entries: Iterable[LogEntry]) -> Fingerprint:
    """The failed entries' errors as a comparable value: the same codes, messages and fields
    in the same steps. A stack trace is left out: its line numbers change between releases.
    """
    return tuple(
        sorted(
            {
                (
                    entry.action,
                    str(error.get("code", "")),
                    str(error.get("message", "")),
                    str(error.get("field", "")),
                )
                for entry in entries
                if entry.outcome == Outcome.FAILED
                for error in entry.errors
            }
        )
    )


def document_result(entries: Sequence[LogEntry]) -> DocumentResult:
    """One document's entries of one run (in time order) as one result."""
    if not entries:
        raise ValueError("a result needs at least one log entry")
    ordered = sorted(entries, key=lambda e: e.at)
    outcomes = {e.outcome for e in ordered}
    outcome = min(outcomes, key=lambda o: (_rank(o), o))
    errors: list[dict[str, Any]] = []
    for entry in ordered:  # every error in full; a skip's note only when nothing else happened
        if entry.outcome != Outcome.SKIPPED or outcome == Outcome.SKIPPED:
            errors.extend(dict(e) for e in entry.errors)
    first = ordered[0]
    failed_action = next(
        (e.action for e in reversed(ordered) if e.outcome in (Outcome.FAILED, Outcome.ABANDONED)),
        None,
    )
    if (
        outcome == Outcome.FAILED
        and failed_action == Action.VERIFY_INVOICE
        and any(e.get("code") == SHORT_OF_GOODS for e in errors)
    ):
        outcome = Outcome.WAITING_FOR_GOODS  # its item failed; for the reader, it waits
    return DocumentResult(
        document_id=first.document_id,
        reference=first.reference,
        document_type=first.document_type,
        outcome=outcome,
        posted=Outcome.POSTED in outcomes,
        actions=tuple(dict.fromkeys(e.action for e in ordered if e.outcome != Outcome.SKIPPED)),
        errors=tuple(errors),
        attempt=max(e.attempt for e in ordered),
        failed_action=failed_action,
        created=tuple(dict.fromkeys(str(n) for e in ordered for n in e.documents)),
        error_fingerprint=fingerprint(ordered),
    )


def _runs_of(entries: Iterable[LogEntry]) -> dict[str, list[LogEntry]]:
    """Entries keyed by run (an entry written outside a run is a run of its own)."""
    runs: dict[str, list[LogEntry]] = {}
    for entry in entries:
        key = entry.run_id or f"entry:{entry.at}"
        runs.setdefault(key, []).append(entry)
    return runs


REPEATABLE = frozenset({Outcome.FAILED, Outcome.WAITING_FOR_GOODS})
"""The results an unchanged next run repeats: said once, then only with reminders."""


def is_repeat(current: DocumentResult, earlier: Sequence[LogEntry]) -> bool:
    """A failure (or a wait for goods) is a repeat when the document's previous result (in
    the same log group) was the same, with exactly the same errors."""
    if current.outcome not in REPEATABLE or not earlier:
        return False
    by_run = _runs_of(earlier)
    latest_run = max(by_run.values(), key=lambda es: max(e.at for e in es))
    previous = document_result(latest_run)
    return (
        previous.outcome == current.outcome
        and previous.error_fingerprint == current.error_fingerprint
    )


@dataclass(frozen=True)
class GroupResults:
    """The results a run wrote into one worker log group."""

    group_id: str
    title: str
    created_at: str
    results: tuple[DocumentResult, ...]


@dataclass(frozen=True)
class Counts:
    posted: int = 0
    completed: int = 0
    failed: int = 0  # failures, including the documents returned to In Progress
    returned: int = 0
    skipped: int = 0
    waiting_for_goods: int = 0

    @classmethod
    def of(cls, results: Iterable[DocumentResult]) -> Counts:
        listed = list(results)
        return cls(
            posted=sum(r.posted for r in listed),
            completed=sum(r.is_step_done for r in listed),
            failed=sum(r.is_failure for r in listed),
            returned=sum(r.outcome == Outcome.RETURNED for r in listed),
            skipped=sum(r.outcome == Outcome.SKIPPED for r in listed),
            waiting_for_goods=sum(r.outcome == Outcome.WAITING_FOR_GOODS for r in listed),
        )

    def summary(self) -> str:
        """`12 posted, 2 failed (1 returned to In Progress), 3 waiting for goods`."""
        text = f"{self.posted} posted, {self.failed} failed"
        if self.returned:
            text += f" ({self.returned} returned to In Progress)"
        if self.waiting_for_goods:
            text += f", {self.waiting_for_goods} waiting for goods"
        if self.completed:
            text += f", {self.completed} follow-up step{'s' if self.completed > 1 else ''} done"
        return text

    @property
    def needing_attention(self) -> int:
        """Documents someone must correct: those returned to In Progress and other failures."""
        return self.failed


@dataclass(frozen=True)
class RecipientResults:
    """Everything one run did for one person: the results in each of their log groups."""

    recipient: str
    email: str
    groups: tuple[GroupResults, ...]

    @property
    def results(self) -> list[DocumentResult]:
        return [r for g in self.groups for r in g.results]

    def news(self, reminders: bool) -> list[DocumentResult]:
        """The results worth an e-mail: anything but skips and (without reminders) repeats."""
        return [
            r for r in self.results if r.outcome != Outcome.SKIPPED and (reminders or not r.repeat)
        ]

    def needs_email(self, reminders: bool) -> bool:
        return bool(self.email) and bool(self.news(reminders))


def results_of_run(run_id: str, groups: Iterable[LogGroup]) -> list[RecipientResults]:
    """The run's results, one `RecipientResults` per owner of the log groups it wrote to."""
    by_owner: dict[str, list[tuple[LogGroup, GroupResults]]] = {}
    for group in groups:
        mine: dict[str, list[LogEntry]] = {}
        earlier: dict[str, list[LogEntry]] = {}
        for entry in group.entries:
            if entry.run_id == run_id:
                mine.setdefault(entry.document_id, []).append(entry)
        started = {document: min(e.at for e in entries) for document, entries in mine.items()}
        for entry in group.entries:
            first = started.get(entry.document_id)
            if first is not None and entry.run_id != run_id and entry.at < first:
                earlier.setdefault(entry.document_id, []).append(entry)
        if not mine:
            continue
        results = []
        for document_id, entries in mine.items():
            result = document_result(entries)
            if is_repeat(result, earlier.get(document_id, [])):
                result = replace(result, repeat=True)
            results.append(result)
        results.sort(key=lambda r: (not r.is_failure, r.reference, r.document_id))
        by_owner.setdefault(group.owner, []).append(
            (group, GroupResults(group.id, group.title, group.created_at, tuple(results)))
        )
    recipients = []
    for owner, pairs in sorted(by_owner.items()):
        pairs.sort(key=lambda pair: pair[0].created_at)
        email = next((g.email for g, _ in reversed(pairs) if g.email), "")
        recipients.append(RecipientResults(owner, email, tuple(r for _, r in pairs)))
    return recipients
