"""Tax providers: one interface for the built-in engine and AvaTax, and the rules around it.

A tax provider works out a document's tax without committing it (`calculate`), commits what it
calculated once the document is posted (`commit`: the tax is then reported), and voids it when
the document will never post (`void`). Two providers stand behind the interface:

* the built-in engine (`BuiltinTaxEngine`), the default: the company's tax codes and rates. It
  keeps no record of its own (the ledger is its record), so committing and voiding have nothing
  to do. Per line it rounds cumulatively within each tax code, so a tax code's line taxes add up
  to exactly the tax the ledger posts for that code: round(sum of the code's nets x rate).
* AvaTax (`adapters/avatax.py`), for documents with `tax_mode: avatax`, over its REST API.

A document whose tax AvaTax calculates posts in three stages (docs/design.md): a run
calculates the tax (uncommitted; every line gets its tax and the document records the AvaTax
transaction), the same run posts it with those line taxes, and a later run commits the tax.
The document code sent to the provider is derived from the company and the document number, so
calculating again (a retry, a redelivered message, a repost after a correction) replaces the
provider's uncommitted transaction instead of adding one.

Pure: plain data in, plain data out; no AWS, no network.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, localcontext
from typing import Literal, Protocol, cast

from background_posting.domain.company import Address, Company
from background_posting.domain.documents import (
    PAYABLE_TYPES,
    Document,
    DocumentLine,
    DocumentTax,
)
from background_posting.domain.errors import DomainError, ValidationFailed
from background_posting.domain.money import round_money
from background_posting.domain.validations import line_place, problem

TaxKind = Literal["sale", "sale_return", "purchase", "purchase_return"]
KIND_BY_TYPE: dict[str, TaxKind] = {
    "sales_invoice": "sale",
    "sales_credit_note": "sale_return",
    "payable_invoice": "purchase",
    "payable_credit_note": "purchase_return",
}
MAX_CODE_LENGTH = 50  # AvaTax's limit for a transaction code

_HUNDRED = Decimal(100)


class TaxRejected(ValidationFailed):
    """The provider refused the document (an address it cannot place, an unknown tax code...):
    the document must change before its tax can be calculated."""

    code = "tax_rejected"


class TaxUnavailable(DomainError):
    """The provider could not do it now: unreachable, too slow, rate limiting, or not configured
    (credentials). Nothing about the document is wrong; it is tried again later."""

    code = "tax_provider_unavailable"


@dataclass(frozen=True, slots=True)
class TaxLine:
    index: int  # the line's position in the document (0-based)
    amount: Decimal  # its net in document currency, as the document shows it
    quantity: Decimal
    tax_code: str | None
    description: str


@dataclass(frozen=True, slots=True)
class TaxReference:
    """How a provider knows a document: our company, the document code, the kind of document."""

    company: str
    code: str
    kind: TaxKind


@dataclass(frozen=True, slots=True)
class TaxRequest:
    reference: TaxReference
    number: str  # the document number, for messages
    date: date
    customer: str  # the customer's or vendor's account id
    currency: str
    ship_from: Address
    ship_to: Address
    lines: tuple[TaxLine, ...]
    description: str = ""


@dataclass(frozen=True, slots=True)
class TaxResult:
    code: str
    transaction_id: str | None
    line_taxes: dict[int, Decimal]  # by line index; positive on an invoice, as the document shows
    total: Decimal


class TaxProvider(Protocol):
    """Calculate (uncommitted), commit, void: what posting needs of a tax provider."""

    name: str

    def calculate(self, request: TaxRequest) -> TaxResult: ...

    def commit(self, reference: TaxReference) -> None: ...

    def void(self, reference: TaxReference) -> None: ...


# -- what the provider is asked ----------------------------------------------------------------


def calculated_externally(document: Document) -> bool:
    """The document's tax comes from AvaTax (journals carry no tax, whatever their mode)."""
    return document.tax_mode == "avatax" and not document.is_journal


def document_code(document: Document) -> str:
    """The code a provider knows the document by: the same for every calculation of it."""
    code = f"{document.company}-{document.number}"
    if len(code) > MAX_CODE_LENGTH:
        raise ValueError(f"the document code {code!r} is longer than {MAX_CODE_LENGTH}")
    return code


def reference_of(document: Document) -> TaxReference:
    return TaxReference(document.company, document_code(document), KIND_BY_TYPE[document.type])


