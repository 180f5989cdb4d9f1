"""Companies and accounts: the reference data every posting reads."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any, Literal

from pydantic import (
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from background_posting.domain import qr_bill
from background_posting.domain.bank_account import Iban, QrIban
from background_posting.domain.model import LazyModel
from background_posting.domain.money import Rate
from background_posting.domain.types import (
    BookDate,
    Currency,
    GLAccountCode,
    Identifier,
    Percent,
    RateValue,
    TimeZoneName,
    is_entered,
)


class Strict(LazyModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


PeriodStatus = Literal["open", "closed"]


class Period(Strict):
    name: str = Field(min_length=1, max_length=40)
    start: BookDate
    end: BookDate
    status: PeriodStatus = "open"

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.end < self.start:
            raise ValueError(f"period {self.name!r} ends before it starts")
        return self


class ExchangeRate(Strict):
    """One unit of `from_currency` is worth `rate` units of `to_currency` from `date` on."""

    from_currency: Currency
    to_currency: Currency
    date: BookDate
    rate: RateValue


def _one_rate_per_pair_and_date(
    rates: list[ExchangeRate] | None, info: ValidationInfo
) -> list[ExchangeRate] | None:
    """Two rates for one pair on one date would leave which one applies to chance."""
    if not is_entered(info):
        return rates
    seen: dict[tuple[str, str, date], int] = {}
    for index, r in enumerate(rates or []):
        key = (r.from_currency, r.to_currency, r.date)
        if key in seen:
            raise ValueError(
                f"exchange_rates[{index}] repeats the rate of {r.from_currency} to "
                f"{r.to_currency} on {r.date.isoformat()} (exchange_rates[{seen[key]}]): keep "
                "one rate per pair and date"
            )
        seen[key] = index
    return rates


class DiscountTier(Strict):
    days: int = Field(ge=0, le=3650)
    percent: Percent


class CreditTerms(Strict):
    days_due: int = Field(default=30, ge=0, le=3650)
    discounts: list[DiscountTier] = Field(default_factory=list, max_length=10)

    @model_validator(mode="after")
    def _tiers_ordered(self, info: ValidationInfo) -> CreditTerms:
        days = [t.days for t in self.discounts]
        if days != sorted(set(days)):
            raise ValueError("discount tiers must have distinct days, in increasing order")
        late = [d for d in days if d > self.days_due]
        if late and is_entered(info):
            raise ValueError(
                f"a discount for paying within {late[0]} days ends after the due date "
                f"({self.days_due} days): give each discount at most days_due days"
            )
        return self


class GLAccounts(Strict):
    receivable_control: GLAccountCode
    payable_control: GLAccountCode
    sales_tax: GLAccountCode
    purchase_tax: GLAccountCode
    revenue: GLAccountCode
    expense: GLAccountCode
    deferred_income: GLAccountCode
    currency_rounding: GLAccountCode
    small_differences: GLAccountCode


class Address(Strict):
    """A postal address: where goods ship from or to, which decides an external tax provider's
    jurisdictions (AvaTax)."""

    line1: str = Field(min_length=1, max_length=100)
    line2: str | None = Field(default=None, max_length=100)
    city: str = Field(default="", max_length=50)
    region: str = Field(default="", max_length=50, description="State, province or county")
    postal_code: str = Field(default="", max_length=20)
    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166 country code, e.g. GB")


class TaxCode(Strict):
    code: str = Field(min_length=1, max_length=20)
    rate: Percent
    description: str = Field(default="", description="Up to 200 characters entered")


MAX_EXCHANGE_RATES = 2000
"""Exchange rates a company may be given (create, or a PATCH of its rates)."""
MAX_TAX_CODE_DESCRIPTION = 200


class Company(Strict):
    id: Identifier
    name: str = Field(min_length=1, max_length=200)
    home_currency: Currency
    dual_currency: Currency
    timezone: TimeZoneName
    periods: list[Period] = Field(default_factory=list, max_length=600)
    exchange_rates: list[ExchangeRate] = Field(
        default_factory=list,
        max_length=5000,
        description=f"At most {MAX_EXCHANGE_RATES:,} entered (services/reference_data.py), "
        "so that a company at every maximum fits its one stored item (400 KB); a company "
        "stored with more by an earlier version is still read",
    )
    gl_accounts: GLAccounts
    credit_terms: CreditTerms = Field(
        default_factory=CreditTerms,
        description="Default credit terms for customers without their own",
    )
    vendor_credit_terms: CreditTerms = Field(
        default_factory=CreditTerms,
        description="Default payment terms for vendors without their own (30 days net unless "
        "set): they give a payable document its due date and discounts",
    )
    tax_codes: list[TaxCode] = Field(default_factory=list, max_length=200)
    address: Address | None = None
    iban: Iban | None = None
    qr_iban: QrIban | None = None

    _rates_unique = field_validator("exchange_rates")(_one_rate_per_pair_and_date)

    @model_validator(mode="after")
    def _consistent(self) -> Company:
        names = [p.name for p in self.periods]
        if len(names) != len(set(names)):
            raise ValueError("period names must be unique")
        ordered = sorted(self.periods, key=lambda p: p.start)
        for before, after in itertools.pairwise(ordered):
            if after.start <= before.end:
                raise ValueError(f"periods {before.name!r} and {after.name!r} overlap")
        codes = [t.code for t in self.tax_codes]
        if len(codes) != len(set(codes)):
            raise ValueError("tax codes must be unique")
        return self

    @model_validator(mode="after")
    def _fits_its_qr_bills(self) -> Company:
        """A company in Switzerland or Liechtenstein prints QR-bills: its name, address and
        IBAN must fit one (`qr_bill.creditor_problems`), each problem named by its field."""
        problems = qr_bill.creditor_problems(self)
        if problems:
            raise ValidationError.from_exception_data(
                "Company",
                [
                    InitErrorDetails(
                        type=PydanticCustomError(
                            problem.code, "{sentence}", {"sentence": problem.message}
                        ),
                        loc=problem.field,
                        input=self._entered(problem.field),
                    )
                    for problem in problems
                ],
            )
        return self

    def _entered(self, field: tuple[str, ...]) -> Any:
        """What was entered at `field` (`("address", "city")`), as JSON."""
        value: Any = self.model_dump(mode="json", include={field[0]})
        for part in field:
            value = value.get(part) if isinstance(value, dict) else None
        return value

    def period_for(self, day: date) -> Period | None:
        return next((p for p in self.periods if p.start <= day <= p.end), None)

    def tax_code(self, code: str) -> TaxCode | None:
        return next((t for t in self.tax_codes if t.code == code), None)

    def rate(self, from_currency: str, to_currency: str, on: date) -> Rate | None:
        """The rate in force on `on`: the latest dated on or before it.

        A rate quoted the other way round is used by dividing (see `Rate`); on the same date
        a rate quoted in the asked direction wins.
        """
        if from_currency == to_currency:
            return Rate.one()
        best: tuple[date, int, Rate] | None = None
        for r in self.exchange_rates:
            if r.date > on:
                continue
            if (r.from_currency, r.to_currency) == (from_currency, to_currency):
                candidate = (r.date, 1, Rate(r.rate))
            elif (r.from_currency, r.to_currency) == (to_currency, from_currency):
                candidate = (r.date, 0, Rate(r.rate).inverted())
            else:
                continue
            if best is None or candidate[:2] >= best[:2]:
                best = candidate
        return None if best is None else best[2]


class CompanyPatch(Strict):
    """Fields a PATCH may change; `id` is fixed once created."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    home_currency: Currency | None = None
    dual_currency: Currency | None = None
    timezone: TimeZoneName | None = None
    periods: list[Period] | None = None
    exchange_rates: list[ExchangeRate] | None = None
    gl_accounts: GLAccounts | None = None
    credit_terms: CreditTerms | None = None
    vendor_credit_terms: CreditTerms | None = None
    tax_codes: list[TaxCode] | None = None
    address: Address | None = None
    iban: Iban | None = None
    qr_iban: QrIban | None = None

    _rates_unique = field_validator("exchange_rates")(_one_rate_per_pair_and_date)

    def apply_to(self, company: Company) -> Company:
        changes: dict[str, Any] = self.model_dump(exclude_unset=True)
        merged = company.model_dump() | changes
        return Company.model_validate(merged)


class Account(Strict):
    """A customer or vendor; the first trading currency is its account currency."""

    id: Identifier
    company: Identifier
    name: str = Field(min_length=1, max_length=200)
    kind: Literal["customer", "vendor"]
    trading_currencies: list[Currency] = Field(min_length=1, max_length=50)
    credit_terms: CreditTerms | None = None
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    address: Address | None = None

    @property
    def account_currency(self) -> str:
        return self.trading_currencies[0]

    @model_validator(mode="after")
    def _unique_currencies(self) -> Account:
        if len(self.trading_currencies) != len(set(self.trading_currencies)):
            raise ValueError("trading currencies must be unique")
        return self


class AccountPatch(Strict):
    """Fields a PATCH may change; `company` and `kind` only while nothing posted names it."""

    company: Identifier | None = None
    kind: Literal["customer", "vendor"] | None = None
    name: str | None = Field(default=None, min_length=1, max_length=200)
    trading_currencies: list[Currency] | None = Field(default=None, min_length=1, max_length=50)
    credit_terms: CreditTerms | None = None
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    address: Address | None = None

    def apply_to(self, account: Account) -> Account:
        merged = account.model_dump() | self.model_dump(exclude_unset=True)
        return Account.model_validate(merged)
