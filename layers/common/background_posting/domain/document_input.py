"""What a request may send to create, amend or extend a document: the request shapes and
their checks (the stored document and its lines: `documents`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from background_posting.domain.documents import (
    LINES_PER_REQUEST,
    MAX_LINES,
    Document,
    DocumentLine,
    JournalLine,
    StrictModel,
)
from background_posting.domain.money import minor_units, round_money
from background_posting.domain.types import BookDate, Currency, Identifier


class _DocumentFields(StrictModel):
    company: Identifier
    document_date: BookDate
    currency: Currency
    tax_mode: Literal["builtin", "avatax"] = "builtin"
    reference: str = Field(default="", max_length=100)
    description: str = Field(default="", max_length=500)


def refuse_income_schedules(
    document_type: str, lines: list[DocumentLine], first_index: int = 0
) -> None:
    """Only a sales invoice's lines may carry an income schedule: a credit note or a payable
    document has no deferred income to recognise, so one there would be ignored silently."""
    if document_type == "sales_invoice":
        return
    errors = [
        InitErrorDetails(
            type=PydanticCustomError(
                "income_schedule_not_allowed",
                "only a sales invoice's lines may have an income schedule",
            ),
            loc=("lines", first_index + index, "income_schedule"),
            input=line.income_schedule.model_dump(mode="json"),
        )
        for index, line in enumerate(lines)
        if line.income_schedule is not None
    ]
    if errors:
        raise ValidationError.from_exception_data(document_type, errors)


MAX_SUGGESTED_ORDERS = 20
"""Purchase orders one invoice may name for verification to build its lines from."""


class TradingDocumentInput(_DocumentFields):
    type: Literal["sales_invoice", "sales_credit_note", "payable_invoice", "payable_credit_note"]
    account: Identifier
    lines: list[DocumentLine] = Field(default_factory=list, max_length=MAX_LINES)
    recurring: bool = Field(
        default=False, description="A recurring invoice created with Save & Post."
    )
    purchase_orders: list[Identifier] = Field(
        default_factory=list,
        max_length=MAX_SUGGESTED_ORDERS,
        description="Payable invoices: the purchase orders whose received and not yet "
        "invoiced lines verification turns into the invoice's lines (give no lines that "
        "reference orders then).",
    )

    @model_validator(mode="after")
    def _orders_on_payable_invoices_only(self) -> TradingDocumentInput:
        if self.purchase_orders:
            if self.type != "payable_invoice":
                raise ValueError("purchase_orders: only a payable invoice names purchase orders")
            if len(set(self.purchase_orders)) != len(self.purchase_orders):
                raise ValueError("purchase_orders: an order is named twice")
            for index, line in enumerate(self.lines):
                if line.purchase_order is not None:
                    raise ValueError(
                        f"lines[{index}].purchase_order: an invoice that names purchase_orders "
                        "gets its order lines from verification; its own lines reference none"
                    )
        if self.type != "payable_invoice":
            for index, line in enumerate(self.lines):
                if line.purchase_order is not None:
                    raise ValueError(
                        f"lines[{index}].purchase_order: only payable invoice lines reference "
                        "purchase order lines"
                    )
        return self

    @field_validator("lines")
    @classmethod
    def _no_entered_tax(cls, lines: list[DocumentLine]) -> list[DocumentLine]:
        for index, line in enumerate(lines):
            if line.tax is not None:
                raise ValueError(
                    f"lines[{index}].tax is calculated by the tax provider when the document "
                    "posts; it cannot be entered"
                )
        return lines

    @model_validator(mode="after")
    def _income_schedules_on_sales_invoices_only(self) -> TradingDocumentInput:
        refuse_income_schedules(self.type, self.lines)
        return self


def require_amount_places(values: list[tuple[int, str, Decimal]], currency: str) -> None:
    """Refuse amounts with more decimals than `currency` has minor units (`(index, field,
    value)` of each line; each problem is located at `lines[index].field`).

    Amounts only: a unit price is a price and may carry more decimals (10.1234); the line's
    value is rounded when it posts.
    """
    places = minor_units(currency)
    problems = [
        InitErrorDetails(
            type=PydanticCustomError(
                "amount_precision",
                "{value} has more decimal places than {currency} allows ({places}): "
                "enter it as {rounded}",
                {
                    "value": format(value, "f"),
                    "currency": currency,
                    "places": places,
                    "rounded": format(round_money(value, currency), "f"),
                },
            ),
            loc=(index, field),
            input=format(value, "f"),
        )
        for index, field, value in values
        if round_money(value, currency) != value
    ]
    if problems:
        raise ValidationError.from_exception_data("lines", problems)


class JournalInput(_DocumentFields):
    type: Literal["journal"]
    account: Identifier | None = None
    lines: list[JournalLine] = Field(default_factory=list, max_length=MAX_LINES)
    auto_reverse_on: BookDate | None = Field(
        default=None,
        description="An accrual: once posted, the first run on or after this date (in the "
        "company's time zone) reverses it. After `document_date`.",
    )

    @model_validator(mode="after")
    def _reversed_after_it_is_dated(self) -> JournalInput:
        if self.auto_reverse_on is not None and self.auto_reverse_on <= self.document_date:
            # Located at the field, so a form shows it there (a model's own error has no field).
            problem = InitErrorDetails(
                type=PydanticCustomError(
                    "auto_reverse_not_after_date",
                    "{value} must be after the journal's document date ({date}): an accrual "
                    "is reversed in a later period",
                    {
                        "value": self.auto_reverse_on.isoformat(),
                        "date": self.document_date.isoformat(),
                    },
                ),
                loc=("auto_reverse_on",),
                input=self.auto_reverse_on.isoformat(),
            )
            raise ValidationError.from_exception_data("journal", [problem])
        return self

    @field_validator("lines")
    @classmethod
    def _values_in_minor_units(
        cls, lines: list[JournalLine], info: ValidationInfo
    ) -> list[JournalLine]:
        """A journal line's value is an amount: no more decimals than the currency has
        (refused when the journal is created or amended, not only when it posts)."""
        currency = info.data.get("currency")
        if isinstance(currency, str):
            require_amount_places(
                [(index, "value", line.value) for index, line in enumerate(lines)], currency
            )
        return lines


DocumentInput = Annotated[TradingDocumentInput | JournalInput, Field(discriminator="type")]


class TradingDocumentCreate(TradingDocumentInput):
    """`POST /documents` of a trading document: at most one page of lines; more are added
    with `POST /documents/{id}/lines`."""

    lines: list[DocumentLine] = Field(default_factory=list, max_length=LINES_PER_REQUEST)


class JournalCreate(JournalInput):
    """`POST /documents` of a journal: at most one page of lines (see TradingDocumentCreate)."""

    lines: list[JournalLine] = Field(default_factory=list, max_length=LINES_PER_REQUEST)


DocumentCreate = Annotated[TradingDocumentCreate | JournalCreate, Field(discriminator="type")]


class TradingLines(StrictModel):
    """`POST /documents/{id}/lines` of a trading document: the lines to append."""

    lines: list[DocumentLine] = Field(min_length=1, max_length=LINES_PER_REQUEST)


class JournalLines(StrictModel):
    """`POST /documents/{id}/lines` of a journal: the lines to append."""

    lines: list[JournalLine] = Field(min_length=1, max_length=LINES_PER_REQUEST)


class AmendedTradingLines(StrictModel):
    """The lines of `PATCH /documents/{id}` of a trading document (replacing every line): a
    problem is named by its place, `lines[2].quantity`, as when the document was created."""

    lines: list[DocumentLine] = Field(max_length=LINES_PER_REQUEST)


class AmendedJournalLines(StrictModel):
    """The lines of `PATCH /documents/{id}` of a journal (see AmendedTradingLines)."""

    lines: list[JournalLine] = Field(max_length=LINES_PER_REQUEST)


class DocumentPatch(StrictModel):
    """What an amendment may change while the document is In Progress."""

    document_date: BookDate | None = None
    currency: Currency | None = None
    account: Identifier | None = None
    tax_mode: Literal["builtin", "avatax"] | None = None
    reference: str | None = Field(default=None, max_length=100)
    description: str | None = Field(default=None, max_length=500)
    auto_reverse_on: BookDate | None = Field(
        default=None, description="Journals only; null stops an automatic reversal"
    )
    purchase_orders: list[Identifier] | None = Field(
        default=None,
        max_length=MAX_SUGGESTED_ORDERS,
        description="Payable invoices: the orders verification builds the lines from",
    )
    lines: list[dict[str, Any]] | None = Field(
        default=None,
        max_length=LINES_PER_REQUEST,
        description="Replaces every line (at most one page; add more with "
        "`POST /documents/{id}/lines`).",
    )

    @field_validator("lines")
    @classmethod
    def _tax_is_not_amended(cls, lines: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
        """A line's tax is read-only: one sent with amended lines (a document read and sent
        back) is ignored; amended lines have no tax until the document posts again."""
        if lines is None:
            return None
        return [{k: v for k, v in line.items() if k != "tax"} for line in lines]


def new_document(
    data: TradingDocumentInput | JournalInput,
    created_by: str,
    at: datetime,
    document_id: str | None = None,
) -> Document:
    """The In Progress document `data` describes, not yet numbered (the store numbers it)."""
    return Document(
        id=document_id or uuid.uuid4().hex,
        number="",
        type=data.type,
        company=data.company,
        account=data.account,
        document_date=data.document_date,
        currency=data.currency,
        tax_mode=data.tax_mode,
        reference=data.reference,
        description=data.description,
        recurring=getattr(data, "recurring", False),
        auto_reverse_on=getattr(data, "auto_reverse_on", None),
        purchase_orders=list(getattr(data, "purchase_orders", [])),
        lines=list(data.lines),
        line_count=len(data.lines),
        created_at=at,
        created_by=created_by,
        updated_at=at,
    )
