"""Recurring invoices: a sales invoice template, a frequency, and the dates it falls due.

Pure rules (docs/design.md "Recurring invoices and Save & Post"). Invoice k is dated k
periods after `start` (the first is dated `start`); a start on the last day of a month keeps
every invoice on the last day of its month (31 Jan, 28 Feb, 31 Mar...), any other day is
kept where the month has it and is the month's last day where it does not (30 Jan, 28 Feb,
30 Mar). An invoice falls due on its date; `until` is the last date that may have one.
Each invoice's id derives from the template and its date, so it can be created only once.
"""

from __future__ import annotations

import calendar
import uuid
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any, Literal

from dateutil.relativedelta import relativedelta
from pydantic import ConfigDict, Field, field_validator, model_validator

from background_posting.domain.document_input import TradingDocumentInput
from background_posting.domain.model import LazyModel
from background_posting.domain.types import BookDate

Frequency = Literal["monthly", "quarterly", "yearly"]
MONTHS: dict[str, int] = {"monthly": 1, "quarterly": 3, "yearly": 12}
_NAMESPACE = uuid.UUID("0b6a4f0e-63c1-4f5e-9a2d-5f3e1c7d2a91")
MAX_PER_RUN = 240
"""At most this many invoices of one template are created by one run (20 years of monthly
invoices); a template that has more due creates the rest in the following runs."""


def _is_month_end(day: date) -> bool:
    return day.day == calendar.monthrange(day.year, day.month)[1]


def occurrence(start: date, frequency: Frequency, k: int) -> date:
    """The date of invoice k (0 = the first, on `start`)."""
    moved = start + relativedelta(months=MONTHS[frequency] * k)
    if _is_month_end(start):
        return moved + relativedelta(day=31)
    return moved


def due_dates(
    start: date,
    frequency: Frequency,
    until: date | None,
    today: date,
    after: date | None = None,
    limit: int = MAX_PER_RUN,
) -> list[date]:
    """The invoice dates in (after, min(today, until)], in order, at most `limit` of them."""
    last = today if until is None else min(today, until)
    found: list[date] = []
    for on in _occurrences(start, frequency):
        if on > last or len(found) == limit:
            break
        if after is None or on > after:
            found.append(on)
    return found


def next_date(
    start: date, frequency: Frequency, until: date | None, after: date | None
) -> date | None:
    """The first invoice date after `after` (None when the template has ended)."""
    for on in _occurrences(start, frequency):
        if until is not None and on > until:
            return None
        if after is None or on > after:
            return on
    return None  # pragma: no cover - the occurrences never end


def _occurrences(start: date, frequency: Frequency) -> Iterator[date]:
    k = 0
    while True:
        yield occurrence(start, frequency, k)
        k += 1


def invoice_id(template_id: str, on: date) -> str:
    """The id of the template's invoice dated `on`: the same every time it is worked out."""
    return uuid.uuid5(_NAMESPACE, f"{template_id}:{on.isoformat()}").hex


class RecurringInvoiceInput(LazyModel):
    """`POST /recurring-invoices`: a sales invoice template and when it recurs."""

    model_config = ConfigDict(extra="forbid")

    template: TradingDocumentInput = Field(
        description="A POST /documents body of a sales invoice; each invoice gets its "
        "`document_date` from the schedule (the template's own date is ignored)."
    )
    frequency: Frequency
    start: BookDate = Field(description="The date of the first invoice")
    until: BookDate | None = Field(default=None, description="No invoice is dated after it")
    save_and_post: bool = Field(
        default=False,
        description="Post each invoice as Save & Post of a recurring invoice does: Ready to "
        "Post, posted in the background by the run that created it",
    )

    @model_validator(mode="before")
    @classmethod
    def _dated_by_the_schedule(cls, data: Any) -> Any:
        """The template needs no `document_date` of its own: each invoice has its date."""
        if isinstance(data, dict) and isinstance(data.get("template"), dict):
            template = data["template"]
            if "document_date" not in template and data.get("start") is not None:
                data = data | {"template": template | {"document_date": data["start"]}}
        return data

    @field_validator("template")
    @classmethod
    def _has_lines(cls, template: TradingDocumentInput) -> TradingDocumentInput:
        if not template.lines:
            raise ValueError("the template has no lines: each invoice would be empty; add one")
        return template

    @model_validator(mode="after")
    def _sales_invoice_in_order(self) -> RecurringInvoiceInput:
        if self.template.type != "sales_invoice":
            raise ValueError("template.type must be 'sales_invoice': only sales invoices recur")
        if self.until is not None and self.until < self.start:
            raise ValueError("until must be on or after start")
        return self


class RecurringInvoice(LazyModel):
    """A stored template. `created_through` is the date of the last invoice it created."""

    model_config = ConfigDict(extra="forbid")

    id: str
    company: str
    template: dict[str, Any]
    frequency: Frequency
    start: date
    until: date | None = None
    save_and_post: bool = False
    status: Literal["active", "deleted"] = "active"
    created_at: datetime
    created_by: str
    created_by_email: str = ""
    created_through: date | None = None
    invoices: list[str] = Field(
        default_factory=list, description="Ids of the invoices created, the latest last"
    )
    next_date: date | None = None

    def with_next_date(self) -> RecurringInvoice:
        upcoming = None
        if self.status == "active":
            upcoming = next_date(self.start, self.frequency, self.until, self.created_through)
        return self.model_copy(update={"next_date": upcoming})

    def due(self, today: date) -> list[date]:
        if self.status != "active":
            return []
        return due_dates(self.start, self.frequency, self.until, today, self.created_through)
