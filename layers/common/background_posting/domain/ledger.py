"""The transaction a posting creates: its lines in document, home and dual currency.

`build_transaction` turns a document into a `TransactionDraft`, or raises `ValidationFailed`
listing every problem it found (nothing is half-built: a draft is either whole or absent).

Lines and signs (debit positive):
- sales invoice: a control line to the receivable control account for the customer,
  +gross; one analysis line per document line, -net, to the line's GL account or the
  company's revenue account (deferred income when the line has an income schedule: the
  income schedule journals later move it to the line's account); one tax line per tax code,
  -tax, to sales tax;
- payable invoice: control -gross to payable control for the vendor; analysis +net to the
  line's GL account or expense; tax lines +tax to purchase tax;
- credit notes: every sign of the matching invoice reversed, amount for amount;
- journal: one analysis line per journal line, with its own value, GL account and account.

Amounts in document currency: a line's net is round(quantity x unit price); built-in tax
per tax code is round(sum of that code's line nets x rate / 100); a line without a tax code
has no tax. An external provider's tax (`tax_override`, by line index) is summed per tax
code and rounded. Gross = sum of nets + sum of taxes, so the document-currency lines sum to
zero by construction (a journal must balance to post).

Home and dual currency: each line converts on its own,
`home = round(document x rate(document -> home))`, `dual = round(home x rate(home -> dual))`,
with the rates in force on the document date. Rounding line by line can leave the home or
dual column a few minor units away from zero. The residue rule: when it does, ONE extra
line of kind `rounding` goes to the company's currency rounding GL account with document
value 0 and home and dual values equal to minus each column's residue, so every column sums
to exactly zero. That line is the one exception to `dual = round(home x rate)`: it carries
the dual residue, not a conversion. No residue, no rounding line.

Arithmetic runs in a 100-digit decimal context, so sums and products are exact before the
single rounding each amount gets (`money.round_money`, half away from zero).

The settlement discount (sales and payable documents, see `credit_terms`) is worked out from
the gross in document currency, converted to the account's currency at the document
currency's rate to it: direct, or through home currency.

Problems (codes of `ValidationFailed.details["errors"]`, in this order): `no_lines`,
`period_missing`, `period_closed`; for the document's account `account_missing`,
`account_other_company`, `account_wrong_kind` (a customer for sales, a vendor for payables),
`currency_not_traded` (a journal's own account is checked for existence and company only);
`rate_missing` (document -> home, home -> dual, and into the account currency for the
discount); line by line `tax_code_unknown` (built-in tax only), and for journals
`amount_precision`, `account_missing`, `account_other_company`, `currency_not_traded`;
`journal_unbalanced`; then the company's custom validations (`validations`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Context, Decimal, localcontext
from typing import Literal, cast

from background_posting.domain.company import Account, Company, Period
from background_posting.domain.credit_terms import (
    SettlementDiscount,
    settlement_discount,
    terms_for,
)
from background_posting.domain.documents import (
    PAYABLE_TYPES,
    SALES_TYPES,
    Document,
    DocumentLine,
    DocumentType,
    JournalLine,
)
from background_posting.domain.errors import ValidationFailed
from background_posting.domain.money import Rate, minor_units, round_money
from background_posting.domain.settings import CompanySettings
from background_posting.domain.tax import tax_override as line_taxes
from background_posting.domain.validations import (
    DOCUMENT_TYPE_NAMES,
    DocumentFacts,
    Problem,
    check_custom_validations,
    line_place,
    money_text,
    problem,
)

LineKind = Literal["control", "analysis", "tax", "rounding"]

_EXACT = Context(prec=100)
_HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class TransactionLine:
    """One line of a transaction; values signed, debit positive."""

    kind: LineKind
    gl_account: str
    account: str | None
    description: str
    document_value: Decimal
    home_value: Decimal
    dual_value: Decimal
    source_line: int | None
    tax_code: str | None


@dataclass(frozen=True, slots=True)
class TransactionDraft:
    """The transaction posting a document creates, before it is given a number."""

    company: str
    document_id: str
    document_number: str
    document_type: DocumentType
    period: str
    document_date: date
    currency: str
    home_currency: str
    dual_currency: str
    rate_document_to_home: Rate
    rate_home_to_dual: Rate
    lines: list[TransactionLine]
    discount: SettlementDiscount | None
    totals: dict[str, Decimal]
    """`net`, `tax`, `gross` in document currency, as the document shows them (a journal:
    its total debits as net and gross, no tax)."""


@dataclass(slots=True)
class _Analysis:
    """Document-currency amounts worked out while validating: one entry per document line."""

    values: list[Decimal]
    gl_accounts: list[str]
    taxes: dict[str | None, Decimal]
    net: Decimal
    tax: Decimal
    gross: Decimal


def build_transaction(
    document: Document,
    company: Company,
    accounts: Mapping[str, Account],
    settings: CompanySettings,
    tax_override: Mapping[int, Decimal] | None = None,
) -> TransactionDraft:
    """The transaction that posting `document` creates; ValidationFailed lists every problem.

    `accounts` holds the document's account and its journal lines' accounts by id (an id
    absent from it does not exist). `tax_override` gives the tax of each document line by
    index, from an external provider; without it the company's tax codes apply.
    """
    if document.company != company.id:
        raise ValueError(f"{document.number} belongs to {document.company}, not {company.id}")
    number = document.number
    problems: list[Problem] = []
    if not document.lines:
        problems.append(
            problem("no_lines", f"{number} has no lines: add at least one to post it.", "lines")
        )
    period = _check_period(document, company, problems)
    account = _check_account(document, company, accounts, problems)
    rate_home = _rate(document, company, document.currency, company.home_currency, problems)
    rate_dual = _rate(document, company, company.home_currency, company.dual_currency, problems)
    terms = terms_for(document.type, company, account)
    rate_account = None
    if terms is not None and account is not None:
        rate_account = _account_rate(document, company, account, rate_home, problems)

    with localcontext(_EXACT):
        if document.type == "journal":
            analysis = _journal_analysis(document, company, accounts, problems)
        else:
            analysis = _trading_analysis(document, company, tax_override, problems)
        home_total = (
            None
            if rate_home is None
            else round_money(rate_home.apply(analysis.gross), company.home_currency)
        )
        facts = DocumentFacts(
            number=number,
            type=document.type,
            currency=document.currency,
            home_currency=company.home_currency,
            reference=document.reference,
            description=document.description,
            account=document.account,
            lines=document.lines,
            line_values=analysis.values,
            line_gl_accounts=analysis.gl_accounts,
            home_total=home_total,
        )
        problems.extend(check_custom_validations(settings.custom_validations, facts))
        if problems:
            raise _failure(number, problems)
        assert period is not None and rate_home is not None and rate_dual is not None

        discount = None
        if terms is not None and account is not None and rate_account is not None:
            signed_gross = -analysis.gross if document.type in _CREDIT_SIGN else analysis.gross
            discount = settlement_discount(
                document_date=document.document_date,
                gross=signed_gross,
                document_currency=document.currency,
                terms=terms,
                account_currency=account.account_currency,
                rate=rate_account,
            )
        lines = _Lines(company, document.currency, rate_home, rate_dual)
        if document.type == "journal":
            _post_journal(lines, cast(list[JournalLine], document.lines), analysis)
        else:
            _post_trading(lines, document, company, account, analysis)
        lines.close(company.gl_accounts.currency_rounding)

    return TransactionDraft(
        company=company.id,
        document_id=document.id,
        document_number=number,
        document_type=document.type,
        period=period.name,
        document_date=document.document_date,
        currency=document.currency,
        home_currency=company.home_currency,
        dual_currency=company.dual_currency,
        rate_document_to_home=rate_home,
        rate_home_to_dual=rate_dual,
        lines=lines.lines,
        discount=discount,
        totals={"net": analysis.net, "tax": analysis.tax, "gross": analysis.gross},
    )


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
    with localcontext(_EXACT):
        if document.type == "journal":
            analysis = _journal_analysis(document, company, {}, problems)
        else:
            analysis = _trading_analysis(document, company, tax_override, problems)
    return DocumentTotals(
        currency=document.currency,
        net=analysis.net,
        taxes={code: amount for code, amount in analysis.taxes.items()},
        tax=analysis.tax,
        gross=analysis.gross,
        tax_known=tax_known,
    )


# -- validation ----------------------------------------------------------------------------

_CONTROL_DEBIT = frozenset({"sales_invoice", "payable_credit_note"})
"""Types whose control line is a debit (+gross); the other trading types credit it."""
_CREDIT_SIGN = frozenset({"sales_credit_note", "payable_credit_note"})
"""Credit notes: their settlement discount amounts are negative (see credit_terms)."""
_KIND_FOR = {t: "customer" for t in SALES_TYPES} | {t: "vendor" for t in PAYABLE_TYPES}


def _failure(number: str, problems: list[Problem]) -> ValidationFailed:
    count = len(problems)
    stop = "problem stops" if count == 1 else "problems stop"
    return ValidationFailed(
        f"{count} {stop} {number} from posting: {problems[0]['message']}",
        code="posting_validation_failed",
        details={"errors": problems},
    )


def _check_period(document: Document, company: Company, problems: list[Problem]) -> Period | None:
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


def _check_account(
    document: Document,
    company: Company,
    accounts: Mapping[str, Account],
    problems: list[Problem],
) -> Account | None:
    """The document's own account when it exists; problems for everything wrong with it."""
    number, kind = document.number, _KIND_FOR.get(document.type)
    if document.account is None:
        if kind is not None:
            type_name = DOCUMENT_TYPE_NAMES[document.type]
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
        type_name = DOCUMENT_TYPE_NAMES[document.type]
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


