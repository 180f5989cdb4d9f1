"""Reversing a posted journal: a second journal that negates every line at the original's
rates, numbered and posted like any other, linked both ways, once however often it is asked.

A documented, resumable sequence of two writes:

1. the reversal journal is created In Progress under an id derived from the original's, so
   every request for the same original makes the same document (`document_exists` for all
   but the first);
2. it is posted (or, over the journal line limit, queued for the background) in one
   transaction with the original's `reversed_by`, conditional on the original's version: of
   requests made at once, one commits and the others are refused (409 `journal_reversed`).

A request that stops between the two (a crash, a posting problem) leaves the reversal In
Progress; the next request for the same original goes on from there.
"""

from __future__ import annotations

import uuid
from datetime import date
from zoneinfo import ZoneInfo

from background_posting import clock
from background_posting.domain.company import Company
from background_posting.domain.documents import (
    COMPLETE,
    DISCARDED,
    IN_PROGRESS,
    Document,
    JournalLine,
)
from background_posting.domain.errors import Conflict
from background_posting.domain.identity import Caller
from background_posting.services import background_service, posting, visible
from background_posting.store import companies as company_store
from background_posting.store import document_store
from background_posting.store.history import Change
from background_posting.store.writes import Write

_NAMESPACE = uuid.UUID("6f1d3c52-8a8e-4a53-9d40-2f0a52e0c1b7")


def reversal_id(original: Document) -> str:
    """The one id any reversal of `original` has."""
    return uuid.uuid5(_NAMESPACE, f"reversal:{original.id}").hex


def _reversed_already(original: Document, reversal_number: str | None = None) -> Conflict:
    by = f" by {reversal_number}" if reversal_number else ""
    return Conflict(
        f"{original.number} is reversed already{by}: a journal is reversed once.",
        code="journal_reversed",
        details={"number": original.number, "reversed_by": original.reversed_by},
    )


def _require_reversible(original: Document) -> None:
    if not original.is_journal:
        raise Conflict(
            f"{original.number} is a {original.type.replace('_', ' ')}: only journals are "
            "reversed (an invoice is corrected by a credit note).",
            code="not_a_journal",
            details={"number": original.number},
        )
    original.require_status("reversed", COMPLETE)
    if original.reverses is not None:
        raise Conflict(
            f"{original.number} is itself a reversal: post a new journal instead.",
            code="reversal_not_reversed",
            details={"number": original.number, "reverses": original.reverses},
        )
    if original.reversed_by is not None:
        reversal = document_store.get_document(original.reversed_by, with_lines=False).document
        raise _reversed_already(original, reversal.number)


def _require_open_period(original: Document, company: Company, on: date) -> None:
    period = company.period_for(on)
    if period is None or period.status == "closed":
        why = (
            "falls in no accounting period"
            if period is None
            else f"is in period {period.name}, which is closed"
        )
        raise Conflict(
            f"{original.number} cannot be reversed on {on.isoformat()}: that date {why}. "
            "Choose a date in an open period, or ask for the period to be reopened.",
            code="period_closed" if period is not None else "period_missing",
            details={
                "errors": [
                    {
                        "field": "date",
                        "code": "period_closed" if period is not None else "period_missing",
                        "message": f"The date {why}.",
                    }
                ]
            },
        )


def _reversal_of(original: Document, actor: str, on: date, reason: str) -> Document:
    stamp = clock.now()
    lines = [
        line.model_copy(update={"value": -line.value})
        for line in original.lines
        if isinstance(line, JournalLine)
    ]
    description = f"Reversal of {original.number}" + (f": {reason}" if reason else "")
    return Document(
        id=reversal_id(original),
        number="",
        type="journal",
        company=original.company,
        account=original.account,
        document_date=on,
        currency=original.currency,
        tax_mode="builtin",
        reference=original.number,
        description=description[:500],
        lines=lines,
        line_count=len(lines),
        created_at=stamp,
        created_by=actor,
        updated_at=stamp,
        posting_rates=posting.rates_posted(original),
        reverses=original.id,
    )


def _created(original: Document, reversal: Document) -> Document:
    """Step 1: the reversal In Progress, created now or by an earlier request."""
    try:
        return document_store.insert_document(
            reversal, Change("create", reversal.created_by, {"reverses": original.number})
        )
    except Conflict as exc:
        if exc.code != "document_exists":
            raise
    existing = document_store.get_document(reversal.id).document
    if existing.status == DISCARDED:
        raise Conflict(
            f"{original.number}'s reversal {existing.number} was discarded; post a new journal "
            "to correct it.",
            code="reversal_discarded",
            details={"number": original.number, "reversal": existing.number},
        )
    if existing.status != IN_PROGRESS:
        raise _reversed_already(original, existing.number)
    return existing


def _created_and_marked(
    original: Document, actor: str, on: date, reason: str
) -> tuple[Document, Write]:
    """Step 1 done, and step 2's write on the original (its `reversed_by`, conditional)."""
    reversal = _created(original, _reversal_of(original, actor, on, reason))
    marked = original.model_copy(
        update={
            "reversed_by": reversal.id,
            "version": original.version + 1,
            "updated_at": clock.now(),
        }
    )
    reversed_ = Change(
        "reverse", actor, {"reversal": reversal.number, "date": on.isoformat(), "reason": reason}
    )
    return reversal, document_store.moved(
        original, marked, reversed_, refusal=_reversed_already(original)
    )


def reverse_accrual(original: Document, actor: str) -> Document | None:
    """A run's reversal of a posted accrual on its `auto_reverse_on` date, posted at once (a
    worker is the background already): the reversal, or None when it is reversed already (by
    hand, or by an earlier attempt that stopped after its commit). Raises Conflict when the
    date's period is closed or missing: the item counts an attempt and the log says why."""
    if original.reversed_by is not None:
        return None
    _require_reversible(original)
    on = original.auto_reverse_on or original.document_date
    _require_open_period(original, company_store.get_company(original.company)[0], on)
    reason = f"automatic reversal on {on.isoformat()}"
    reversal, mark = _created_and_marked(original, actor, on, reason)
    try:
        return posting.post_now(reversal, actor, [mark])
    except document_store.DocumentMoved as exc:
        raise _reversed_already(original) from exc


def reverse(
    caller: Caller, document_id: str, on: date | None, reason: str
) -> tuple[Document, bool]:
    """Reverse a Complete journal on `on` (today in the company's time zone when None):
    (the reversal, whether it went to the background)."""
    original = visible.read_document(caller, document_id)
    _require_reversible(original)
    company = company_store.get_company(original.company)[0]
    day = on or clock.now().astimezone(ZoneInfo(company.timezone)).date()
    _require_open_period(original, company, day)
    reversal, mark = _created_and_marked(original, caller.user_id, day, reason)
    settings = company_store.get_settings(original.company)
    try:
        if reversal.line_count > settings.journal_line_limit:
            title = f"{reversal.number} reverses {original.number}"
            return background_service.queue(reversal, caller, title, [mark]), True
        return posting.post_now(reversal, caller.user_id, [mark]), False
    except document_store.DocumentMoved as exc:  # another request posted or queued it
        raise _reversed_already(original) from exc