def tax_request(
    document: Document, company: Company, account_address: Address | None
) -> TaxRequest:
    """What the provider is asked for `document`; ValidationFailed names each missing address.

    Sales ship from the company to the customer; purchases from the vendor to the company.
    """
    if document.type not in KIND_BY_TYPE:
        raise ValidationFailed(
            f"{document.number} is a journal: journals have no tax to calculate.",
            code="tax_not_applicable",
        )
    purchase = document.type in PAYABLE_TYPES
    problems = []
    if company.address is None:
        problems.append(
            problem(
                "address_missing",
                f"Company {company.id} has no address, which AvaTax needs to calculate the tax "
                f"of {document.number}: enter the company's address in its settings, then "
                "post again.",
                "company.address",
            )
        )
    if account_address is None:
        who = "vendor" if purchase else "customer"
        problems.append(
            problem(
                "address_missing",
                f"The {who} {document.account} of {document.number} has no address, which "
                f"AvaTax needs to calculate the tax: enter the address on the {who}'s record, "
                "then post again.",
                "account.address",
            )
        )
    if problems:
        count = len(problems)
        raise ValidationFailed(
            f"{count} problem{'s' if count > 1 else ''} stop{'' if count > 1 else 's'} the tax "
            f"of {document.number} being calculated: {problems[0]['message']}",
            code="tax_request_incomplete",
            details={"errors": problems},
        )
    assert company.address is not None and account_address is not None
    lines = cast(list[DocumentLine], document.lines)
    return TaxRequest(
        reference=reference_of(document),
        number=document.number,
        date=document.document_date,
        customer=document.account or "",
        currency=document.currency,
        ship_from=account_address if purchase else company.address,
        ship_to=company.address if purchase else account_address,
        lines=tuple(
            TaxLine(
                index=index,
                amount=round_money(line.quantity * line.unit_price, document.currency),
                quantity=line.quantity,
                tax_code=line.tax_code,
                description=line.description,
            )
            for index, line in enumerate(lines)
        ),
        description=document.description or document.reference,
    )


# -- what comes back -----------------------------------------------------------------------------


def with_tax(document: Document, result: TaxResult, provider: str, at: datetime) -> Document:
    """The document with each line's calculated tax and the provider's record of it."""
    lines = cast(list[DocumentLine], document.lines)
    taxed = [
        line.model_copy(
            update={"tax": round_money(result.line_taxes.get(i, Decimal(0)), document.currency)}
        )
        for i, line in enumerate(lines)
    ]
    record = DocumentTax(
        provider=provider,
        code=result.code,
        transaction_id=result.transaction_id,
        total=round_money(result.total, document.currency),
        status="calculated",
        calculated_at=at,
    )
    return document.model_copy(update={"lines": taxed, "tax": record, "updated_at": at})


def tax_override(document: Document) -> Mapping[int, Decimal] | None:
    """The line taxes posting uses: None (the company's tax codes) unless AvaTax calculates it.

    ValidationFailed when an AvaTax document has not been calculated yet.
    """
    if not calculated_externally(document):
        return None
    if document.tax is None or document.tax.status == "voided":
        raise ValidationFailed(
            f"The tax of {document.number} has not been calculated by AvaTax yet: it is "
            "calculated in the background before the document posts.",
            code="tax_not_calculated",
        )
    lines = cast(list[DocumentLine], document.lines)
    return {index: line.tax for index, line in enumerate(lines) if line.tax is not None}


def committed(document: Document, at: datetime) -> Document:
    assert document.tax is not None
    record = document.tax.model_copy(update={"status": "committed", "committed_at": at})
    return document.model_copy(update={"tax": record, "updated_at": at})


def voided(document: Document, at: datetime) -> Document:
    assert document.tax is not None
    record = document.tax.model_copy(update={"status": "voided", "voided_at": at})
    return document.model_copy(update={"tax": record, "updated_at": at})


def cleared_line_taxes(document: Document) -> Document:
    """An amended document's lines lose their calculated tax: it is calculated again at posting."""
    lines = cast(list[DocumentLine], document.lines)
    return document.model_copy(
        update={"lines": [line.model_copy(update={"tax": None}) for line in lines]}
    )


# -- the built-in engine -----------------------------------------------------------------------


class BuiltinTaxEngine:
    """The company's tax codes and rates; the default provider."""

    name = "builtin"

    def __init__(self, company: Company):
        self.company = company

    def calculate(self, request: TaxRequest) -> TaxResult:
        """Each line's tax, rounded so that each tax code's lines sum to what the ledger posts.

        Within a tax code, line i gets round(cumulative x rate) - round(previous cumulative x
        rate): the differences telescope to round(sum of nets x rate).
        """
        rates = {t.code: t.rate for t in self.company.tax_codes}
        unknown = [
            problem(
                "tax_code_unknown",
                f"{line_place(request.number, line.index)} uses tax code {line.tax_code}, which "
                f"company {self.company.id} does not have.",
                f"lines[{line.index}].tax_code",
            )
            for line in request.lines
            if line.tax_code is not None and line.tax_code not in rates
        ]
        if unknown:
            raise TaxRejected(
                f"{len(unknown)} line(s) of {request.number} use tax codes company "
                f"{self.company.id} does not have: {unknown[0]['message']}",
                details={"errors": unknown},
            )
        taxes: dict[int, Decimal] = {}
        running: dict[str, tuple[Decimal, Decimal]] = {}  # code -> (cumulative net, its tax)
        with localcontext() as exact:
            exact.prec = 100
            for line in request.lines:
                if line.tax_code is None:
                    continue
                net, before = running.get(line.tax_code, (Decimal(0), Decimal(0)))
                net += line.amount
                after = round_money(net * rates[line.tax_code] / _HUNDRED, request.currency)
                taxes[line.index] = after - before
                running[line.tax_code] = (net, after)
            total = sum((tax for _, tax in running.values()), Decimal(0))
        return TaxResult(request.reference.code, None, taxes, total)

    def commit(self, reference: TaxReference) -> None:
        """Nothing to commit: the built-in engine's record is the ledger itself."""

    def void(self, reference: TaxReference) -> None:
        """Nothing to void: the built-in engine keeps no transaction outside the ledger."""
