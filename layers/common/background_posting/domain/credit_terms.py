"""Credit terms: the due date and the settlement discounts a posted document offers.

Which terms apply (`terms_for`):
- sales documents use the customer's own terms when it has them, else the company's;
- payable documents use the vendor's own terms when it has them, else the company's default
  payment terms for vendors (`vendor_credit_terms`, 30 days net unless set), so every
  payable document has a due date;
- journals have no terms.

What the terms give (`settlement_discount`), from the document date and gross amount:
- the due date: document date + `days_due`;
- one tier per discount of the terms, in the terms' order (increasing days, so increasing
  dates): pay by document date + `days`, take `percent` off the gross;
- each tier's amount in document currency is `round(gross x percent / 100)`; in account
  currency it is `round(gross_in_account_currency x percent / 100)`, where
  `gross_in_account_currency = round(gross x rate)`: the percentage of the amount the
  account sees on its statement, not a conversion of the rounded document amount. Rounding
  is `money.round_money` (half away from zero, to each currency's minor units).

Signs: amounts carry the sign of the gross they are given. The ledger passes an invoice's
gross as it stands and a credit note's gross negated, so a credit note's discounts are
negative: they take back discount the account would otherwise take on its invoices. Because
rounding is half away from zero, a credit note's amounts are exactly the negation of those
of an invoice for the same gross.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from background_posting.domain.company import Account, Company, CreditTerms
from background_posting.domain.documents import PAYABLE_TYPES, SALES_TYPES
from background_posting.domain.money import Rate, round_money

_HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class DiscountTier:
    """Pay by `date` (document date + `days`) and take `percent`: the amounts to take off."""

    date: date
    days: int
    percent: Decimal
    document_amount: Decimal
    account_amount: Decimal

    def as_json(self) -> dict[str, Any]:
        return {
            "date": self.date.isoformat(),
            "days": self.days,
            "percent": format(self.percent, "f"),
            "document_amount": format(self.document_amount, "f"),
            "account_amount": format(self.account_amount, "f"),
        }


@dataclass(frozen=True, slots=True)
class SettlementDiscount:
    """The due date and discount tiers stored on a transaction, for cash matching and print."""

    due_date: date
    account_currency: str
    tiers: tuple[DiscountTier, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "due_date": self.due_date.isoformat(),
            "account_currency": self.account_currency,
            "tiers": [tier.as_json() for tier in self.tiers],
        }


def terms_for(document_type: str, company: Company, account: Account | None) -> CreditTerms | None:
    """The credit terms a document of `document_type` for `account` uses, or None."""
    own = account.credit_terms if account is not None else None
    if document_type in SALES_TYPES:
        return own if own is not None else company.credit_terms
    if document_type in PAYABLE_TYPES:
        return own if own is not None else company.vendor_credit_terms
    return None


def settlement_discount(
    *,
    document_date: date,
    gross: Decimal,
    document_currency: str,
    terms: CreditTerms,
    account_currency: str,
    rate: Rate,
) -> SettlementDiscount:
    """Due date and discount tiers for a document of `gross` (document currency, signed).

    `rate` converts one unit of document currency into account currency (1 when they match).
    """
    gross = round_money(gross, document_currency)
    gross_account = round_money(rate.apply(gross), account_currency)
    tiers = tuple(
        DiscountTier(
            date=document_date + timedelta(days=tier.days),
            days=tier.days,
            percent=tier.percent,
            document_amount=round_money(gross * tier.percent / _HUNDRED, document_currency),
            account_amount=round_money(gross_account * tier.percent / _HUNDRED, account_currency),
        )
        for tier in terms.discounts
    )
    return SettlementDiscount(
        due_date=document_date + timedelta(days=terms.days_due),
        account_currency=account_currency,
        tiers=tiers,
    )
