"""Recurring invoices when runs overlap: threads on DynamoDB Local."""

from __future__ import annotations

import calendar
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


def test_month_end_templates_make_each_due_date_once_however_runs_overlap(
    local_store: Settings,
) -> None:
    # Given monthly templates starting on month ends and on days some months lack (issue 31,
    # item 11: a template from 31 October was seen to make two invoices for 30 November)
    given_company()
    starts = ["2026-10-31", "2026-10-30", "2027-01-29", "2027-01-31", "2028-02-29"]
    templates = {
        start: recurring_service.create(
            ADMIN,
            RecurringInvoiceInput.model_validate(
                {
                    "template": document_body("sales_invoice"),
                    "frequency": "monthly",
                    "start": start,
                    "save_and_post": False,
                }
            ),
        )
        for start in starts
    }
    # When runs on successive days overlap, two at a time, through a year and a half
    for today in (date(2026, 11, 30), date(2027, 2, 28), date(2027, 3, 1), date(2028, 3, 31)):
        results = race(
            lambda today=today: recurring_service.create_due(None, lambda: 900.0, today),
            lambda today=today: recurring_service.create_due(None, lambda: 900.0, today),
        )
        assert all(isinstance(r, int) for r in results), results
    # Then each template has one invoice per month, on its day or the month's last day
    expected_days = {
        "2026-10-31": lambda y, m: calendar.monthrange(y, m)[1],
        "2026-10-30": lambda y, m: min(30, calendar.monthrange(y, m)[1]),
        "2027-01-29": lambda y, m: min(29, calendar.monthrange(y, m)[1]),
        "2027-01-31": lambda y, m: calendar.monthrange(y, m)[1],
        "2028-02-29": lambda y, m: calendar.monthrange(y, m)[1],
    }
    for start, template in templates.items():
        stored = recurring_store.get(template.id)
        dates = sorted(
            document_store.get_document(i, with_lines=False).document.document_date
            for i in stored.invoices
        )
        assert len(dates) == len(set(dates)) == len(stored.invoices), (start, dates)
        first = date.fromisoformat(start)
        months = (2028 - first.year) * 12 + 3 - first.month + 1
        if first > date(2028, 3, 31):
            months = 0
        wanted = []
        for k in range(months):
            year, month = divmod(first.month - 1 + k, 12)
            year += first.year
            wanted.append(date(year, month + 1, expected_days[start](year, month + 1)))
        assert dates == [d for d in wanted if d <= date(2028, 3, 31)], start
