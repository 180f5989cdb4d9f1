"""Documents: the five types, their lines, statuses and what each status allows."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

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


MAX_LINES = 100_000  # lines a document may hold
LINES_PER_REQUEST = 1_000  # lines one request may carry (create, amend, append) or answer


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


class TradingDocumentInput(_DocumentFields):
    type: Literal["sales_invoice", "sales_credit_note", "payable_invoice", "payable_credit_note"]
    account: Identifier
    lines: list[DocumentLine] = Field(default_factory=list, max_length=MAX_LINES)
    recurring: bool = Field(
        default=False, description="A recurring invoice created with Save & Post."
    )

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


class JournalInput(_DocumentFields):
    type: Literal["journal"]
    account: Identifier | None = None
    lines: list[JournalLine] = Field(default_factory=list, max_length=MAX_LINES)


DocumentInput = Annotated[TradingDocumentInput | JournalInput, Field(discriminator="type")]


class TradingDocumentCreate(TradingDocumentInput):
    """`POST /documents` of a trading document: at most one page of lines; more are added
    with `POST /documents/{id}/lines`."""

    lines: list[DocumentLine] = Field(default_factory=list, max_length=LINES_PER_REQUEST)


class JournalCreate(JournalInput):
    """`POST /documents` of a journal: at most one page of lines (see TradingDocumentCreate)."""

    lines: list[JournalLine] = Field(default_factory=list, max_length=LINES_PER_REQUEST)


DocumentCreate = Annotated[TradingDocumentCreate | JournalCreate, Field(discriminator="type")]


class TradingLines(_Strict):
    """`POST /documents/{id}/lines` of a trading document: the lines to append."""

    lines: list[DocumentLine] = Field(min_length=1, max_length=LINES_PER_REQUEST)


class JournalLines(_Strict):
    """`POST /documents/{id}/lines` of a journal: the lines to append."""

    lines: list[JournalLine] = Field(min_length=1, max_length=LINES_PER_REQUEST)


class DocumentPatch(_Strict):
    """What an amendment may change while the document is In Progress."""

    document_date: date | None = None
    currency: Currency | None = None
    account: Identifier | None = None
    tax_mode: Literal["builtin", "avatax"] | None = None
    reference: str | None = Field(default=None, max_length=100)
    description: str | None = Field(default=None, max_length=500)
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
