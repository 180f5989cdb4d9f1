"""Income schedule journals made by the worker after a background posting (DynamoDB Local)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from background_posting.config import Settings
from background_posting.domain.company import CompanyPatch, ExchangeRate, Period
from background_posting.domain.document_input import DocumentPatch
from background_posting.domain.documents import Document
from background_posting.domain.settings import BackgroundPostingSettings
from background_posting.services import (
    background_service,
    document_service,
    income_schedules,
    reference_data,
    worker,
)
from background_posting.store import document_store, ledger_store, listings, log_groups
from background_posting.store import worker_items as item_store
from tests.support.scenario import ADMIN, given_company, given_document

FOREVER = lambda: 900.0  # noqa: E731


def test_an_invoice_with_an_income_schedule_posts_then_recognises_its_income(
    local_store: Settings,
) -> None:
    # Given December closed already and January not set up, and an invoice over 3 months
    given_company()
    reference_data.amend_company(
        ADMIN,
        "ACME",
        CompanyPatch(
            periods=[
                Period(name="2026-11", start=date(2026, 11, 1), end=date(2026, 11, 30)),
                Period(
                    name="2026-12", start=date(2026, 12, 1), end=date(2026, 12, 31), status="closed"
                ),
            ]
        ),
    )
    invoice = given_document(lines=None)
    stored = document_store.get_document(invoice.id)
    lines = [line.model_dump(mode="json") for line in stored.document.lines]
    lines[0]["income_schedule"] = {"periods": 3, "frequency": "monthly"}
    document_service.amend_document(ADMIN, invoice.id, DocumentPatch(lines=lines))
    # When it is posted with the Post button: it goes to the background (income schedule)
    _, went_to_background = background_service.post_with_button(ADMIN, invoice.id, "auto")
    assert went_to_background
    assert [i.action for i in item_store.items_of(invoice.id)] == [
        "post_document",
        "income_schedule_journals",
    ]
    # and a run's worker processes it
    assert worker.process(worker.Message(None, invoice.id), "w", FOREVER) == "posted"
    # Then the invoice is Complete, its items gone, and the journals exist
    assert document_store.get_document(invoice.id).document.status == "Complete"
    assert item_store.items_of(invoice.id) == []
    (group,) = log_groups.groups_of(ADMIN.user_id).groups
    entries = log_groups.get_group(group.id).entries
    assert [(e.action, e.outcome) for e in entries] == [
        ("post_document", "posted"),
        ("income_schedule_journals", "completed"),
    ]
    adjustment, november, january = entries[1].documents
    journals = {number: by_number(number) for number in (adjustment, november, january)}
    assert journals[adjustment].status == "Complete"
    assert journals[november].status == "Complete"
    # January waits for its date: Ready to Post, with a worker item no run takes before it
    # (the due index is read at given times, so the test says the same whatever today's date is)
    assert journals[january].status == "Ready to Post"
    shard = int(item_store.shard_of(journals[january].id)[-1])
    december = datetime(2026, 12, 1, 9, tzinfo=UTC).timestamp()
    assert item_store.due_documents(shard, None, None, now=december)[0] == []
    late_january = datetime(2027, 1, 21, 9, tzinfo=UTC).timestamp()
    due, _ = item_store.due_documents(shard, None, None, now=late_january)
    assert [d.document_id for d in due] == [journals[january].id]
    # And doing the work again creates nothing twice
    assert income_schedules.recognise(
        invoice.id, "admin", (group.id, group.title), BackgroundPostingSettings()
    ) == [
        adjustment,
        november,
        january,
    ]


def by_number(number: str) -> Document:
    page = listings.list_documents(["ACME"], "journal", None, 50, None)
    return next(d for d in page.documents if d.number == number)


def _deferred_income(document: Document) -> tuple[Decimal, Decimal, Decimal]:
    """What the document's transaction put on deferred income (2300), in each currency."""
    stored = ledger_store.get_transaction("ACME", document.transaction_number or "")
    lines = [line for line in stored.lines if line["gl_account"] == "2300"]
    return tuple(  # type: ignore[return-value]
        sum((Decimal(line[field]) for line in lines), Decimal(0))
        for field in ("document_value", "home_value", "dual_value")
    )


def test_deferred_income_is_released_at_the_rate_it_was_deferred_at(local_store: Settings) -> None:
    # Given a USD invoice of 200.00 over 2 months at 0.79 USD->GBP and 1.15 GBP->EUR, and rates
    # that change (0.85, 1.30) before the second journal's date
    given_company()
    december = Period(name="2026-12", start=date(2026, 12, 1), end=date(2026, 12, 31))
    company = reference_data.get_company(ADMIN, "ACME")
    reference_data.amend_company(
        ADMIN,
        "ACME",
        CompanyPatch(
            periods=[*company.periods, december],
            exchange_rates=[
                *company.exchange_rates,
                ExchangeRate.model_validate(
                    {
                        "from_currency": "USD",
                        "to_currency": "GBP",
                        "date": "2026-12-01",
                        "rate": "0.85",
                    }
                ),
                ExchangeRate.model_validate(
                    {
                        "from_currency": "GBP",
                        "to_currency": "EUR",
                        "date": "2026-12-01",
                        "rate": "1.30",
                    }
                ),
            ],
        ),
    )
    line = {
        "description": "Support contract",
        "quantity": "1",
        "unit_price": "200.00",
        "tax_code": "ZERO",
        "income_schedule": {"periods": 2, "frequency": "monthly"},
    }
    invoice = given_document(currency="USD", lines=None)
    document_service.amend_document(ADMIN, invoice.id, DocumentPatch(lines=[line]))
    # When it is posted and a worker recognises its income
    background_service.post_with_button(ADMIN, invoice.id, "auto")
    assert worker.process(worker.Message(None, invoice.id), "w", FOREVER) == "posted"
    posted = document_store.get_document(invoice.id).document
    (group,) = log_groups.groups_of(ADMIN.user_id).groups
    november, december_journal = (
        by_number(number) for number in log_groups.get_group(group.id).entries[1].documents
    )
    # Then the invoice deferred 200.00 USD = 158.00 GBP = 181.70 EUR
    assert _deferred_income(posted) == (Decimal("-200.00"), Decimal("-158.00"), Decimal("-181.70"))
    # and December's journal released its half at the invoice's rates, not December's
    assert december_journal.document_date == date(2026, 12, 20)
    assert _deferred_income(december_journal) == (
        Decimal("100.00"),
        Decimal("79.00"),
        Decimal("90.85"),
    )
    # so deferred income is zero again in every currency
    totals = [_deferred_income(d) for d in (posted, november, december_journal)]
    assert tuple(sum(column, Decimal(0)) for column in zip(*totals, strict=True)) == (0, 0, 0)
