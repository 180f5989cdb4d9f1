"""Income schedule journals made by the worker after a background posting (DynamoDB Local)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from background_posting.config import Settings
from background_posting.domain.company import CompanyPatch, Period
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
from background_posting.store import document_store, listings, log_groups
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
    (group,) = log_groups.groups_of(ADMIN.user_id)
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
        invoice.id, "admin", group.id, BackgroundPostingSettings()
    ) == [
        adjustment,
        november,
        january,
    ]


def by_number(number: str) -> Document:
    page = listings.list_documents(["ACME"], "journal", None, 50, None)
    return next(d for d in page.documents if d.number == number)
