"""The income schedule journals of a posted sales invoice (a worker item's work).

Safe to repeat after a crash at any point: each journal has a stable id derived from the
invoice, the line and the period, so it is created once; one already posted is left alone.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from background_posting import clock
from background_posting.domain.background import PlannedItem
from background_posting.domain.documents import IN_PROGRESS, Document, PostingRates
from background_posting.domain.errors import Conflict
from background_posting.domain.income_schedule import PlannedJournal, plan_journals
from background_posting.domain.settings import BackgroundPostingSettings
from background_posting.domain.work import Action
from background_posting.services import background_service, posting
from background_posting.store import companies as company_store
from background_posting.store import document_store
from background_posting.store.history import Change


def recognise(
    invoice_id: str, actor: str, log_group: tuple[str, str], settings: BackgroundPostingSettings
) -> list[str]:
    """Create and post (or queue for their date) the invoice's income schedule journals; those
    queued go in `log_group` (the id and title of the invoice's item's)."""
    invoice = document_store.get_document(invoice_id).document
    company = company_store.get_company(invoice.company)[0]
    numbers = []
    rates = posting.rates_posted(invoice)  # deferred income leaves at the rate it came in
    for plan in plan_journals(invoice, company):
        journal = _journal(invoice, plan, actor, rates)
        if journal.status == IN_PROGRESS:
            if plan.when == "later":
                zone = ZoneInfo(company.timezone)
                due = datetime.combine(plan.document_date, time(0, 0), zone).astimezone(UTC)
                background_service.queue_for_later(
                    journal,
                    actor,
                    log_group,
                    PlannedItem.of(Action.POST_DOCUMENT, settings, "max_attempts"),
                    due.timestamp(),
                )
            else:
                journal = posting.post_now(journal, actor)
        numbers.append(journal.number)
    return numbers


def _journal(invoice: Document, plan: PlannedJournal, actor: str, rates: PostingRates) -> Document:
    """The planned journal: created now, or as it was created by an earlier attempt."""
    stamp = clock.now()
    document = Document(
        id=plan.id,
        number="",
        type="journal",
        company=invoice.company,
        account=None,
        document_date=plan.document_date,
        currency=invoice.currency,
        tax_mode="builtin",
        reference=invoice.number,
        description=plan.description,
        lines=list(plan.lines),
        line_count=len(plan.lines),
        created_at=stamp,
        created_by=actor,
        updated_at=stamp,
        posting_rates=rates,
    )
    try:
        return document_store.insert_document(
            document, Change("create", actor, {"income_schedule_of": invoice.number})
        )
    except Conflict as exc:
        if exc.code != "document_exists":
            raise
        existing = document_store.get_document(plan.id).document
        return existing