def _rate(
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


def _account_rate(
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


def _trading_analysis(
    document: Document,
    company: Company,
    tax_override: Mapping[int, Decimal] | None,
    problems: list[Problem],
) -> _Analysis:
    currency, number = document.currency, document.number
    lines = cast(list[DocumentLine], document.lines)
    gl = company.gl_accounts
    default_gl = gl.revenue if document.type in SALES_TYPES else gl.expense
    deferred = gl.deferred_income if document.type == "sales_invoice" else None
    rates = {t.code: t.rate for t in company.tax_codes}
    builtin = tax_override is None
    if tax_override is not None and any(not 0 <= i < len(lines) for i in tax_override):
        raise ValueError(f"tax_override names lines that {number} does not have")

    values: list[Decimal] = []
    gl_accounts: list[str] = []
    taxable: dict[str | None, Decimal] = {}
    net_total = Decimal(0)
    for index, line in enumerate(lines):
        net = round_money(line.quantity * line.unit_price, currency)
        values.append(net)
        net_total += net
        if deferred is not None and line.income_schedule is not None:
            gl_accounts.append(deferred)
        else:
            gl_accounts.append(line.gl_account or default_gl)
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
            code: round_money(base * rates[cast(str, code)] / _HUNDRED, currency)
            for code, base in taxable.items()
        }
    else:
        taxes = {code: round_money(tax, currency) for code, tax in taxable.items()}
    tax_total = round_money(sum(taxes.values(), Decimal(0)), currency)
    net_total = round_money(net_total, currency)
    return _Analysis(
        values=values,
        gl_accounts=gl_accounts,
        taxes=taxes,
        net=net_total,
        tax=tax_total,
        gross=net_total + tax_total,
    )


def _journal_analysis(
    document: Document,
    company: Company,
    accounts: Mapping[str, Account],
    problems: list[Problem],
) -> _Analysis:
    currency, number = document.currency, document.number
    places = minor_units(currency)
    lines = cast(list[JournalLine], document.lines)
    values: list[Decimal] = []
    gl_accounts: list[str] = []
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
        values.append(rounded)
        gl_accounts.append(line.gl_account)
        if line.account is not None:
            _check_line_account(document, company, accounts, index, line.account, problems)
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
    return _Analysis(
        values=values,
        gl_accounts=gl_accounts,
        taxes={},
        net=debits,
        tax=round_money(Decimal(0), currency),
        gross=debits,
    )


def _check_line_account(
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


# -- building the lines --------------------------------------------------------------------


class _Lines:
    """Collects transaction lines, converting each and keeping the home and dual sums."""

    __slots__ = (
        "document_zero",
        "dual_currency",
        "dual_sum",
        "home_currency",
        "home_sum",
        "lines",
        "rate_dual",
        "rate_home",
    )

    def __init__(self, company: Company, currency: str, rate_home: Rate, rate_dual: Rate) -> None:
        self.home_currency = company.home_currency
        self.dual_currency = company.dual_currency
        self.rate_home = rate_home
        self.rate_dual = rate_dual
        self.document_zero = round_money(Decimal(0), currency)
        self.home_sum = Decimal(0)
        self.dual_sum = Decimal(0)
        self.lines: list[TransactionLine] = []

    def add(
        self,
        kind: LineKind,
        gl_account: str,
        account: str | None,
        description: str,
        value: Decimal,
        source_line: int | None = None,
        tax_code: str | None = None,
    ) -> None:
        if not value:
            value = self.document_zero  # never a negative zero
        home = round_money(self.rate_home.apply(value), self.home_currency)
        dual = round_money(self.rate_dual.apply(home), self.dual_currency)
        if not home:
            home = abs(home)
        if not dual:
            dual = abs(dual)
        self.home_sum += home
        self.dual_sum += dual
        self.lines.append(
            TransactionLine(
                kind,
                gl_account,
                account,
                description,
                value,
                home,
                dual,
                source_line,
                tax_code,
            )
        )

    def close(self, rounding_gl_account: str) -> None:
        """Add the one rounding line that cancels any home or dual residue (module docstring)."""
        if not self.home_sum and not self.dual_sum:
            return
        home = round_money(-self.home_sum, self.home_currency)
        dual = round_money(-self.dual_sum, self.dual_currency)
        self.lines.append(
            TransactionLine(
                "rounding",
                rounding_gl_account,
                None,
                "Currency rounding",
                self.document_zero,
                home if home else abs(home),
                dual if dual else abs(dual),
                None,
                None,
            )
        )
        self.home_sum = self.dual_sum = Decimal(0)


def _post_trading(
    lines: _Lines,
    document: Document,
    company: Company,
    account: Account | None,
    analysis: _Analysis,
) -> None:
    assert account is not None
    gl = company.gl_accounts
    sales = document.type in SALES_TYPES
    sign = 1 if document.type in _CONTROL_DEBIT else -1
    control_gl = gl.receivable_control if sales else gl.payable_control
    tax_gl = gl.sales_tax if sales else gl.purchase_tax
    lines.add(
        "control",
        control_gl,
        account.id,
        document.description or account.name,
        sign * analysis.gross,
    )
    document_lines = cast(list[DocumentLine], document.lines)
    add = lines.add
    for index, (line, value, gl_account) in enumerate(
        zip(document_lines, analysis.values, analysis.gl_accounts, strict=True)
    ):
        add(
            "analysis",
            gl_account,
            None,
            line.description,
            -value if sign > 0 else value,
            index,
            line.tax_code,
        )
    descriptions = {t.code: t.description for t in company.tax_codes}
    for code, tax in analysis.taxes.items():
        description = descriptions.get(code or "") or (f"Tax {code}" if code else "Tax")
        lines.add("tax", tax_gl, None, description, -sign * tax, None, code)


def _post_journal(lines: _Lines, journal_lines: Sequence[JournalLine], analysis: _Analysis) -> None:
    add = lines.add
    for index, (line, value) in enumerate(zip(journal_lines, analysis.values, strict=True)):
        add("analysis", line.gl_account, line.account, line.description, value, index)
