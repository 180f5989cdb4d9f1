"""Recurring invoice dates: which are due, month ends kept, each id derived once."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from background_posting.domain.recurring import (
    RecurringInvoiceInput,
    due_dates,
    invoice_id,
    next_date,
    occurrence,
)
from tests.support.data import document_body


def test_a_monthly_invoice_started_on_the_31st_stays_on_month_ends() -> None:
    dates = due_dates(date(2026, 1, 31), "monthly", None, date(2026, 5, 31))
    assert dates == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),
        date(2026, 4, 30),
        date(2026, 5, 31),
    ]


def test_a_start_on_the_last_day_of_february_keeps_month_ends() -> None:
    assert due_dates(date(2026, 2, 28), "monthly", None, date(2026, 4, 30)) == [
        date(2026, 2, 28),
        date(2026, 3, 31),
        date(2026, 4, 30),
    ]


def test_a_day_some_months_lack_comes_back_when_the_month_has_it() -> None:
    assert [occurrence(date(2026, 1, 30), "monthly", k) for k in range(3)] == [
        date(2026, 1, 30),
        date(2026, 2, 28),
        date(2026, 3, 30),
    ]


def test_quarterly_and_yearly_step_three_and_twelve_months() -> None:
    assert due_dates(date(2025, 11, 15), "quarterly", None, date(2026, 11, 15)) == [
        date(2025, 11, 15),
        date(2026, 2, 15),
        date(2026, 5, 15),
        date(2026, 8, 15),
        date(2026, 11, 15),
    ]
    assert due_dates(date(2024, 2, 29), "yearly", None, date(2026, 12, 1)) == [
        date(2024, 2, 29),
        date(2025, 2, 28),
        date(2026, 2, 28),
    ]


def test_only_dates_after_those_done_and_up_to_until_are_due() -> None:
    start = date(2026, 8, 10)
    assert due_dates(start, "monthly", None, date(2026, 12, 1), after=date(2026, 9, 10)) == [
        date(2026, 10, 10),
        date(2026, 11, 10),
    ]
    assert due_dates(start, "monthly", date(2026, 9, 30), date(2026, 12, 1)) == [
        date(2026, 8, 10),
        date(2026, 9, 10),
    ]
    assert next_date(start, "monthly", date(2026, 9, 30), date(2026, 9, 10)) is None
    assert next_date(start, "monthly", None, date(2026, 9, 10)) == date(2026, 10, 10)


def test_nothing_is_due_before_the_start() -> None:
    assert due_dates(date(2026, 12, 5), "monthly", None, date(2026, 12, 1)) == []


@given(
    start=st.dates(min_value=date(2000, 1, 1), max_value=date(2030, 12, 31)),
    months=st.integers(min_value=0, max_value=60),
    frequency=st.sampled_from(["monthly", "quarterly", "yearly"]),
)
def test_dates_are_increasing_once_each_and_month_ends_stay_month_ends(
    start: date, months: int, frequency: str
) -> None:
    today = date(start.year + (start.month + months) // 12, (start.month + months) % 12 or 12, 1)
    dates = due_dates(start, frequency, None, max(today, start))  # type: ignore[arg-type]
    assert dates == sorted(set(dates))
    assert all(start <= d <= max(today, start) for d in dates)
    assert dates[0] == start
    if (start + timedelta(days=1)).day == 1:
        assert all((d + timedelta(days=1)).day == 1 for d in dates)


def test_an_invoice_id_derives_from_the_template_and_date_only() -> None:
    one = invoice_id("t1", date(2026, 11, 1))
    assert one == invoice_id("t1", date(2026, 11, 1))
    assert one != invoice_id("t1", date(2026, 12, 1)) != invoice_id("t2", date(2026, 11, 1))
    assert len(one) == 32 and int(one, 16) >= 0


def test_a_template_must_be_a_sales_invoice_and_until_after_start() -> None:
    body = {
        "template": document_body("payable_invoice"),
        "frequency": "monthly",
        "start": "2026-11-01",
    }
    with pytest.raises(ValidationError, match="sales_invoice"):
        RecurringInvoiceInput.model_validate(body)
    body = {
        "template": document_body("sales_invoice"),
        "frequency": "monthly",
        "start": "2026-11-01",
        "until": "2026-10-01",
    }
    with pytest.raises(ValidationError, match="until"):
        RecurringInvoiceInput.model_validate(body)


def test_a_template_needs_no_date_of_its_own() -> None:
    template = document_body("sales_invoice")
    del template["document_date"]
    data = RecurringInvoiceInput.model_validate(
        {"template": template, "frequency": "yearly", "start": "2026-11-01"}
    )
    assert data.template.document_date == date(2026, 11, 1)
