"""What a run tells the people who submitted its work: one digest per run and recipient.

Pure rules over plain data (../shared/DESIGN.md "Notifications"):

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
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from background_posting.domain.errors import DomainError
from background_posting.domain.types import TimeZoneName

POSTED = "posted"
FAILED = "failed"
RETURNED = "returned_to_in_progress"
ABANDONED = "abandoned"  # follow-up work given up at its maximum attempts
SKIPPED = "skipped"
# A payable invoice that invoice verification found short of goods received: not a failure,
# it is verified again in every run (goods may arrive). The verification step writes entries
# with this outcome; the digest counts them as "waiting for goods".
WAITING_FOR_GOODS = "waiting_for_goods"

FAILURES = frozenset({FAILED, RETURNED, ABANDONED})


def _rank(outcome: str) -> int:
    """A document's result in a run is its most telling entry's outcome: a failure, then a
    posting, then any other step done (completed, tax calculated or committed), then a skip."""
    order = (RETURNED, ABANDONED, FAILED, WAITING_FOR_GOODS, POSTED)
    if outcome in order:
        return order.index(outcome)
    return len(order) + (1 if outcome == SKIPPED else 0)


STEP_NAMES = {
    "calculate_tax": "tax calculation",
    "verify_invoice": "invoice verification",
    "post_document": "posting",
    "commit_tax": "tax commit",
    "income_schedule_journals": "income schedule journals",
    "adjustment_journal": "adjustment journal",
}

TYPE_NAMES = {
    "sales_invoice": "Sales invoice",
    "sales_credit_note": "Sales credit note",
    "payable_invoice": "Payable invoice",
    "payable_credit_note": "Payable credit note",
    "journal": "Journal",
}

TRIGGER_NAMES = {
    "run_now": "Run Now",
    "schedule": "The scheduled run",
    "list_view": "A list view's Background Post",
}


class NotificationSettings(BaseModel):
    """A user's notification settings.

    `reminders`: also e-mail documents that failed again with the same errors as in their
    previous run (off by default: such a failure is listed, not repeated).
    `timezone`: the zone the e-mails show times in (default: the company's, when all the
    documents of an e-mail are of one company, else the organisation's).
    """

    model_config = ConfigDict(extra="forbid", strict=True)

    reminders: bool = False
    timezone: TimeZoneName | None = Field(
        default=None,
        description="IANA time zone for the times in your e-mails, e.g. Europe/London "
        "(default: the company's)",
    )


class DeliveryFailed(DomainError):
    """The mail service did not accept a digest (it is retried; no document changes)."""

    code = "notification_not_sent"


class LoggedEntry(Protocol):
    """One log entry as the work log keeps it (`store.work_log.LogEntry` is one)."""

    @property
    def at(self) -> str: ...
    @property
    def document_id(self) -> str: ...
    @property
    def reference(self) -> str: ...
    @property
    def document_type(self) -> str: ...
    @property
    def action(self) -> str: ...
    @property
    def outcome(self) -> str: ...
    @property
    def errors(self) -> list[dict[str, Any]]: ...
    @property
    def run_id(self) -> str | None: ...
    @property
    def attempt(self) -> int: ...


class LoggedGroup(Protocol):
    """A worker log group with all its entries (`store.work_log.LogGroup` is one)."""

    @property
    def id(self) -> str: ...
    @property
    def owner(self) -> str: ...
    @property
    def email(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def created_at(self) -> str: ...
    @property
    def entries(self) -> list[Any]: ...


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
            POSTED,
            SKIPPED,
            WAITING_FOR_GOODS,
        )

    @property
    def type_name(self) -> str:
        return TYPE_NAMES.get(self.document_type, self.document_type.replace("_", " "))

    @property
    def failed_step(self) -> str:
        action = self.failed_action or "post_document"
        return STEP_NAMES.get(action, action.replace("_", " "))


def fingerprint(entries: Iterable[LoggedEntry]) -> Fingerprint:
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
                if entry.outcome == FAILED
                for error in entry.errors
            }
        )
    )


def document_result(entries: Sequence[LoggedEntry]) -> DocumentResult:
    """One document's entries of one run (in time order) as one result."""
    if not entries:
        raise ValueError("a result needs at least one log entry")
    ordered = sorted(entries, key=lambda e: e.at)
    outcomes = {e.outcome for e in ordered}
    outcome = min(outcomes, key=lambda o: (_rank(o), o))
    errors: list[dict[str, Any]] = []
    for entry in ordered:  # every error in full; a skip's note only when nothing else happened
        if entry.outcome != SKIPPED or outcome == SKIPPED:
            errors.extend(dict(e) for e in entry.errors)
    first = ordered[0]
    return DocumentResult(
        document_id=first.document_id,
        reference=first.reference,
        document_type=first.document_type,
        outcome=outcome,
        posted=POSTED in outcomes,
        actions=tuple(dict.fromkeys(e.action for e in ordered if e.outcome != SKIPPED)),
        errors=tuple(errors),
        attempt=max(e.attempt for e in ordered),
        failed_action=next(
            (e.action for e in reversed(ordered) if e.outcome in (FAILED, ABANDONED)), None
        ),
        created=tuple(
            dict.fromkeys(str(n) for e in ordered for n in getattr(e, "documents", None) or ())
        ),
        error_fingerprint=fingerprint(ordered),
    )


def _runs_of(entries: Iterable[LoggedEntry]) -> dict[str, list[LoggedEntry]]:
    """Entries keyed by run (an entry written outside a run is a run of its own)."""
    runs: dict[str, list[LoggedEntry]] = {}
    for entry in entries:
        key = entry.run_id or f"entry:{entry.at}"
        runs.setdefault(key, []).append(entry)
    return runs


def is_repeat(current: DocumentResult, earlier: Sequence[LoggedEntry]) -> bool:
    """A failure is a repeat when the document's previous result (in the same log group) was
    a failure with exactly the same errors."""
    if current.outcome != FAILED or not earlier:
        return False
    by_run = _runs_of(earlier)
    latest_run = max(by_run.values(), key=lambda es: max(e.at for e in es))
    previous = document_result(latest_run)
    return previous.outcome == FAILED and previous.error_fingerprint == current.error_fingerprint


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
            returned=sum(r.outcome == RETURNED for r in listed),
            skipped=sum(r.outcome == SKIPPED for r in listed),
            waiting_for_goods=sum(r.outcome == WAITING_FOR_GOODS for r in listed),
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
        return [r for r in self.results if r.outcome != SKIPPED and (reminders or not r.repeat)]

    def needs_email(self, reminders: bool) -> bool:
        return bool(self.email) and bool(self.news(reminders))


def results_of_run(run_id: str, groups: Iterable[LoggedGroup]) -> list[RecipientResults]:
    """The run's results, one `RecipientResults` per owner of the log groups it wrote to."""
    by_owner: dict[str, list[tuple[LoggedGroup, GroupResults]]] = {}
    for group in groups:
        mine: dict[str, list[LoggedEntry]] = {}
        earlier: dict[str, list[LoggedEntry]] = {}
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


@dataclass(frozen=True)
class Email:
    """A rendered e-mail, ready for the mail service."""

    to: str
    subject: str
    text: str
    html: str
