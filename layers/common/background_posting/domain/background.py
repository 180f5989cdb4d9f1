"""When posting goes to the background, and which worker items a document needs.

Pure rules over plain data (docs/design.md "When posting goes to the background").
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone
from enum import StrEnum
from typing import Literal
from zoneinfo import ZoneInfo

from background_posting.domain.documents import Document, DocumentLine
from background_posting.domain.errors import InvalidRequest
from background_posting.domain.settings import (
    AttemptsSetting,
    BackgroundPostingSettings,
    CompanySettings,
)
from background_posting.domain.verification import needs_verification
from background_posting.domain.work import (
    ACTION_ORDER,
    POSTING_ACTIONS,
    TAX_COMMIT_ACTIONS,
    Action,
    WorkerItem,
)

Origin = Literal["button", "list_view", "integration"]


class AtLimit(StrEnum):
    """What happens to a worker item that failed its maximum attempts."""

    RETURN_DOCUMENT = "return_document"
    """Not posted yet: the document goes back to In Progress and loses its worker items."""
    ABANDON = "abandon"
    """Follow-up work on a posted document: removed; the document stays Complete."""
    KEEP_TRYING = "keep_trying"
    """The tax commit: still tried in every run, and each failure now raises an alarm."""


def at_limit(action: str) -> AtLimit:
    """The limit policy: one place that says what the maximum attempts mean per action."""
    if action in POSTING_ACTIONS:
        return AtLimit.RETURN_DOCUMENT
    if action in TAX_COMMIT_ACTIONS:
        return AtLimit.KEEP_TRYING
    return AtLimit.ABANDON


def only_posting(planned: list[PlannedItem]) -> bool:
    """Whether the plan is the one plain posting item (no tax call, no follow-up work)."""
    return [p.action for p in planned] == [Action.POST_DOCUMENT]


def has_income_schedule(document: Document) -> bool:
    return any(
        isinstance(line, DocumentLine) and line.income_schedule is not None
        for line in document.lines
    )


def background_reasons(document: Document, settings: CompanySettings, origin: Origin) -> list[str]:
    """Why the Post button (or a list view) sends this document to the background; [] = post now."""
    if origin == "integration":
        return []
    reasons = []
    if origin == "list_view":
        reasons.append("posted from a list view")
    if document.is_journal:
        if document.line_count > settings.journal_line_limit:
            reasons.append(
                f"{document.line_count} lines exceed the journal line limit of "
                f"{settings.journal_line_limit}"
            )
        return reasons
    threshold = settings.threshold_for(document.type)
    if document.line_count > threshold:
        reasons.append(f"{document.line_count} lines exceed the threshold of {threshold}")
    if document.tax_mode == "avatax":
        reasons.append("its tax is calculated by AvaTax")
    if document.type == "sales_invoice" and has_income_schedule(document):
        reasons.append("it has an income schedule")
    if document.type == "sales_invoice" and document.recurring:
        reasons.append("it is a recurring invoice saved and posted")
    if needs_verification(document):
        reasons.append("it is verified against goods receipts")
    return reasons


@dataclass(frozen=True)
class PlannedItem:
    sequence: int
    action: Action
    max_attempts: int
    """The maximum in force when it is queued (what the item shows until it is read again)."""
    attempts_setting: AttemptsSetting
    on: date | None = None
    """A date before which no run does it, in the company's time zone (an accrual's reversal)."""

    @classmethod
    def of(
        cls,
        action: Action,
        settings: BackgroundPostingSettings,
        attempts_setting: AttemptsSetting,
        on: date | None = None,
    ) -> PlannedItem:
        """The item doing `action`, in its place among a document's items."""
        return cls(
            ACTION_ORDER.index(action),
            action,
            settings.maximum(attempts_setting),
            attempts_setting,
            on,
        )

    @property
    def not_before(self) -> float:
        """When a run may first reach it: the start of `on` in the earliest time zone there is
        (UTC+14), so no zone's run misses it; its step waits for the company's own midnight
        (`starts_in`)."""
        if self.on is None:
            return 0.0
        return datetime.combine(self.on, time(0, 0), _EARLIEST_ZONE).timestamp()


_EARLIEST_ZONE = timezone(timedelta(hours=14))


def starts_in(on: date, zone: str) -> float:
    """The instant `on` begins in the time zone `zone` (seconds since the epoch)."""
    return datetime.combine(on, time(0, 0), ZoneInfo(zone)).timestamp()


POST_ON_MAX_DAYS = 90
"""How far ahead a document may be queued to post on a date."""


def check_post_on(post_on: date, today: date) -> None:
    """A date to post on: today (the company's) or later, at most `POST_ON_MAX_DAYS` ahead;
    InvalidRequest naming `post_on` otherwise."""
    latest = today + timedelta(days=POST_ON_MAX_DAYS)
    if post_on < today:
        message = (
            f"Post on: {post_on.isoformat()} is in the past (today is {today.isoformat()} in "
            "the company's time zone); choose today or a later date."
        )
        code = "date_in_past"
    elif post_on > latest:
        message = (
            f"Post on: {post_on.isoformat()} is more than {POST_ON_MAX_DAYS} days ahead; "
            f"choose a date up to {latest.isoformat()}."
        )
        code = "date_too_far"
    else:
        return
    raise InvalidRequest(
        message,
        details={
            "errors": [{"field": "post_on", "label": "Post on", "message": message, "code": code}]
        },
    )


def maximum_attempts(item: WorkerItem, settings: BackgroundPostingSettings) -> int:
    """The maximum attempts that count for `item` now: the setting in force at this attempt, so
    that lowering or raising it reaches work already queued (an item queued before items named
    their setting keeps the maximum it was queued with)."""
    if item.attempts_setting == "max_attempts_avatax":
        return settings.max_attempts_avatax
    if item.attempts_setting == "max_attempts":
        return settings.max_attempts
    return item.max_attempts


def with_maximum_in_force(
    items: list[WorkerItem], settings: BackgroundPostingSettings
) -> list[WorkerItem]:
    """The items as shown: each with the maximum attempts that count for it now."""
    return [replace(item, max_attempts=maximum_attempts(item, settings)) for item in items]


def plan_items(
    document: Document, settings: BackgroundPostingSettings, *, posted_already: bool
) -> list[PlannedItem]:
    """The worker items, in the order they must run.

    A document sent to the background gets its posting (and, for AvaTax, the tax calculation
    before it); a document already posted at once (the integration API) gets only the
    follow-up work: the tax commit, income schedule journals.
    """
    avatax = document.tax_mode == "avatax" and not document.is_journal  # journals have no tax
    counted_against: AttemptsSetting = "max_attempts_avatax" if avatax else "max_attempts"
    actions: list[Action] = []
    if not posted_already:
        if avatax:
            actions.append(Action.CALCULATE_TAX)
        if needs_verification(document):
            actions.append(Action.VERIFY_INVOICE)  # which posts it when verified (its own commit)
        actions.append(Action.POST_DOCUMENT)
    if avatax:
        actions.append(Action.COMMIT_TAX)
    if document.type == "sales_invoice" and has_income_schedule(document):
        actions.append(Action.INCOME_SCHEDULE_JOURNALS)
    planned = [PlannedItem.of(action, settings, counted_against) for action in actions]
    if document.is_journal and document.auto_reverse_on is not None and document.reverses is None:
        planned.append(
            PlannedItem.of(
                Action.REVERSE_JOURNAL, settings, counted_against, on=document.auto_reverse_on
            )
        )
    return planned
