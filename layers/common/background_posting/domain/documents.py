"""Documents: the five types, their lines, statuses and what each status allows."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from background_posting.domain.errors import Conflict
from background_posting.domain.types import Amount, Currency, GLAccountCode, Identifier

DocumentType = Literal[
    "sales_invoice", "sales_credit_note", "payable_invoice", "payable_credit_note", "journal"
]
DOCUMENT_TYPES: tuple[DocumentType, ...] = (
    "sales_invoice",
    "sales_credit_note",
    "payable_invoice",
    "payable_credit_note",
    "journal",
)
PREFIXES: dict[str, str] = {
    "sales_invoice": "SIN",
    "sales_credit_note": "SCR",
    "payable_invoice": "PIN",
    "payable_credit_note": "PCR",
    "journal": "JNL",
}
TRANSACTION_PREFIX = "TRN"
SALES_TYPES = frozenset({"sales_invoice", "sales_credit_note"})
PAYABLE_TYPES = frozenset({"payable_invoice", "payable_credit_note"})
CREDIT_NOTE_TYPES = frozenset({"sales_credit_note", "payable_credit_note"})

Status = Literal["In Progress", "Ready to Post", "Complete", "Discarded"]
IN_PROGRESS: Status = "In Progress"
READY_TO_POST: Status = "Ready to Post"
COMPLETE: Status = "Complete"
DISCARDED: Status = "Discarded"
STATUSES: tuple[str, ...] = (IN_PROGRESS, READY_TO_POST, COMPLETE, DISCARDED)


def format_number(prefix: str, sequence: int) -> str:
    """`SIN000042`: six digits, growing past them rather than wrapping."""
    return f"{prefix}{sequence:06d}"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class IncomeSchedule(_Strict):
    """Recognise the line's income over `periods` periods of `frequency`."""

    periods: int = Field(ge=1, le=120)
    frequency: Literal["monthly", "quarterly", "yearly"] = "monthly"


class DocumentLine(_Strict):
    """A sales or payable document line: quantity x unit price, net of tax."""

    description: str = Field(default="", max_length=255)
    quantity: Amount
    unit_price: Amount
    gl_account: GLAccountCode | None = None
    tax_code: str | None = Field(default=None, min_length=1, max_length=20)
    income_schedule: IncomeSchedule | None = None
    tax: Amount | None = Field(
        default=None,
        description="The line's tax as the tax provider (AvaTax) calculated it, in document "
        "currency; set when the document posts, never entered.",
    )
    purchase_order: Identifier | None = Field(
        default=None,
        description="Payable invoices: the purchase order this line invoices; such an invoice "
        "is verified against the order's goods receipts in a run before it posts.",
    )
    purchase_order_line: int | None = Field(
        default=None, ge=1, le=100_000, description="The line of `purchase_order` invoiced."
    )

    @model_validator(mode="after")
    def _order_reference_whole(self) -> DocumentLine:
        if (self.purchase_order is None) != (self.purchase_order_line is None):
            raise ValueError("purchase_order and purchase_order_line go together: give both")
        return self


class JournalLine(_Strict):
    """A journal line: a signed value (debit positive) to a GL account, optionally an account."""

    gl_account: GLAccountCode
    value: Amount
    account: Identifier | None = None
    description: str = Field(default="", max_length=255)


class _DocumentFields(_Strict):
    company: Identifier
    document_date: date
    currency: Currency
    tax_mode: Literal["builtin", "avatax"] = "builtin"
    reference: str = Field(default="", max_length=100)
    description: str = Field(default="", max_length=500)


class TradingDocumentInput(_DocumentFields):
    type: Literal["sales_invoice", "sales_credit_note", "payable_invoice", "payable_credit_note"]
    account: Identifier
    lines: list[DocumentLine] = Field(default_factory=list, max_length=100_000)
    recurring: bool = Field(
        default=False, description="A recurring invoice created with Save & Post."
    )

    @model_validator(mode="after")
    def _orders_on_payable_invoices_only(self) -> TradingDocumentInput:
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


class JournalInput(_DocumentFields):
    type: Literal["journal"]
    account: Identifier | None = None
    lines: list[JournalLine] = Field(default_factory=list, max_length=100_000)


DocumentInput = Annotated[TradingDocumentInput | JournalInput, Field(discriminator="type")]


