"""What a printed document shows: a real invoice or credit note (or a journal voucher).

Pure: `printout` gathers, from the document, its company and its account, everything the HTML
view (`templates/document.html.j2`) and the PDF (`http/printing.py`) print, already in
words and formatted, so that both show the same thing:

* the issuer and the addressee with their names and addresses (a sales document is issued by
  the company to the customer; a payable document was issued by the vendor to the company);
* the document number, the document date, the due date and the reference;
* the lines: quantity, the unit price **at the precision entered** (10.1234 stays 10.1234;
  at least the currency's minor units), tax code and net amount (rounded to the currency);
* net, the tax per tax code (rate, taxable amount, tax), the gross total;
* the settlement discount terms (pay by a date, take a percentage: the amount);
* a journal: its lines' debits and credits and their totals;
* a sales invoice of a company in Switzerland or Liechtenstein: the QR-bill payment part and
  receipt (`qr_bill.payment_part`), asking for the gross total (before posting) or what is
  still outstanding (after it).

The due date and discounts come from the posted transaction when there is one, else from the
credit terms that posting would use (`credit_terms.terms_for`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal

from background_posting.domain.company import Account, Address, Company
from background_posting.domain.credit_terms import settlement_discount, terms_for
from background_posting.domain.documents import (
    CREDIT_NOTE_TYPES,
    PAYABLE_TYPES,
    Document,
    DocumentLine,
    JournalLine,
    type_name,
)
from background_posting.domain.money import Rate, minor_units, round_money
from background_posting.domain.posting_checks import DocumentTotals, document_totals
from background_posting.domain.qr_bill import payment_part

if TYPE_CHECKING:
    from qrbill import QRBill

LOCALE = "en_GB"


def money(amount: Decimal, currency: str) -> str:
    """`£1,234.50`, `KWD1.235`: rounded half away from zero to the currency's minor units."""
    return str(format_currency(round_money(amount, currency), currency, locale=LOCALE))


def price(amount: Decimal, currency: str) -> str:
    """A unit price at the precision it was entered, never fewer decimals than the currency
    has: `KWD10.1234`, `£12.50`, `JP¥1,000.5`."""
    places = max(minor_units(currency), -int(amount.normalize().as_tuple().exponent), 0)
    pattern = "¤#,##0" + ("." + "0" * places if places else "")
    return str(
        format_currency(amount, currency, format=pattern, locale=LOCALE, currency_digits=False)
    )


def quantity(amount: Decimal) -> str:
    return str(format_decimal(amount.normalize(), locale=LOCALE, decimal_quantization=False))


def long_date(day: date) -> str:
    return str(format_date(day, "d MMMM y", locale=LOCALE))


@dataclass(frozen=True)
class Party:
    role: str  # "From", "To", "Vendor", "Company"
    name: str
    address_lines: tuple[str, ...] = ()


@dataclass(frozen=True)
class PrintedLine:
    number: int
    description: str
    quantity: str = ""
    unit_price: str = ""
    tax_code: str = ""
    net: str = ""
    gl_account: str = ""
    account: str = ""
    debit: str = ""
    credit: str = ""


@dataclass(frozen=True)
class PrintedTax:
    code: str
    rate: str
    taxable: str
    tax: str


@dataclass(frozen=True)
class Printout:
    title: str
    number: str
    status: str
    currency: str
    parties: tuple[Party, ...]
    facts: tuple[tuple[str, str], ...]  # ("Document date", "20 November 2026"), ...
    lines: tuple[PrintedLine, ...]
    is_journal: bool
    totals: tuple[tuple[str, str], ...]  # ("Net", "£45.49"), ("Tax STD 20%", ...), ("Total", ...)
    taxes: tuple[PrintedTax, ...] = ()
    terms: tuple[str, ...] = ()  # "Payment due by 20 December 2026.", discount sentences
    description: str = ""
    matches: tuple[tuple[str, str, str], ...] = ()  # (other document, date, amount)
    payment_part: QRBill | None = None  # the Swiss QR-bill at the foot of the invoice


def _address(address: Address | None) -> tuple[str, ...]:
    if address is None:
        return ()
    town = " ".join(p for p in (address.city, address.region, address.postal_code) if p)
    return tuple(p for p in (address.line1, address.line2, town, address.country) if p)


def _parties(document: Document, company: Company, account: Account | None) -> tuple[Party, ...]:
    ours = Party("Company", company.name, _address(company.address))
    if document.is_journal:
        return (ours,)
    theirs_name = account.name if account is not None else (document.account or "")
    theirs = _address(account.address if account is not None else None)
    if document.type in PAYABLE_TYPES:
        return (Party("Vendor", theirs_name, theirs), Party("To", company.name, ours.address_lines))
    return (Party("From", company.name, ours.address_lines), Party("To", theirs_name, theirs))


