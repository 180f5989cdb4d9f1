"""Accounting settings per company, and the organisation's background posting settings."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, field_validator

from background_posting.domain.documents import DocumentType
from background_posting.domain.model import LazyModel
from background_posting.domain.validations import CustomValidation
from background_posting.domain.verification import InvoiceVerificationSettings

TradingDocumentType = Literal[
    "sales_invoice", "sales_credit_note", "payable_invoice", "payable_credit_note"
]
TRADING_DOCUMENT_TYPES: tuple[TradingDocumentType, ...] = (
    "sales_invoice",
    "sales_credit_note",
    "payable_invoice",
    "payable_credit_note",
)
DEFAULT_LINE_THRESHOLD = 250
LineCount = Annotated[int, Field(ge=1, le=100_000)]
Attempts = Annotated[int, Field(ge=1, le=20)]


def _default_thresholds() -> dict[TradingDocumentType, int]:
    return dict.fromkeys(TRADING_DOCUMENT_TYPES, DEFAULT_LINE_THRESHOLD)


class CompanySettings(LazyModel):
    """A company's accounting settings.

    A document with more lines than its type's threshold (a journal: more than the journal
    line limit) posts in the background. A type left out of `line_thresholds` uses 250, and
    the settings read back with every type filled in.
    """

    model_config = ConfigDict(extra="forbid")

    line_thresholds: dict[TradingDocumentType, LineCount] = Field(
        default_factory=_default_thresholds
    )
    journal_line_limit: LineCount = DEFAULT_LINE_THRESHOLD
    custom_validations: list[CustomValidation] = Field(default_factory=list, max_length=100)
    invoice_verification: InvoiceVerificationSettings = Field(
        default_factory=InvoiceVerificationSettings,
        description="Tolerance and what to do within it, for payable invoices verified "
        "against goods receipts (none by default: only an exact match posts).",
    )

    @field_validator("line_thresholds", mode="after")
    @classmethod
    def _every_type(
        cls, thresholds: dict[TradingDocumentType, int]
    ) -> dict[TradingDocumentType, int]:
        return _default_thresholds() | thresholds

    def threshold_for(self, document_type: DocumentType) -> int:
        """The most lines a document of this type may have and still post at once."""
        if document_type == "journal":
            return self.journal_line_limit
        return self.line_thresholds.get(document_type, DEFAULT_LINE_THRESHOLD)


AttemptsSetting = Literal["max_attempts", "max_attempts_avatax"]
"""Which background posting setting a worker item's attempts count against."""


class BackgroundPostingSettings(LazyModel):
    """How many runs may fail on a document before it goes back to In Progress."""

    model_config = ConfigDict(extra="forbid")

    max_attempts_avatax: Attempts = 3
    max_attempts: Attempts = 3

    def maximum(self, setting: AttemptsSetting) -> int:
        """The maximum attempts the named setting holds now."""
        return self.max_attempts_avatax if setting == "max_attempts_avatax" else self.max_attempts
