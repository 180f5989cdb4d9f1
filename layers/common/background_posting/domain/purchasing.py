"""Purchase orders and goods receipts: what was ordered from a vendor, and what arrived.

Each order line keeps running totals: `received_quantity` (the sum of its goods receipts),
`invoiced_quantity` (what posted invoices have used of it) and `claimed_quantity` (what
invoices too large for one transaction hold while they post, see docs/invoice-verification.md
"Mass data"). Invoice verification reads them (domain/verification.py); a receipt may never
take a line past its ordered quantity.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import ConfigDict, Field, field_validator, model_validator

from background_posting.domain.model import LazyModel
from background_posting.domain.types import (
    Amount,
    BookDate,
    Currency,
    EnteredAmount,
    GLAccountCode,
    Identifier,
)

Quantity = Annotated[EnteredAmount, Field(gt=0, max_digits=20, decimal_places=6)]
LineNumber = Annotated[int, Field(ge=1, le=100_000)]
MAX_ORDER_LINES = 10_000
"""An order's lines are items of their own, written 100 to a transaction before the order's
header (store/purchasing_store.py): readers see an order only once its header is written."""
MAX_RECEIPT_LINES = 99
"""A goods receipt and its lines' running totals are one transaction (100 items at most): a
delivery of more lines is recorded as several receipts."""


class _Strict(LazyModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class OrderLineInput(_Strict):
    line: LineNumber
    description: str = Field(default="", max_length=255)
    quantity: Quantity
    unit_price: Annotated[EnteredAmount, Field(ge=0, decimal_places=6)]
    gl_account: GLAccountCode | None = None


class PurchaseOrderInput(_Strict):
    id: Identifier | None = Field(
        default=None, description="The order's number; given by the purchasing system or made."
    )
    company: Identifier
    vendor: Identifier
    currency: Currency
    order_date: BookDate | None = None
    lines: list[OrderLineInput] = Field(min_length=1, max_length=MAX_ORDER_LINES)

    @model_validator(mode="after")
    def _lines_unique_and_priced(self) -> PurchaseOrderInput:
        seen: set[int] = set()
        for index, line in enumerate(self.lines):
            if line.line in seen:
                raise ValueError(f"lines[{index}].line: line {line.line} appears twice")
            seen.add(line.line)
        return self


class OrderLine(LazyModel):
    """A stored order line with its running totals."""

    model_config = ConfigDict(extra="forbid")

    purchase_order: str
    line: int
    description: str = ""
    quantity: Amount
    unit_price: Amount
    gl_account: str | None = None
    received_quantity: Amount = Decimal(0)
    invoiced_quantity: Amount = Decimal(0)
    claimed_quantity: Amount = Field(
        default=Decimal(0),
        description="Held by invoices being posted now (more order lines than one transaction "
        "takes): not available to another invoice, invoiced once their posting is settled",
    )

    @property
    def available(self) -> Decimal:
        """Received and neither invoiced nor claimed by an invoice being posted."""
        return self.received_quantity - self.invoiced_quantity - self.claimed_quantity


class PurchaseOrder(LazyModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    company: str
    vendor: str
    currency: str
    order_date: date | None = None
    lines: list[OrderLine]
    created_at: datetime
    created_by: str


class ReceiptLine(_Strict):
    line: LineNumber
    quantity: Quantity


class GoodsReceiptInput(_Strict):
    id: Identifier | None = Field(
        default=None,
        description="The receipt's own number: the same number is never recorded twice.",
    )
    company: Identifier
    purchase_order: Identifier
    date: BookDate
    reference: str = Field(default="", max_length=100, description="The delivery note.")
    lines: list[ReceiptLine] = Field(min_length=1, max_length=MAX_RECEIPT_LINES)

    @field_validator("lines")
    @classmethod
    def _each_line_once(cls, lines: list[ReceiptLine]) -> list[ReceiptLine]:
        seen: set[int] = set()
        for index, line in enumerate(lines):
            if line.line in seen:
                raise ValueError(f"lines[{index}].line: line {line.line} appears twice")
            seen.add(line.line)
        return lines


class GoodsReceipt(LazyModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    company: str
    purchase_order: str
    date: date
    reference: str = ""
    lines: list[ReceiptLine]
    created_at: datetime
    created_by: str