def printout(
    document: Document,
    company: Company,
    account: Account | None,
    transaction: dict[str, Any] | None = None,
) -> Printout:
    """Everything the printed document shows (see the module notes)."""
    currency = document.currency
    totals = document_totals(document, company)
    facts: list[tuple[str, str]] = [
        ("Number", document.number),
        ("Document date", long_date(document.document_date)),
    ]
    terms_text: list[str] = []
    due, tiers = _due_and_tiers(document, company, account, totals.gross, transaction)
    if due is not None:
        facts.append(("Due date", long_date(due)))
        terms_text.append(f"Payment due by {long_date(due)}.")
    credit = document.type in CREDIT_NOTE_TYPES
    for tier in tiers:
        amount = abs(Decimal(str(tier["document_amount"])))
        percent = format_decimal(Decimal(str(tier["percent"])), locale=LOCALE)
        terms_text.append(
            f"Settlement discount: {percent}% ({money(amount, currency)}) if paid by "
            f"{long_date(date.fromisoformat(str(tier['date'])))} ({tier['days']} days)."
            if not credit
            else f"Settlement discount taken back: {percent}% ({money(amount, currency)}) if "
            f"settled by {long_date(date.fromisoformat(str(tier['date'])))}."
        )
    if document.reference:
        facts.append(("Reference", document.reference))
    facts.append(("Currency", currency))
    if transaction is not None:
        facts.append(("Transaction", f"{transaction['number']} (period {transaction['period']})"))
    lines: list[PrintedLine] = []
    shown_totals: tuple[tuple[str, str], ...]
    debits = credits = Decimal(0)
    for number, line in enumerate(document.lines, start=1):
        if isinstance(line, JournalLine):
            value = round_money(line.value, currency)
            debits += max(value, Decimal(0))
            credits += max(-value, Decimal(0))
            lines.append(
                PrintedLine(
                    number,
                    line.description,
                    gl_account=line.gl_account,
                    account=line.account or "",
                    debit=money(value, currency) if value > 0 else "",
                    credit=money(-value, currency) if value < 0 else "",
                )
            )
        elif isinstance(line, DocumentLine):
            lines.append(
                PrintedLine(
                    number,
                    line.description,
                    quantity=quantity(line.quantity),
                    unit_price=price(line.unit_price, currency),
                    tax_code=line.tax_code or "",
                    net=money(line.quantity * line.unit_price, currency),
                )
            )
    if document.is_journal:
        shown_totals = (
            ("Total debits", money(debits, currency)),
            ("Total credits", money(credits, currency)),
        )
        taxes: tuple[PrintedTax, ...] = ()
    else:
        taxes = _taxes(document, company, totals.taxes) if totals.tax_known else ()
        rows = [("Net", money(totals.net, currency))]
        if totals.tax_known:
            rows += [(f"Tax {t.code} at {t.rate}", t.tax) for t in taxes]
            rows += [("Tax", money(totals.tax, currency)), ("Total", money(totals.gross, currency))]
        else:
            rows.append(("Tax", "calculated by AvaTax when the document posts"))
        if document.outstanding is not None:
            rows.append(("Outstanding", money(document.outstanding, currency)))
        shown_totals = tuple(rows)
    matched = tuple(
        (
            match.with_number or match.with_,
            long_date(match.at.date()),
            money(match.amount, currency),
        )
        for match in document.matches
    )
    return Printout(
        title=type_name(document.type).title(),
        number=document.number,
        status=document.status,
        currency=currency,
        parties=_parties(document, company, account),
        facts=tuple(facts),
        lines=tuple(lines),
        is_journal=document.is_journal,
        totals=shown_totals,
        taxes=taxes,
        terms=tuple(terms_text),
        description=document.description,
        matches=matched,
        payment_part=payment_part(document, company, account, _to_pay(document, totals)),
    )


def _to_pay(document: Document, totals: DocumentTotals) -> Decimal | None:
    """What the invoice asks to be paid: what is still outstanding once posted, else the gross
    total (None while an external provider's tax is not known)."""
    if document.outstanding is not None:
        return document.outstanding
    return totals.gross if totals.tax_known else None


def _taxes(
    document: Document, company: Company, taxes: dict[str | None, Decimal]
) -> tuple[PrintedTax, ...]:
    currency = document.currency
    taxable: dict[str | None, Decimal] = {}
    for line in document.lines:
        if isinstance(line, DocumentLine):
            net = round_money(line.quantity * line.unit_price, currency)
            taxable[line.tax_code] = taxable.get(line.tax_code, Decimal(0)) + net
    printed = []
    for code, tax in sorted(taxes.items(), key=lambda kv: str(kv[0] or "")):
        known = company.tax_code(code) if code else None
        rate = f"{format_decimal(known.rate, locale=LOCALE)}%" if known is not None else "AvaTax"
        printed.append(
            PrintedTax(
                code=code or "(no code)",
                rate=rate,
                taxable=money(taxable.get(code, Decimal(0)), currency),
                tax=money(tax, currency),
            )
        )
    return tuple(printed)


def _due_and_tiers(
    document: Document,
    company: Company,
    account: Account | None,
    gross: Decimal,
    transaction: dict[str, Any] | None,
) -> tuple[date | None, list[dict[str, Any]]]:
    """The due date and discount tiers: the posted transaction's, else from the credit terms
    posting would use (in document currency)."""
    if transaction is not None:
        discount = transaction.get("discount")
        if not discount:
            return None, []
        return date.fromisoformat(discount["due_date"]), list(discount.get("tiers", []))
    terms = terms_for(document.type, company, account)
    if terms is None:
        return None, []
    signed = -gross if document.type in CREDIT_NOTE_TYPES else gross
    worked = settlement_discount(
        document_date=document.document_date,
        gross=signed,
        document_currency=document.currency,
        terms=terms,
        account_currency=document.currency,
        rate=Rate.one(),
    )
    return worked.due_date, [tier.as_json() for tier in worked.tiers]
