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
with the rates in force on the document date (a document with `posting_rates`, a reversal,
uses those instead: its original's). Rounding line by line can leave the home or
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

The checks and the document-currency amounts come first, from `domain.posting_checks`; a
document with any problem gets no draft.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext
from functools import partial
from itertools import islice
from typing import Literal, cast, overload

from background_posting.domain.company import Account, Company
from background_posting.domain.credit_terms import (
    SettlementDiscount,
    settlement_discount,
    terms_for,
)
from background_posting.domain.documents import (
    SALES_TYPES,
    Document,
    DocumentLine,
    DocumentType,
    JournalLine,
)
from background_posting.domain.money import Rate, round_money
from background_posting.domain.posting_checks import (
    EXACT,
    Analysis,
    account_rate,
    check_account,
    check_period,
    exchange_rate,
    failure,
    journal_analysis,
    trading_analysis,
)
from background_posting.domain.settings import CompanySettings
from background_posting.domain.validations import (
    DocumentFacts,
    Problem,
    check_custom_validations,
    problem,
)

LineKind = Literal["control", "analysis", "tax", "rounding"]


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
    lines: TransactionLines
    control_value: Decimal | None
    """The control line's document value (signed, debit positive); None for a journal."""
    discount: SettlementDiscount | None
    totals: dict[str, Decimal]
    """`net`, `tax`, `gross` in document currency, as the document shows them (a journal:
    its total debits as net and gross, no tax)."""


_CONTROL_DEBIT = frozenset({"sales_invoice", "payable_credit_note"})
"""Types whose control line is a debit (+gross); the other trading types credit it."""
_CREDIT_SIGN = frozenset({"sales_credit_note", "payable_credit_note"})
"""Credit notes: their settlement discount amounts are negative (see credit_terms)."""


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
    period = check_period(document, company, problems)
    account = check_account(document, company, accounts, problems)
    fixed = document.posting_rates  # a reversal posts at its original's rates
    rate_home: Rate | None
    rate_dual: Rate | None
    if fixed is not None:
        rate_home, rate_dual = Rate(*fixed.document_to_home), Rate(*fixed.home_to_dual)
    else:
        rate_home = exchange_rate(
            document, company, document.currency, company.home_currency, problems
        )
        rate_dual = exchange_rate(
            document, company, company.home_currency, company.dual_currency, problems
        )
    terms = terms_for(document.type, company, account)
    rate_account = None
    if terms is not None and account is not None:
        rate_account = account_rate(document, company, account, rate_home, problems)

    with localcontext(EXACT):
        if document.type == "journal":
            analysis = journal_analysis(document, company, accounts, problems)
        else:
            analysis = trading_analysis(document, company, tax_override, problems)
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
            raise failure(number, problems)
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
        conversion = _Conversion(
            company.home_currency,
            company.dual_currency,
            rate_home,
            rate_dual,
            round_money(Decimal(0), document.currency),
        )
        if document.type == "journal":
            journal_lines = cast(list[JournalLine], document.lines)
            rows: Callable[[], Iterator[Row]] = partial(_journal_rows, journal_lines, analysis)
            control_value = None
        else:
            assert account is not None
            trading = account
            rows = partial(_trading_rows, document, company, trading, analysis)
            control_value = analysis.gross if document.type in _CONTROL_DEBIT else -analysis.gross
        lines = TransactionLines(rows, conversion, company.gl_accounts.currency_rounding)

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
        lines=lines,
        control_value=control_value,
        discount=discount,
        totals={"net": analysis.net, "tax": analysis.tax, "gross": analysis.gross},
    )


# -- building the lines --------------------------------------------------------------------

Row = tuple[LineKind, str, str | None, str, Decimal, int | None, str | None]
"""A line before conversion: kind, GL account, account, description, document value, the
document line it comes from, tax code."""


