"""Documents: the five types, their lines, statuses and what each status allows."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    model_validator,
)

from background_posting import clock
from background_posting.domain.errors import Conflict
from background_posting.domain.model import LazyModel
from background_posting.domain.types import (
    MAX_WHOLE_DIGITS,
    Amount,
    EnteredAmount,
    GLAccountCode,
    Identifier,
    is_entered,
)

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
TYPE_NAMES: dict[str, str] = {
    "sales_invoice": "Sales invoice",
    "sales_credit_note": "Sales credit note",
    "payable_invoice": "Payable invoice",
    "payable_credit_note": "Payable credit note",
    "journal": "Journal",
}
"""Each document type in words: `type_name()` at the start of a sentence, `.lower()` within
one, `.title()` as a printout's heading."""


def type_name(document_type: str) -> str:
    """`Sales credit note` (an unknown type in words all the same)."""
    return TYPE_NAMES.get(document_type, document_type.replace("_", " ").capitalize())


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
TRADING_TYPES = ("sales_invoice", "sales_credit_note", "payable_invoice", "payable_credit_note")
"""The types with an account and an outstanding amount (all but journals), in list order."""

Status = Literal["In Progress", "Ready to Post", "Complete", "Discarded"]
IN_PROGRESS: Status = "In Progress"
READY_TO_POST: Status = "Ready to Post"
COMPLETE: Status = "Complete"
DISCARDED: Status = "Discarded"
STATUSES: tuple[str, ...] = (IN_PROGRESS, READY_TO_POST, COMPLETE, DISCARDED)
POSTABLE: frozenset[str] = frozenset({IN_PROGRESS, READY_TO_POST})
"""A document may be posted from these: by hand when In Progress, by a worker when queued."""


MAX_LINES = 100_000  # lines a document may hold
LINES_PER_REQUEST = 1_000  # lines one request may carry (create, amend, append) or answer


def format_number(prefix: str, sequence: int) -> str:
    """`SIN000042`: six digits, growing past them rather than wrapping."""
    return f"{prefix}{sequence:06d}"


class StrictModel(LazyModel):
    """What a request sends: no unknown fields, text stripped of edge whitespace."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class IncomeSchedule(StrictModel):
    """Recognise the line's income over `periods` periods of `frequency`."""

    periods: int = Field(ge=1, le=120)
    frequency: Literal["monthly", "quarterly", "yearly"] = "monthly"


_NET_LIMIT = Decimal(10) ** MAX_WHOLE_DIGITS


class DocumentLine(StrictModel):
    """A sales or payable document line: quantity x unit price, net of tax."""

    description: str = Field(default="", max_length=255)
    quantity: EnteredAmount
    unit_price: EnteredAmount
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
    def _net_within_whole_digits(self, info: ValidationInfo) -> DocumentLine:
        # Both factors are below 10^15: their product cannot overflow, and rounded to 28
        # digits it still says whether the net reaches 10^15.
        if not is_entered(info):  # stored by an earlier version: read as it is
            return self
        net = self.quantity * self.unit_price
        if abs(net) >= _NET_LIMIT:
            raise ValueError(
                f"its net (quantity x unit price, {net:,f}) has more than {MAX_WHOLE_DIGITS} "
                "digits before the decimal point: enter a smaller quantity or unit price"
            )
        return self

    @model_validator(mode="after")
    def _order_reference_whole(self) -> DocumentLine:
        if (self.purchase_order is None) != (self.purchase_order_line is None):
            raise ValueError("purchase_order and purchase_order_line go together: give both")
        return self


class JournalLine(StrictModel):
    """A journal line: a signed value (debit positive) to a GL account, optionally an account."""

    gl_account: GLAccountCode
    value: EnteredAmount
    account: Identifier | None = None
    description: str = Field(default="", max_length=255)


class DocumentTax(LazyModel):
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


class BackgroundError(LazyModel):
    """One error of a background attempt, as the worker log has it."""

    model_config = ConfigDict(extra="allow")

    code: str = ""
    message: str = ""
    field: str | None = None


class BackgroundErrors(LazyModel):
    """Why background posting gave a document back: the errors of its last attempt, and the
    worker log group they came from (kept here, so they outlive the log group)."""

    model_config = ConfigDict(extra="forbid")

    log_group: str = Field(description="Id of the worker log group the errors came from")
    log_group_title: str = Field(default="", description="That log group's title")
    step: str = Field(description="The worker item that failed, e.g. post_document")
    attempts: int = Field(description="How many times it was tried")
    at: datetime = Field(description="When the document was returned to In Progress")
    errors: list[BackgroundError] = Field(default_factory=list)


def background_errors(
    errors: list[dict[str, Any]],
    log_group: str,
    *,
    step: str = "post_document",
    attempts: int = 0,
    log_group_title: str = "",
    at: datetime | None = None,
) -> BackgroundErrors:
    """What a document returned to In Progress keeps of its last attempt's errors (pure: the
    worker passes the errors it logged and the log group it logged them in)."""
    return BackgroundErrors(
        log_group=log_group,
        log_group_title=log_group_title,
        step=step,
        attempts=attempts,
        at=at or clock.now(),
        errors=[BackgroundError.model_validate(error) for error in errors],
    )


class Match(LazyModel):
    """One match as a document shows it: the other document, the amount, when and by whom."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, serialize_by_alias=True)

    id: str
    with_: str = Field(alias="with", description="The id of the other document")
    with_number: str = ""
    amount: Amount = Field(description="Document currency; always positive")
    at: datetime
    by: str = ""


KEPT_ON_DOCUMENT = 100
"""Order line checks and suggested lines an invoice's stored verification keeps."""


