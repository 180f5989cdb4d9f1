"""A posting's first pass: every check that stops a document from posting, and the
document-currency amounts it works out on the way (`Analysis`: net per line, tax per tax
code, totals); `domain.ledger` builds the transaction's lines from them.

Problems (codes of `ValidationFailed.details["errors"]`, in this order): `no_lines`,
`period_missing`, `period_closed`; for the document's account `account_missing`,
`account_other_company`, `account_wrong_kind` (a customer for sales, a vendor for payables),
`currency_not_traded` (a journal's own account is checked for existence and company only);
`rate_missing` (document -> home, home -> dual, and into the account currency for the
discount); line by line `tax_code_unknown` (built-in tax only), and for journals
`amount_precision`, `account_missing`, `account_other_company`, `currency_not_traded`;
`journal_unbalanced`; then the company's custom validations (`validations`).

Why one module of about 440 lines: the checks run in the order above, which is part of the
API (a caller reads the first problem first), and the amounts they work out feed each other
(the nets make the tax, the tax the totals); split, the order would live in two places.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Context, Decimal, localcontext
from typing import Any, Generic, TypeVar, cast, overload

from background_posting.domain.company import Account, Company, Period
from background_posting.domain.documents import (
    PAYABLE_TYPES,
    SALES_TYPES,
    Document,
    DocumentLine,
    JournalLine,
)
from background_posting.domain.documents import type_name as document_type_name
from background_posting.domain.errors import ValidationFailed
from background_posting.domain.money import Rate, minor_units, round_money
from background_posting.domain.tax import tax_override as line_taxes
from background_posting.domain.validations import (
    Problem,
    line_place,
    money_text,
    problem,
)

EXACT = Context(prec=100)
"""Sums and products are exact in this context before the single rounding each amount gets."""
HUNDRED = Decimal(100)
_KIND_FOR = {t: "customer" for t in SALES_TYPES} | {t: "vendor" for t in PAYABLE_TYPES}


T = TypeVar("T")


class PerLine(Sequence[T], Generic[T]):
    """`of(line)` for each document line, worked out whenever it is read: what a posting
    works out per line is never held for all of a large document's lines at once."""

    __slots__ = ("_lines", "_of")
    _lines: Sequence[Any]
    _of: Callable[[Any], T]

    def __init__(self, lines: Sequence[Any], of: Callable[[Any], T]) -> None:
        self._lines = lines
        self._of = of

    def __len__(self) -> int:
        return len(self._lines)

    def __iter__(self) -> Iterator[T]:
        of = self._of
        return (of(line) for line in self._lines)

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> list[T]: ...

    def __getitem__(self, index: int | slice) -> T | list[T]:
        if isinstance(index, slice):
            return [self._of(line) for line in self._lines[index]]
        return self._of(self._lines[index])


def line_net(line: DocumentLine, currency: str) -> Decimal:
    """A trading line's net: round(quantity x unit price), the product exact."""
    with localcontext(EXACT):
        return round_money(line.quantity * line.unit_price, currency)


@dataclass(slots=True)
class Analysis:
    """Document-currency amounts worked out while validating; per document line, lazily."""

    values: Sequence[Decimal]
    gl_accounts: Sequence[str]
    taxes: dict[str | None, Decimal]
    net: Decimal
    tax: Decimal
    gross: Decimal


@dataclass(frozen=True, slots=True)
class DocumentTotals:
    """What a document adds up to, in document currency, whether or not it can post now:
    net, tax per tax code (`None`: lines without a code), tax and gross. `tax_known` is False
    for an AvaTax document whose tax has not been calculated yet (its tax shows as 0 then)."""

    currency: str
    net: Decimal
    taxes: dict[str | None, Decimal]
    tax: Decimal
    gross: Decimal
    tax_known: bool = True


def document_totals(document: Document, company: Company) -> DocumentTotals:
    """The totals a printout, an e-mail or a preview shows: the same sums posting makes, with
    any problem (closed period, unknown tax code...) left to `build_transaction` to report.
    An unknown tax code counts no tax; an AvaTax document counts the tax AvaTax calculated
    (none yet: `tax_known` False)."""
    problems: list[Problem] = []
    tax_known = True
    try:
        tax_override = line_taxes(document)
    except ValidationFailed:  # AvaTax has not calculated it yet
        tax_override, tax_known = {}, False
    with localcontext(EXACT):
        if document.type == "journal":
            analysis = journal_analysis(document, company, {}, problems)
        else:
            analysis = trading_analysis(document, company, tax_override, problems)
    return DocumentTotals(
        currency=document.currency,
        net=analysis.net,
        taxes={code: amount for code, amount in analysis.taxes.items()},
        tax=analysis.tax,
        gross=analysis.gross,
        tax_known=tax_known,
    )