class DocumentPatch(_Strict):
    """What an amendment may change while the document is In Progress."""

    document_date: date | None = None
    currency: Currency | None = None
    account: Identifier | None = None
    tax_mode: Literal["builtin", "avatax"] | None = None
    reference: str | None = Field(default=None, max_length=100)
    description: str | None = Field(default=None, max_length=500)
    lines: list[dict[str, Any]] | None = Field(default=None, max_length=100_000)

    @field_validator("lines")
    @classmethod
    def _tax_is_not_amended(cls, lines: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
        """A line's tax is read-only: one sent with amended lines (a document read and sent
        back) is ignored; amended lines have no tax until the document posts again."""
        if lines is None:
            return None
        return [{k: v for k, v in line.items() if k != "tax"} for line in lines]


class DocumentTax(BaseModel):
    """What the tax provider holds for a document: the code it knows the document by, the tax
    it calculated, and whether that tax is committed (reported) or voided."""

    model_config = ConfigDict(extra="forbid")

    provider: str
    code: str
    transaction_id: str | None = None
    total: Amount
    status: Literal["calculated", "committed", "voided"]
    calculated_at: datetime
    committed_at: datetime | None = None
    voided_at: datetime | None = None


class OrderLineCheck(BaseModel):
    """One referenced purchase order line as a verification saw it (quantities, values)."""

    model_config = ConfigDict(extra="forbid")

    purchase_order: str
    line: int
    description: str = ""
    gl_account: str | None = Field(
        default=None, description="The order line's account: invoice lines without one post there."
    )
    unit_price: Amount
    ordered: Amount
    received: Amount
    invoiced_before: Amount = Field(description="Invoiced by earlier invoices.")
    available: Amount = Field(description="Received and not invoiced yet: what this invoices.")
    expected: Amount = Field(description="available x unit_price, rounded to the currency.")
    invoiced: Amount = Field(description="What this invoice's lines charge for the line.")
    difference: Amount


class Verification(BaseModel):
    """Invoice verification of a payable invoice that references purchase order lines."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["pending", "with_errors", "verified"]
    expected: Amount | None = None
    invoiced: Amount | None = None
    difference: Amount | None = Field(default=None, description="invoiced - expected")
    tolerance: Amount | None = None
    outcome: Literal["matched", "accepted", "reduced"] | None = Field(
        default=None,
        description="verified: no difference, a difference accepted to small differences, or "
        "the invoice reduced to the expected total",
    )
    reduced_by: Amount | None = None
    small_difference: Amount | None = None
    checked_at: datetime | None = None
    errors: list[dict[str, Any]] = Field(default_factory=list)
    order_lines: list[OrderLineCheck] = Field(default_factory=list)


class Document(BaseModel):
    """A stored document. `lines` are DocumentLine or JournalLine by `type`."""

    model_config = ConfigDict(extra="forbid")

    id: str
    number: str
    type: DocumentType
    company: str
    account: str | None
    document_date: date
    currency: str
    tax_mode: Literal["builtin", "avatax"]
    reference: str = ""
    description: str = ""
    recurring: bool = False
    status: Status = IN_PROGRESS
    lines: list[DocumentLine] | list[JournalLine] = Field(default_factory=list)
    line_count: int = 0
    created_at: datetime
    created_by: str
    updated_at: datetime
    version: int = 1
    transaction_number: str | None = None
    posted_at: datetime | None = None
    posted_by: str | None = None
    tax: DocumentTax | None = None
    verification: Verification | None = None

    @model_validator(mode="before")
    @classmethod
    def _lines_by_type(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("lines"), list):
            line_model = JournalLine if data.get("type") == "journal" else DocumentLine
            data = dict(data)
            data["lines"] = [
                line if isinstance(line, BaseModel) else line_model.model_validate(line)
                for line in data["lines"]
            ]
        return data

    @property
    def is_journal(self) -> bool:
        return self.type == "journal"

    @property
    def prefix(self) -> str:
        return PREFIXES[self.type]

    def line_values(self) -> list[Decimal]:
        """Net value of each line in document currency, before rounding."""
        values = []
        for line in self.lines:
            if isinstance(line, JournalLine):
                values.append(line.value)
            else:
                values.append(line.quantity * line.unit_price)
        return values

    # -- what each status allows -------------------------------------------------------

    def require_status(self, action: str, *allowed: str) -> None:
        if self.status in allowed:
            return
        code = {
            READY_TO_POST: "document_locked",
            COMPLETE: "document_complete",
            DISCARDED: "document_discarded",
            IN_PROGRESS: "document_in_progress",
        }[self.status]
        raise Conflict(
            f"{self.number} is {self.status}: it cannot be {action}.",
            code=code,
            details={"number": self.number, "status": self.status},
        )

    def require_amendable(self) -> None:
        self.require_status("amended", IN_PROGRESS)

    def require_discardable(self) -> None:
        self.require_status("discarded", IN_PROGRESS)

    def require_printable(self) -> None:
        self.require_status("printed", IN_PROGRESS, COMPLETE)

    def require_postable(self) -> None:
        self.require_status("posted", IN_PROGRESS)