@dataclass(frozen=True, slots=True)
class _Conversion:
    """Converts a document-currency value into home and dual currency (module docstring)."""

    home_currency: str
    dual_currency: str
    rate_home: Rate
    rate_dual: Rate
    document_zero: Decimal

    def line(self, row: Row) -> TransactionLine:
        kind, gl_account, account, description, value, source_line, tax_code = row
        if not value:
            value = self.document_zero  # never a negative zero
        with localcontext(EXACT):
            home = round_money(self.rate_home.apply(value), self.home_currency)
            dual = round_money(self.rate_dual.apply(home), self.dual_currency)
        return TransactionLine(
            kind,
            gl_account,
            account,
            description,
            value,
            home if home else abs(home),
            dual if dual else abs(dual),
            source_line,
            tax_code,
        )

    def rounding(self, home_sum: Decimal, dual_sum: Decimal, gl_account: str) -> TransactionLine:
        """The one line that cancels the home and dual residue (module docstring)."""
        home = round_money(-home_sum, self.home_currency)
        dual = round_money(-dual_sum, self.dual_currency)
        return TransactionLine(
            "rounding",
            gl_account,
            None,
            "Currency rounding",
            self.document_zero,
            home if home else abs(home),
            dual if dual else abs(dual),
            None,
            None,
        )


class TransactionLines(Sequence[TransactionLine]):
    """A transaction's lines, made from the document one at a time whenever they are read.

    A 100,000-line posting never holds its lines: the store serialises each chunk as it is
    made. The rounding line comes last, once the home and dual sums are known; how many lines
    there are is known once they have been read through (`len` reads them if need be).
    """

    __slots__ = ("_conversion", "_count", "_rounding_gl", "_rows")

    def __init__(
        self, rows: Callable[[], Iterator[Row]], conversion: _Conversion, rounding_gl: str
    ) -> None:
        self._rows = rows
        self._conversion = conversion
        self._rounding_gl = rounding_gl
        self._count: int | None = None

    def __iter__(self) -> Iterator[TransactionLine]:
        convert = self._conversion.line
        home_sum = dual_sum = Decimal(0)
        count = 0
        for row in self._rows():
            line = convert(row)
            home_sum = EXACT.add(home_sum, line.home_value)
            dual_sum = EXACT.add(dual_sum, line.dual_value)
            count += 1
            yield line
        if home_sum or dual_sum:
            count += 1
            yield self._conversion.rounding(home_sum, dual_sum, self._rounding_gl)
        self._count = count

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]

    def __len__(self) -> int:
        if self._count is None:
            for _line in self:
                pass
        assert self._count is not None
        return self._count

    @overload
    def __getitem__(self, index: int) -> TransactionLine: ...

    @overload
    def __getitem__(self, index: slice) -> list[TransactionLine]: ...

    def __getitem__(self, index: int | slice) -> TransactionLine | list[TransactionLine]:
        if isinstance(index, slice):
            return list(self)[index]
        position = index + len(self) if index < 0 else index
        found = next(islice(self, position, None), None) if position >= 0 else None
        if found is None:
            raise IndexError("transaction line index out of range")
        return found


def _trading_rows(
    document: Document, company: Company, account: Account, analysis: Analysis
) -> Iterator[Row]:
    gl = company.gl_accounts
    sales = document.type in SALES_TYPES
    sign = 1 if document.type in _CONTROL_DEBIT else -1
    control_gl = gl.receivable_control if sales else gl.payable_control
    tax_gl = gl.sales_tax if sales else gl.purchase_tax
    yield (
        "control",
        control_gl,
        account.id,
        document.description or account.name,
        sign * analysis.gross,
        None,
        None,
    )
    document_lines = cast(list[DocumentLine], document.lines)
    for index, (line, value, gl_account) in enumerate(
        zip(document_lines, analysis.values, analysis.gl_accounts, strict=True)
    ):
        yield (
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
        yield "tax", tax_gl, None, description, -sign * tax, None, code


def _journal_rows(journal_lines: Sequence[JournalLine], analysis: Analysis) -> Iterator[Row]:
    for index, (line, value) in enumerate(zip(journal_lines, analysis.values, strict=True)):
        yield "analysis", line.gl_account, line.account, line.description, value, index, None
