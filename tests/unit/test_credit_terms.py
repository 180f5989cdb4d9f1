"""Tests of credit terms: which terms apply, due dates and settlement discounts."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from background_posting.domain.company import Account, Company, CreditTerms
from background_posting.domain.credit_terms import settlement_discount, terms_for
from background_posting.domain.money import Rate, minor_units, round_money
from tests.support.data import account_body, company_body

INVOICE_DATE = date(2026, 11, 20)
COMPANY = Company.model_validate(company_body())
OWN_TERMS = {"days_due": 14, "discounts": [{"days": 7, "percent": "1"}]}


def terms(days_due: int = 30, *tiers: tuple[int, str]) -> CreditTerms:
    return CreditTerms.model_validate(
        {"days_due": days_due, "discounts": [{"days": d, "percent": p} for d, p in tiers]}
    )


# -- which terms apply ---------------------------------------------------------------------


@pytest.mark.parametrize("doc_type", ["sales_invoice", "sales_credit_note"])
def test_sales_documents_use_the_customers_own_terms_first(doc_type: str) -> None:
    own = Account.model_validate(account_body(credit_terms=OWN_TERMS))
    plain = Account.model_validate(account_body())

    assert terms_for(doc_type, COMPANY, own) == CreditTerms.model_validate(OWN_TERMS)
    assert terms_for(doc_type, COMPANY, plain) == COMPANY.credit_terms


@pytest.mark.parametrize("doc_type", ["payable_invoice", "payable_credit_note"])
def test_payable_documents_use_the_vendors_own_terms_else_the_companys_vendor_terms(
    doc_type: str,
) -> None:
    own = Account.model_validate(account_body("V1", kind="vendor", credit_terms=OWN_TERMS))
    plain = Account.model_validate(account_body("V2", kind="vendor"))

    assert terms_for(doc_type, COMPANY, own) == CreditTerms.model_validate(OWN_TERMS)
    # a vendor without terms gets the company's default payment terms for vendors
    assert terms_for(doc_type, COMPANY, plain) == COMPANY.vendor_credit_terms
    assert COMPANY.vendor_credit_terms == CreditTerms(days_due=30)
    # and the customers' default terms are not used for vendors
    set_up = COMPANY.model_copy(
        update={
            "credit_terms": CreditTerms(days_due=14),
            "vendor_credit_terms": CreditTerms(days_due=45),
        }
    )
    assert terms_for(doc_type, set_up, plain) == CreditTerms(days_due=45)


def test_journals_have_no_credit_terms() -> None:
    assert terms_for("journal", COMPANY, None) is None


# -- what the terms give -------------------------------------------------------------------


def test_the_due_date_and_each_discount_tier_follow_the_document_date() -> None:
    # Given 30 days net, 3% within 7 days, 1.5% within 14, on 1,234.57 GBP for a USD account
    discount = settlement_discount(
        document_date=INVOICE_DATE,
        gross=Decimal("1234.57"),
        document_currency="GBP",
        terms=terms(30, (7, "3"), (14, "1.5")),
        account_currency="USD",
        rate=Rate(Decimal("1.27")),
    )

    # Then the account sees 1,567.90 USD: 3% is 47.04 USD, 1.5% is 23.52 USD
    assert discount.as_json() == {
        "due_date": "2026-12-20",
        "account_currency": "USD",
        "tiers": [
            {
                "date": "2026-11-27",
                "days": 7,
                "percent": "3",
                "document_amount": "37.04",
                "account_amount": "47.04",
            },
            {
                "date": "2026-12-04",
                "days": 14,
                "percent": "1.5",
                "document_amount": "18.52",
                "account_amount": "23.52",
            },
        ],
    }


def test_amounts_round_to_each_currencys_minor_units() -> None:
    # Given a KWD document (3 places) for a JPY account (no minor units)
    discount = settlement_discount(
        document_date=INVOICE_DATE,
        gross=Decimal("100.005"),
        document_currency="KWD",
        terms=terms(30, (10, "2.5")),
        account_currency="JPY",
        rate=Rate(Decimal("490.1234")),
    )
    tier = discount.tiers[0]
    assert tier.document_amount == Decimal("2.500")  # 2.500125
    assert tier.account_amount == Decimal("1225")  # 2.5% of 49,015 JPY = 1,225.375


def test_terms_without_discounts_give_only_a_due_date() -> None:
    discount = settlement_discount(
        document_date=INVOICE_DATE,
        gross=Decimal("10.00"),
        document_currency="GBP",
        terms=terms(0),
        account_currency="GBP",
        rate=Rate(Decimal(1)),
    )
    assert discount.due_date == INVOICE_DATE
    assert discount.tiers == ()


def test_a_credit_notes_discount_is_the_invoices_negated() -> None:
    # Given the same terms on an invoice and a credit note (whose gross comes in negated)
    def for_gross(gross: str) -> list[tuple[Decimal, Decimal]]:
        discount = settlement_discount(
            document_date=INVOICE_DATE,
            gross=Decimal(gross),
            document_currency="EUR",
            terms=terms(30, (10, "2.5"), (20, "1.25")),
            account_currency="GBP",
            rate=Rate(Decimal("0.87")),
        )
        return [(t.document_amount, t.account_amount) for t in discount.tiers]

    # Then the credit note's amounts are negative, the invoice's exactly negated
    invoice = for_gross("99.98")
    credit = for_gross("-99.98")
    assert credit == [(-d, -a) for d, a in invoice]
    assert credit == [(Decimal("-2.50"), Decimal("-2.17")), (Decimal("-1.25"), Decimal("-1.09"))]


# -- properties ----------------------------------------------------------------------------

CURRENCIES = ["JPY", "EUR", "GBP", "USD", "KWD", "BHD"]


@st.composite
def credit_terms(draw: st.DrawFn) -> CreditTerms:
    days = sorted(draw(st.sets(st.integers(min_value=0, max_value=365), max_size=10)))
    percents = [
        draw(st.decimals(min_value=0, max_value=100, places=draw(st.integers(0, 4)))) for _ in days
    ]
    return CreditTerms.model_validate(
        {
            "days_due": draw(st.integers(min_value=max(days, default=0), max_value=3650)),
            "discounts": [{"days": d, "percent": p} for d, p in zip(days, percents, strict=True)],
        }
    )


@given(
    document_date=st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)),
    gross=st.decimals(min_value=-(10**9), max_value=10**9, places=4),
    currencies=st.tuples(st.sampled_from(CURRENCIES), st.sampled_from(CURRENCIES)),
    terms=credit_terms(),
    rate=st.decimals(min_value=Decimal("0.000001"), max_value=Decimal(100_000), places=6),
)
def test_any_terms_give_ordered_dates_and_rounded_amounts_no_larger_than_the_gross(
    document_date: date,
    gross: Decimal,
    currencies: tuple[str, str],
    terms: CreditTerms,
    rate: Decimal,
) -> None:
    document_currency, account_currency = currencies
    discount = settlement_discount(
        document_date=document_date,
        gross=gross,
        document_currency=document_currency,
        terms=terms,
        account_currency=account_currency,
        rate=Rate(rate),
    )
    negated = settlement_discount(
        document_date=document_date,
        gross=-gross,
        document_currency=document_currency,
        terms=terms,
        account_currency=account_currency,
        rate=Rate(rate),
    )

    assert discount.due_date == document_date + timedelta(days=terms.days_due)
    assert len(discount.tiers) == len(terms.discounts)
    dates = [tier.date for tier in discount.tiers]
    assert dates == sorted(set(dates))  # strictly later tier by tier
    assert dates == [document_date + timedelta(days=t.days) for t in terms.discounts]
    assert all(day >= document_date for day in dates)

    rounded_gross = round_money(gross, document_currency)
    account_gross = round_money(rounded_gross * rate, account_currency)
    for tier, twin in zip(discount.tiers, negated.tiers, strict=True):
        assert abs(tier.document_amount) <= abs(rounded_gross)
        assert abs(tier.account_amount) <= abs(account_gross)
        assert tier.document_amount.as_tuple().exponent == -minor_units(document_currency)
        assert tier.account_amount.as_tuple().exponent == -minor_units(account_currency)
        assert tier.document_amount * gross >= 0  # the sign of the gross, or zero
        assert (twin.document_amount, twin.account_amount) == (
            -tier.document_amount,
            -tier.account_amount,
        )
