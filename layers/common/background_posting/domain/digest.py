"""What a run's digest e-mail shows: the documents with their amounts, each result in words,
and what the reader should do about it (in the console, never an API call).

Pure: `compose_digest` turns a recipient's results (`domain.notifications`) and the facts of
their documents into a `Digest`; `services.digest_email` renders it with Jinja2.

* **Amounts**: net, tax and total of each document in its own currency (a journal: its
  debits, no tax). An AvaTax document whose tax is not calculated yet shows no tax or total.
* **Times**: in the recipient's time zone when they chose one, else the company's when all the
  documents of the e-mail are of one company, else the organisation's; with the zone's
  abbreviation (`1 Dec 2026 06:41 GMT`).
* **One document's bad data never silences the e-mail**: a document whose amounts cannot be
  worked out is listed with what went wrong instead of its amounts; the rest are as usual.
* **Subject and first line** say what happened and when (`2 posted, 1 failed`, `1 waiting for
  goods`), so the e-mails of one morning differ from the first words.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from background_posting.domain.documents import Document, JournalLine
from background_posting.domain.money import round_money
from background_posting.domain.run_results import (
    Counts,
    DocumentResult,
    RecipientResults,
    step_name,
)
from background_posting.domain.work import Outcome

# The run's name where a sentence starts with it ("Run Now on 1 Dec 2026 at 06:41 GMT: ...").
RUN_NAMES = {
    "run_now": "Run Now",
    "schedule": "The scheduled run",
    "list_view": "Background Post",
}
SHORT_RUN_NAMES = RUN_NAMES | {"schedule": "Scheduled run"}
# The run's name where the text names who did the work ("A list view's Background Post").
TRIGGER_NAMES = RUN_NAMES | {"list_view": "A list view's Background Post"}


@dataclass(frozen=True)
class DocumentFacts:
    """What the e-mail shows of a document besides its result."""

    company: str
    account: str | None
    currency: str
    amount: Decimal | None  # net of tax (a journal: its total debits), in `currency`
    transaction_number: str | None = None
    tax: Decimal | None = None  # None: not known (AvaTax has not calculated it yet)
    total: Decimal | None = None  # net + tax
    timezone: str | None = None  # the company's
    problem: str | None = None  # why its amounts cannot be shown (its data could not be read)

    @property
    def net(self) -> Decimal | None:
        return self.amount


def document_facts(
    document: Document,
    tax: Decimal | None = None,
    total: Decimal | None = None,
    timezone: str | None = None,
) -> DocumentFacts:
    return DocumentFacts(
        company=document.company,
        account=document.account,
        currency=document.currency,
        amount=document_amount(document),
        transaction_number=document.transaction_number,
        tax=tax,
        total=total,
        timezone=timezone,
    )


def document_amount(document: Document) -> Decimal:
    """A trading document's net amount (quantity x price, summed); a journal's total debits."""
    if document.is_journal:
        total = sum(
            (
                line.value
                for line in document.lines
                if isinstance(line, JournalLine) and line.value > 0
            ),
            Decimal(0),
        )
    else:
        total = sum(document.line_values(), Decimal(0))
    return round_money(total, document.currency)


def local_time(iso: str, zone: str) -> str:
    """`2026-12-01T06:41:00+00:00` in Europe/Berlin -> `1 Dec 2026 07:41 CET`."""
    try:
        at = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    here = at.astimezone(ZoneInfo(zone))
    return f"{here.day} {here:%b %Y %H:%M} {here.tzname()}"


@dataclass(frozen=True)
class Row:
    result: DocumentResult
    facts: DocumentFacts | None

    @property
    def outcome_text(self) -> str:
        """The result in words, and what to do about it in the console."""
        result = self.result
        number = self.facts.transaction_number if self.facts else None
        posted = (f"Posted as {number}" if number else "Posted") if result.posted else ""
        created = f"; created {', '.join(result.created)}" if result.created else ""
        if result.outcome == Outcome.RETURNED:
            return (
                f"Not posted: returned to In Progress after {result.attempt} failed attempts. "
                "Open it in the console, correct what the errors below say, and post it again"
            )
        if result.outcome == Outcome.ABANDONED:
            return (
                f"{result.failed_step.capitalize()} given up after {result.attempt} failed "
                "attempts; the document stays Complete. Correct what the errors below say and "
                f"do the {result.failed_step} by hand"
            )
        if result.outcome == Outcome.FAILED:
            failed = (
                f"{result.failed_step} failed (attempt {result.attempt}); it is tried again in "
                "the next run"
            )
            if posted:
                return f"{posted}{created}; {failed}"
            if result.failed_action in (None, "post_document", "calculate_tax"):
                # the submitter's own way out (the document page's Cancel background posting):
                # setting it back to In Progress is refused while its worker items remain
                return (
                    f"Not posted: {failed}. If the document itself must change, open it in "
                    "the console and press Cancel background posting (it is In Progress "
                    "again, out of the background); correct it there and post it again"
                )
            return failed[0].upper() + failed[1:]
        if result.outcome == Outcome.WAITING_FOR_GOODS:
            return (
                "Waiting for goods: invoice verification found less received than invoiced; "
                "it is verified again in every run"
            )
        if result.outcome == Outcome.POSTED:
            return posted + created
        if result.is_step_done:
            steps = ", ".join(step_name(a) for a in result.actions)
            return f"{steps.capitalize()} done{created}"
        return "Nothing to do"


@dataclass(frozen=True)
class Section:
    """One worker log group in the e-mail: its results in full, and its unchanged failures
    (without reminders) by number only."""

    group_id: str
    title: str
    link: str
    rows: tuple[Row, ...]
    repeats: tuple[Row, ...] = ()

    @property
    def heading(self) -> str:
        """The log group's title and what this run did in it: `SIN000042 sent to the
        background (AvaTax calculates its tax): 0 posted, 1 failed`."""
        counts = Counts.of(row.result for row in (*self.rows, *self.repeats))
        return f"{self.title}: {counts.summary()}"


@dataclass(frozen=True)
class Digest:
    """One e-mail's content: everything one run did for one person."""

    run_id: str
    run_name: str
    run_started: str  # ISO 8601
    recipient: str
    email: str
    counts: Counts
    sections: tuple[Section, ...]
    trigger: str = ""
    timezone: str = "UTC"

    @property
    def started_local(self) -> str:
        return local_time(self.run_started, self.timezone)

    @property
    def subject(self) -> str:
        """`Background posting: 2 posted, 1 failed (Run Now, 1 Dec 2026 06:41 GMT)`."""
        short = SHORT_RUN_NAMES.get(self.trigger, "Run")
        return f"Background posting: {self.counts.summary()} ({short}, {self.started_local})"

    @property
    def headline(self) -> str:
        """The first line: `Run Now on 1 Dec 2026 06:41 GMT: 2 posted, 1 failed.`"""
        name = RUN_NAMES.get(self.trigger, "A background posting run")
        return f"{name} on {self.started_local}: {self.counts.summary()}."

    @property
    def attention(self) -> str:
        """What the reader must do, if anything."""
        n = self.counts.needing_attention
        waiting = self.counts.waiting_for_goods
        parts = []
        if n:
            parts.append(
                f"{n} document{'s need' if n > 1 else ' needs'} your attention: each is listed "
                "below with what went wrong and what to do."
            )
        if waiting:
            parts.append(
                f"{waiting} payable invoice{'s wait' if waiting > 1 else ' waits'} for goods "
                "to be received; nothing to do unless the invoice is wrong."
            )
        if not parts:
            parts.append("Nothing needs your attention.")
        return " ".join(parts)

    @property
    def repeats(self) -> list[Row]:
        return [row for section in self.sections for row in section.repeats]


def digest_timezone(
    chosen: str | None, facts: Mapping[str, DocumentFacts], organisation: str
) -> str:
    """The zone the e-mail shows times in: the recipient's choice, else the company's when
    every document of the e-mail is of one company, else the organisation's."""
    if chosen:
        return chosen
    zones = {f.timezone for f in facts.values()}
    if len(zones) == 1 and None not in zones:
        return str(next(iter(zones)))
    return organisation


def compose_digest(
    run_id: str,
    trigger: str,
    run_started: str,
    results: RecipientResults,
    facts: Mapping[str, DocumentFacts],
    link: Callable[[str], str],
    reminders: bool,
    timezone: str = "UTC",
) -> Digest:
    """Every result in full, except unchanged failures when the recipient wants no reminders
    (those are named, their errors not repeated)."""
    sections = []
    for group in results.groups:
        rows: list[Row] = []
        repeats: list[Row] = []
        for result in group.results:
            row = Row(result, facts.get(result.document_id))
            (repeats if result.repeat and not reminders else rows).append(row)
        sections.append(
            Section(group.group_id, group.title, link(group.group_id), tuple(rows), tuple(repeats))
        )
    return Digest(
        run_id=run_id,
        run_name=TRIGGER_NAMES.get(trigger, "A background posting run"),
        run_started=run_started,
        recipient=results.recipient,
        email=results.email,
        counts=Counts.of(results.results),
        sections=tuple(sections),
        trigger=trigger,
        timezone=timezone,
    )