def failure(number: str, problems: list[Problem]) -> ValidationFailed:
    count = len(problems)
    stop = "problem stops" if count == 1 else "problems stop"
    return ValidationFailed(
        f"{count} {stop} {number} from posting: {problems[0]['message']}",
        code="posting_validation_failed",
        details={"errors": problems},
    )


def check_period(document: Document, company: Company, problems: list[Problem]) -> Period | None:
    day = document.document_date.isoformat()
    period = company.period_for(document.document_date)
    if period is None:
        problems.append(
            problem(
                "period_missing",
                f"{document.number} is dated {day}, which falls in no accounting period of "
                f"company {company.id}: change the document date, or set up the period in the "
                "company's settings.",
                "document_date",
            )
        )
    elif period.status == "closed":
        problems.append(
            problem(
                "period_closed",
                f"{document.number} is dated {day}, in period {period.name}, which is closed: "
                "date it in an open period, or ask for the period to be reopened.",
                "document_date",
            )
        )
    return period


def check_account(
    document: Document,
    company: Company,
    accounts: Mapping[str, Account],
    problems: list[Problem],
) -> Account | None:
    """The document's own account when it exists; problems for everything wrong with it."""
    number, kind = document.number, _KIND_FOR.get(document.type)
    if document.account is None:
        if kind is not None:
            type_name = document_type_name(document.type).lower()
            problems.append(
                problem(
                    "account_missing",
                    f"{number} has no account: a {type_name} needs a {kind}.",
                    "account",
                )
            )
        return None
    account = accounts.get(document.account)
    if account is None:
        problems.append(
            problem(
                "account_missing",
                f"{number} names account {document.account}, which does not exist.",
                "account",
            )
        )
        return None
    if account.company != company.id:
        problems.append(
            problem(
                "account_other_company",
                f"{number} belongs to company {company.id}, but account {account.id} belongs "
                f"to company {account.company}.",
                "account",
            )
        )
    if kind is None:
        return account
    if account.kind != kind:
        type_name = document_type_name(document.type).lower()
        problems.append(
            problem(
                "account_wrong_kind",
                f"{number} is a {type_name}, but account {account.id} is a {account.kind}, "
                f"not a {kind}.",
                "account",
            )
        )
    if document.currency not in account.trading_currencies:
        problems.append(
            problem(
                "currency_not_traded",
                f"{number} is in {document.currency}, but account {account.id} trades only in "
                f"{', '.join(account.trading_currencies)}.",
                "currency",
            )
        )
    return account


def exchange_rate(
    document: Document,
    company: Company,
    from_currency: str,
    to_currency: str,
    problems: list[Problem],
) -> Rate | None:
    rate = company.rate(from_currency, to_currency, on=document.document_date)
    if rate is None:
        problems.append(
            problem(
                "rate_missing",
                f"{document.number} cannot be converted from {from_currency} to {to_currency}: "
                f"company {company.id} has no exchange rate for them on or before "
                f"{document.document_date.isoformat()}.",
                "currency",
            )
        )
    return rate


def account_rate(
    document: Document,
    company: Company,
    account: Account,
    rate_home: Rate | None,
    problems: list[Problem],
) -> Rate | None:
    """Document currency -> account currency: a direct rate, else through home currency."""
    target, on = account.account_currency, document.document_date
    direct = company.rate(document.currency, target, on=on)
    if direct is not None:
        return direct
    onward = company.rate(company.home_currency, target, on=on)
    if rate_home is not None and onward is not None:
        return rate_home.then(onward)
    if target == company.home_currency:
        return None  # the same missing rate as document -> home, reported once already
    problems.append(
        problem(
            "rate_missing",
            f"The settlement discount of {document.number} cannot be converted from "
            f"{document.currency} to {target}, the currency of account {account.id}: company "
            f"{company.id} has no exchange rate for them on or before {on.isoformat()}, "
            f"directly or through {company.home_currency}.",
            "account",
        )
    )
    return None


