"""Custom validations: posting rules a company sets up as data, in its accounting settings.

Each rule is a JSON object told apart by `rule`:

    {"rule": "required_field", "field": "reference"}
    {"rule": "max_document_total", "amount": "10000.00"}
    {"rule": "gl_account_not_allowed", "gl_accounts": ["9999"]}
    {"rule": "max_line_value", "amount": "5000.00"}

and may carry `document_types` (the types it applies to; empty means every type) and
`message` (the company's own wording). A problem a rule finds is a `Problem`: its `code` is
the rule's name, its `field` points into the document (`reference`, `lines[3].gl_account`,
0-based like the JSON), its `message` names the document number and, for a line, the line
number counted from 1 as people count. A company's `message` replaces the explanation but
keeps the place: "Line 4 of SIN000042: <message>".

What each rule looks at:
- `required_field`: the document's `reference`, `description` or `account`, or each line's
  `description`, `gl_account` or `tax_code` (journal lines carry no tax code: that field
  never applies to them). Blank text counts as missing.
- `max_document_total`: the gross total (net + tax; a journal's total debits) converted to
  home currency, as a magnitude (a credit note is held to the same limit as an invoice).
- `gl_account_not_allowed`: the GL account each document line posts to, after the defaults
  are resolved (revenue, expense or deferred income for a line without its own account).
- `max_line_value`: each line's net value (a journal line's value) in document currency,
  as a magnitude.

The rules judge `DocumentFacts`, which the ledger works out once while it builds the
transaction, so a rule never repeats the arithmetic and stays linear in the line count.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Literal, TypedDict

from pydantic import ConfigDict, Field

from background_posting.domain.documents import DocumentLine, DocumentType, JournalLine
from background_posting.domain.model import LazyModel
from background_posting.domain.types import Amount, GLAccountCode


class Problem(TypedDict):
    """One reason a document cannot be posted."""

    code: str
    message: str
    field: str


def problem(code: str, message: str, field: str) -> Problem:
    return {"code": code, "message": message, "field": field}


def line_place(number: str, index: int) -> str:
    """`Line 4 of SIN000042` for the line at 0-based `index`."""
    return f"Line {index + 1} of {number}"


def money_text(amount: Decimal, currency: str) -> str:
    return f"{amount:,f} {currency}"


@dataclass(frozen=True, slots=True)
class DocumentFacts:
    """What the ledger knows about a document when the custom validations run.

    `line_values[i]` is line i's net value (a journal line's value) rounded to the document
    currency; `line_gl_accounts[i]` the GL account it posts to; `home_total` the gross total
    in home currency, None when it cannot be converted (a missing rate, reported elsewhere).
    """

    number: str
    type: DocumentType
    currency: str
    home_currency: str
    reference: str
    description: str
    account: str | None
    lines: Sequence[DocumentLine] | Sequence[JournalLine]
    line_values: Sequence[Decimal]
    line_gl_accounts: Sequence[str]
    home_total: Decimal | None


class _Rule(LazyModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    document_types: list[DocumentType] = Field(default_factory=list, max_length=5)
    message: str | None = Field(default=None, min_length=1, max_length=500)

    def applies_to(self, document_type: str) -> bool:
        return not self.document_types or document_type in self.document_types

    def _say(self, place: str, explanation: str) -> str:
        """`place` ("SIN000042", "Line 4 of SIN000042") then the company's words or ours."""
        if self.message:
            return f"{place}: {self.message}"
        return f"{place} {explanation}"


_LINE_FIELD_WORDS = {
    "description": "description",
    "gl_account": "GL account",
    "tax_code": "tax code",
}


class RequiredField(_Rule):
    rule: Literal["required_field"]
    field: Literal[
        "reference",
        "description",
        "account",
        "lines.description",
        "lines.gl_account",
        "lines.tax_code",
    ]

    def check(self, facts: DocumentFacts) -> list[Problem]:
        if not self.field.startswith("lines."):
            value = getattr(facts, self.field)
            if value:
                return []
            return [
                problem(
                    self.rule,
                    self._say(facts.number, f"has no {self.field}, which this company requires."),
                    self.field,
                )
            ]
        name = self.field.removeprefix("lines.")
        if name == "tax_code" and facts.type == "journal":
            return []
        found = []
        for index, line in enumerate(facts.lines):
            if getattr(line, name):
                continue
            found.append(
                problem(
                    self.rule,
                    self._say(
                        line_place(facts.number, index),
                        f"has no {_LINE_FIELD_WORDS[name]}, which this company requires.",
                    ),
                    f"lines[{index}].{name}",
                )
            )
        return found


class MaxDocumentTotal(_Rule):
    rule: Literal["max_document_total"]
    amount: Annotated[Amount, Field(ge=0)]

    def check(self, facts: DocumentFacts) -> list[Problem]:
        if facts.home_total is None or abs(facts.home_total) <= self.amount:
            return []
        explanation = (
            f"totals {money_text(abs(facts.home_total), facts.home_currency)} in home currency, "
            f"more than the {money_text(self.amount, facts.home_currency)} this company allows."
        )
        return [problem(self.rule, self._say(facts.number, explanation), "lines")]


class GLAccountNotAllowed(_Rule):
    rule: Literal["gl_account_not_allowed"]
    gl_accounts: list[GLAccountCode] = Field(min_length=1, max_length=1000)

    def check(self, facts: DocumentFacts) -> list[Problem]:
        barred = frozenset(self.gl_accounts)
        found = []
        for index, gl_account in enumerate(facts.line_gl_accounts):
            if gl_account not in barred:
                continue
            own = facts.lines[index].gl_account == gl_account
            how = "" if own else " (the company's default for it)"
            found.append(
                problem(
                    self.rule,
                    self._say(
                        line_place(facts.number, index),
                        f"posts to GL account {gl_account}{how}, which this company does not "
                        "allow.",
                    ),
                    f"lines[{index}].gl_account",
                )
            )
        return found


class MaxLineValue(_Rule):
    rule: Literal["max_line_value"]
    amount: Annotated[Amount, Field(ge=0)]

    def check(self, facts: DocumentFacts) -> list[Problem]:
        limit = self.amount
        field = "value" if facts.type == "journal" else "unit_price"
        found = []
        for index, value in enumerate(facts.line_values):
            if abs(value) <= limit:
                continue
            found.append(
                problem(
                    self.rule,
                    self._say(
                        line_place(facts.number, index),
                        f"is worth {money_text(abs(value), facts.currency)}, more than the "
                        f"{money_text(limit, facts.currency)} this company allows on one line.",
                    ),
                    f"lines[{index}].{field}",
                )
            )
        return found


CustomValidation = Annotated[
    RequiredField | MaxDocumentTotal | GLAccountNotAllowed | MaxLineValue,
    Field(discriminator="rule"),
]


def check_custom_validations(
    validations: Iterable[CustomValidation], facts: DocumentFacts
) -> list[Problem]:
    """Every problem every applicable rule finds, rule by rule in the settings' order."""
    found: list[Problem] = []
    for validation in validations:
        if validation.applies_to(facts.type):
            found.extend(validation.check(facts))
    return found