class OrderLineCheck(LazyModel):
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
    claimed_before: Amount = Field(
        default=Decimal(0), description="Held by other invoices being posted at that moment."
    )
    available: Amount = Field(description="Received and not invoiced yet: what this invoices.")
    expected: Amount = Field(description="available x unit_price, rounded to the currency.")
    invoiced: Amount = Field(description="What this invoice's lines charge for the line.")
    difference: Amount


class Verification(LazyModel):
    """Invoice verification of a payable invoice that references purchase order lines."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["pending", "with_errors", "verified", "posted_not_completed", "posted"] = Field(
        description="pending, then with_errors (waiting for goods) or verified; once posted, "
        "`verified` (the company's `after_posting: posted`), or `posted_not_completed` until "
        "someone completes the verification, then `posted`"
    )
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
    posted_values: Literal["keyed", "suggested"] | None = Field(
        default=None,
        description="Verified: the lines that posted for the order lines, the clerk's "
        "(`keyed`) or verification's (`suggested`), by the company's `post_values`.",
    )
    checked_at: datetime | None = None
    errors: list[dict[str, Any]] = Field(default_factory=list)
    order_lines: list[OrderLineCheck] = Field(default_factory=list)
    suggested: list[DocumentLine] = Field(
        default_factory=list,
        description="An invoice that names `purchase_orders` and no order lines of its own: "
        "the lines verification built from what was received and not yet invoiced, at the "
        "orders' prices (what it posts)",
    )
    completed_by: str | None = Field(
        default=None, description="Who completed a verification posted, not completed"
    )
    completed_at: datetime | None = None
    order_line_count: int | None = Field(
        default=None,
        description="How many order lines were checked, when more than the "
        f"{KEPT_ON_DOCUMENT} that `order_lines` (and `suggested`) keep on the invoice",
    )
    suggested_count: int | None = Field(
        default=None,
        description=f"How many lines were suggested, when more than the {KEPT_ON_DOCUMENT} kept",
    )

    def kept(self) -> Verification:
        """The verification as the invoice keeps it: an invoice over thousands of order lines
        keeps the first KEPT_ON_DOCUMENT of each list and their counts (an item holds 400 KB;
        the whole is in the transaction it posted and the worker log entry)."""
        if max(len(self.order_lines), len(self.suggested)) <= KEPT_ON_DOCUMENT:
            return self
        return self.model_copy(
            update={
                "order_lines": self.order_lines[:KEPT_ON_DOCUMENT],
                "suggested": self.suggested[:KEPT_ON_DOCUMENT],
                "order_line_count": len(self.order_lines),
                "suggested_count": len(self.suggested),
            }
        )

    @property
    def verified(self) -> bool:
        """Verified within tolerance (posted or about to be), whatever its status after."""
        return self.status in ("verified", "posted_not_completed", "posted")


class PostingRates(LazyModel):
    """The exchange rates a document posts at instead of those of its date, each as a fraction
    (numerator, denominator): a reversal's are its original's, so that it negates it exactly
    in home and dual currency too."""

    model_config = ConfigDict(extra="forbid")

    document_to_home: tuple[Decimal, Decimal]
    home_to_dual: tuple[Decimal, Decimal]


class Document(LazyModel):
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
    last_background_errors: BackgroundErrors | None = Field(
        default=None,
        description="Set when background posting returned the document to In Progress after "
        "its maximum attempts: the last attempt's errors and their worker log group; cleared "
        "when the document is amended or posted.",
    )
    outstanding: Amount | None = Field(
        default=None,
        description="What is still open, in document currency, once posted (invoices and "
        "credit notes): its gross, signed as its type has it (negative for an invoice that credits "
        "the account or a credit note that charges it), less what is matched.",
    )
    matches: list[Match] = Field(default_factory=list)
    source_document: str | None = Field(
        default=None, description="The invoice a credit note was created from"
    )
    verification: Verification | None = None
    posting_rates: PostingRates | None = Field(
        default=None,
        description="The rates it posts at instead of those of its date (a reversal: the "
        "original's)",
    )
    reverses: str | None = Field(default=None, description="The journal this one reverses")
    auto_reverse_on: date | None = Field(
        default=None,
        description="A journal reversed by the first run on or after this date, once posted",
    )
    purchase_orders: list[str] = Field(
        default_factory=list,
        description="A payable invoice's purchase orders, when verification is to build its "
        "lines from what was received and not yet invoiced (`verification.suggested`)",
    )
    reversed_by: str | None = Field(
        default=None, description="The journal that reverses this one (posted or queued)"
    )
    post_on: date | None = Field(
        default=None,
        description="Posted on a date (Post with `post_on`): the first run on or after this "
        "date in the company's time zone posts it; null when it was not queued for a date",
    )

    @model_validator(mode="before")
    @classmethod
    def _lines_by_type(cls, data: Any, info: ValidationInfo) -> Any:
        if isinstance(data, dict) and isinstance(data.get("lines"), list):
            line_model = JournalLine if data.get("type") == "journal" else DocumentLine
            data = dict(data)
            data["lines"] = [
                line
                if isinstance(line, BaseModel)
                else line_model.model_validate(line, context=info.context)
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

    # -- changes of status -----------------------------------------------------------------

    def moved_to(self, status: Status, at: datetime, **changes: Any) -> Document:
        """This document in `status` (one version on), with `changes`; nothing is written."""
        return self.model_copy(
            update={"status": status, "version": self.version + 1, "updated_at": at, **changes}
        )

    def completed(self, actor: str, at: datetime, **changes: Any) -> Document:
        """This document posted by `actor` at `at` (its transaction number comes at the commit)."""
        return self.moved_to(
            COMPLETE, at, posted_at=at, posted_by=actor, last_background_errors=None, **changes
        )