def trading_analysis(
    document: Document,
    company: Company,
    tax_override: Mapping[int, Decimal] | None,
    problems: list[Problem],
) -> Analysis:
    currency, number = document.currency, document.number
    lines = cast(list[DocumentLine], document.lines)
    gl = company.gl_accounts
    default_gl = gl.revenue if document.type in SALES_TYPES else gl.expense
    deferred = gl.deferred_income if document.type == "sales_invoice" else None
    rates = {t.code: t.rate for t in company.tax_codes}
    builtin = tax_override is None
    if tax_override is not None and any(not 0 <= i < len(lines) for i in tax_override):
        raise ValueError(f"tax_override names lines that {number} does not have")

    def gl_account(line: DocumentLine) -> str:
        if deferred is not None and line.income_schedule is not None:
            return deferred
        return line.gl_account or default_gl

    taxable: dict[str | None, Decimal] = {}
    net_total = Decimal(0)
    for index, line in enumerate(lines):
        net = round_money(line.quantity * line.unit_price, currency)
        net_total += net
        code = line.tax_code
        if builtin:
            if code is None:
                continue
            if code not in rates:
                problems.append(
                    problem(
                        "tax_code_unknown",
                        f"{line_place(number, index)} uses tax code {code}, which company "
                        f"{company.id} does not have.",
                        f"lines[{index}].tax_code",
                    )
                )
                continue
            taxable[code] = taxable.get(code, Decimal(0)) + net
        else:
            assert tax_override is not None
            line_tax = tax_override.get(index)
            if line_tax is not None or code is not None:
                taxable[code] = taxable.get(code, Decimal(0)) + (line_tax or Decimal(0))

    if builtin:
        taxes = {
            code: round_money(base * rates[cast(str, code)] / HUNDRED, currency)
            for code, base in taxable.items()
        }
    else:
        taxes = {code: round_money(tax, currency) for code, tax in taxable.items()}
    tax_total = round_money(sum(taxes.values(), Decimal(0)), currency)
    net_total = round_money(net_total, currency)
    return Analysis(
        values=PerLine(lines, lambda line: line_net(line, currency)),
        gl_accounts=PerLine(lines, gl_account),
        taxes=taxes,
        net=net_total,
        tax=tax_total,
        gross=net_total + tax_total,
    )


def journal_analysis(
    document: Document,
    company: Company,
    accounts: Mapping[str, Account],
    problems: list[Problem],
) -> Analysis:
    currency, number = document.currency, document.number
    places = minor_units(currency)
    lines = cast(list[JournalLine], document.lines)
    total = Decimal(0)
    debits = Decimal(0)
    for index, line in enumerate(lines):
        value = line.value
        total += value
        if value > 0:
            debits += value
        rounded = round_money(value, currency)
        if rounded != value:
            problems.append(
                problem(
                    "amount_precision",
                    f"{line_place(number, index)} has the value {value:f}, but {currency} "
                    f"allows {places} decimal place{'' if places == 1 else 's'}.",
                    f"lines[{index}].value",
                )
            )
        if line.account is not None:
            check_line_account(document, company, accounts, index, line.account, problems)
    if total != 0:
        problems.append(
            problem(
                "journal_unbalanced",
                f"{number} does not balance: its lines add up to "
                f"{money_text(total, currency)} instead of zero.",
                "lines",
            )
        )
    debits = round_money(debits, currency)
    return Analysis(
        values=PerLine(lines, lambda line: round_money(line.value, currency)),
        gl_accounts=PerLine(lines, lambda line: line.gl_account),
        taxes={},
        net=debits,
        tax=round_money(Decimal(0), currency),
        gross=debits,
    )


def check_line_account(
    document: Document,
    company: Company,
    accounts: Mapping[str, Account],
    index: int,
    account_id: str,
    problems: list[Problem],
) -> None:
    place, field = line_place(document.number, index), f"lines[{index}].account"
    account = accounts.get(account_id)
    if account is None:
        problems.append(
            problem(
                "account_missing",
                f"{place} names account {account_id}, which does not exist.",
                field,
            )
        )
        return
    if account.company != company.id:
        problems.append(
            problem(
                "account_other_company",
                f"{place} names account {account_id}, which belongs to company "
                f"{account.company}, not {company.id}.",
                field,
            )
        )
    if document.currency not in account.trading_currencies:
        problems.append(
            problem(
                "currency_not_traded",
                f"{place} names account {account_id}, which trades only in "
                f"{', '.join(account.trading_currencies)}, not {document.currency}.",
                field,
            )
        )
