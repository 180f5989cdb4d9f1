"""Recurring invoices when runs overlap: threads on DynamoDB Local."""

from __future__ import annotations

from datetime import date

from background_posting.config import Settings
from background_posting.domain.documents import READY_TO_POST
from background_posting.domain.recurring import RecurringInvoiceInput
from background_posting.services import recurring_service
from background_posting.store import document_store, recurring_store
from background_posting.store import worker_items as item_store
from tests.support.concurrency import race
from tests.support.data import document_body
from tests.support.scenario import ADMIN, given_company


def test_runs_at_the_same_moment_create_and_queue_each_invoice_once(
    local_store: Settings,
) -> None:
    # Given a monthly recurring invoice with Save & Post whose three dates have come
    given_company()  # (the invoices are queued here, not posted: no period is needed)
    template = document_body("sales_invoice")
    data = RecurringInvoiceInput.model_validate(
        {"template": template, "frequency": "monthly", "start": "2026-09-05", "save_and_post": True}
    )
    created = recurring_service.create(ADMIN, data)
    # When three runs create what is due at once
    results = race(
        *(
            lambda: recurring_service.create_due(None, lambda: 900.0, date(2026, 11, 20))
            for _ in range(3)
        )
    )
    # Then three invoices exist, each Ready to Post with one worker item
    assert all(isinstance(r, int) for r in results), results
    assert sum(results) == 3
    stored = recurring_store.get(created.id)
    assert stored.created_through == date(2026, 11, 5) and len(stored.invoices) == 3
    for document_id in stored.invoices:
        document = document_store.get_document(document_id, with_lines=False).document
        assert document.status == READY_TO_POST
        assert [i.action for i in item_store.items_of(document_id)] == ["post_document"]
