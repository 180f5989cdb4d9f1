"""Tests of the transaction a posting creates: lines, signs, currencies, rounding, validations."""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from background_posting.domain.company import Account, Company
from background_posting.domain.documents import Document, DocumentLine
from background_posting.domain.errors import ValidationFailed
from background_posting.domain.ledger import TransactionDraft, TransactionLine, build_transaction
from background_posting.domain.money import minor_units, round_money
from tests.support.data import account_body, company_body, document_body
from tests.support.ledger import (
    SETTINGS,
    accounts,
    acme,
    customer,
    make_document,
    post,
    vendor,
)


def problems_of(document: Document, company: Company | None = None, **kwargs: Any) -> list[dict]:
    with pytest.raises(ValidationFailed) as failed:
        post(document, company, **kwargs)
    assert failed.value.code == "posting_validation_failed"
    errors: list[dict] = failed.value.details["errors"]
    return errors


def codes_of(document: Document, company: Company | None = None, **kwargs: Any) -> list[str]:
    return [p["code"] for p in problems_of(document, company, **kwargs)]


def columns(draft: TransactionDraft) -> tuple[Decimal, Decimal, Decimal]:
    return (
        sum((line.document_value for line in draft.lines), Decimal(0)),
        sum((line.home_value for line in draft.lines), Decimal(0)),
        sum((line.dual_value for line in draft.lines), Decimal(0)),
    )


def rows(draft: TransactionDraft) -> list[tuple[str, str, str | None, str, str, str]]:
    """The lines as a person reads them on the transaction page."""
    return [
        (
            line.kind,
            line.gl_account,
            line.account,
            f"{line.document_value:f}",
            f"{line.home_value:f}",
            f"{line.dual_value:f}",
        )
        for line in draft.lines
    ]


# -- what a posting creates ----------------------------------------------------------------


def test_a_sales_invoice_debits_the_customer_and_credits_revenue_and_tax() -> None:
    # Given a GBP sales invoice: 3 x 12.50 at standard rate (20%), 1 x 7.99 zero rated
    invoice = make_document("sales_invoice")

    # When it is posted
    draft = post(invoice)

    # Then the customer owes the gross, revenue and sales tax are credited
    assert rows(draft) == [
        ("control", "1100", "CUST01", "52.99", "52.99", "60.94"),
        ("analysis", "4000", None, "-37.50", "-37.50", "-43.13"),
        ("analysis", "4000", None, "-7.99", "-7.99", "-9.19"),
        ("tax", "2200", None, "-7.50", "-7.50", "-8.63"),
        ("tax", "2200", None, "0.00", "0.00", "0.00"),
        ("rounding", "7900", None, "0.00", "0.00", "0.01"),
    ]
    assert [line.source_line for line in draft.lines] == [None, 0, 1, None, None, None]
    assert [line.tax_code for line in draft.lines[3:5]] == ["STD", "ZERO"]
    assert draft.totals == {
        "net": Decimal("45.49"),
        "tax": Decimal("7.50"),
        "gross": Decimal("52.99"),
    }
    assert (draft.period, draft.document_number, draft.company) == ("2026-11", "SIN000042", "ACME")
    assert columns(draft) == (0, 0, 0)


def test_a_payable_invoice_credits_the_vendor_and_debits_expense_and_purchase_tax() -> None:
    invoice = make_document("payable_invoice")

    draft = post(invoice)

    assert [(k, gl, acc, doc) for k, gl, acc, doc, _, _ in rows(draft)] == [
        ("control", "2100", "VEND01", "-52.99"),
        ("analysis", "5000", None, "37.50"),
        ("analysis", "5000", None, "7.99"),
        ("tax", "1200", None, "7.50"),
        ("tax", "1200", None, "0.00"),
        ("rounding", "7900", None, "0.00"),
    ]
    assert columns(draft) == (0, 0, 0)


def test_a_line_posts_to_its_own_gl_account_and_an_income_schedule_to_deferred_income() -> None:
    lines = [
        {"quantity": "1", "unit_price": "100", "gl_account": "4100"},
        {"quantity": "1", "unit_price": "120", "income_schedule": {"periods": 12}},
        {"quantity": "1", "unit_price": "5"},
    ]
    draft = post(make_document("sales_invoice", lines=lines))

    analysis = [line for line in draft.lines if line.kind == "analysis"]
    assert [(line.gl_account, line.document_value) for line in analysis] == [
        ("4100", Decimal("-100.00")),
        ("2300", Decimal("-120.00")),
        ("4000", Decimal("-5.00")),
    ]
    assert not [line for line in draft.lines if line.kind == "tax"]


def test_line_nets_are_rounded_and_tax_is_rounded_once_per_tax_code() -> None:
    # Given three lines of 0.333 x 1.00 = 0.333 each, all at 20%
    lines = [{"quantity": "0.333", "unit_price": "1.00", "tax_code": "STD"}] * 3

    draft = post(make_document("sales_invoice", lines=lines))

    # Then each net is 0.33 and the tax is 20% of 0.99 = 0.198 -> 0.20, one tax line
    assert [line.document_value for line in draft.lines if line.kind == "analysis"] == [
        Decimal("-0.33")
    ] * 3
    assert [line.document_value for line in draft.lines if line.kind == "tax"] == [Decimal("-0.20")]
    assert draft.totals["gross"] == Decimal("1.19")


def test_an_external_tax_provider_sets_the_tax_of_each_line() -> None:
    # Given tax from a provider for each line; it knows codes the company does not
    lines = [
        {"quantity": "1", "unit_price": "100.00", "tax_code": "AVA-GOODS"},
        {"quantity": "1", "unit_price": "50.00", "tax_code": "AVA-GOODS"},
        {"quantity": "1", "unit_price": "10.00"},
    ]
    invoice = make_document("sales_invoice", lines=lines, tax_mode="avatax")

    draft = post(invoice, tax_override={0: Decimal("8.255"), 1: Decimal("4.13"), 2: Decimal("1")})

    taxes = [(line.tax_code, line.document_value) for line in draft.lines if line.kind == "tax"]
    assert taxes == [("AVA-GOODS", Decimal("-12.39")), (None, Decimal("-1.00"))]
    assert draft.totals == {
        "net": Decimal("160.00"),
        "tax": Decimal("13.39"),
        "gross": Decimal("173.39"),
    }


def test_a_tax_override_for_a_line_the_document_lacks_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="does not have"):
        post(make_document("sales_invoice"), tax_override={7: Decimal("1")})


def test_a_journal_posts_its_own_lines_without_control_or_tax_lines() -> None:
    lines = [
        {"gl_account": "6000", "value": "100", "description": "Accrual"},
        {"gl_account": "1100", "value": "-40.00", "account": "CUST01"},
        {"gl_account": "2400", "value": "-60.00"},
    ]
    draft = post(make_document("journal", lines=lines))

    assert [(k, gl, acc, doc) for k, gl, acc, doc, _, _ in rows(draft)] == [
        ("analysis", "6000", None, "100.00"),
        ("analysis", "1100", "CUST01", "-40.00"),
        ("analysis", "2400", None, "-60.00"),
    ]
    assert draft.discount is None
    assert draft.totals == {
        "net": Decimal("100.00"),
        "tax": Decimal("0.00"),
        "gross": Decimal("100.00"),
    }


@pytest.mark.parametrize(
    ("invoice_type", "credit_type"),
    [("sales_invoice", "sales_credit_note"), ("payable_invoice", "payable_credit_note")],
)
def test_a_credit_note_reverses_every_sign_of_the_matching_invoice(
    invoice_type: str, credit_type: str
) -> None:
    # Given an invoice and a credit note with the same lines, in USD (home GBP, dual EUR)
    lines = [
        {"quantity": "3", "unit_price": "12.345", "tax_code": "STD"},
        {"quantity": "7", "unit_price": "0.99", "tax_code": "STD", "gl_account": "4100"},
        {"quantity": "1", "unit_price": "1.01"},
    ]
    terms = {
        "days_due": 30,
        "discounts": [{"days": 7, "percent": "3"}, {"days": 14, "percent": "1"}],
    }
    found = accounts(customer(), vendor(credit_terms=terms))
    invoice = post(make_document(invoice_type, currency="USD", lines=lines), accounts=found)
    credit = post(make_document(credit_type, currency="USD", lines=lines), accounts=found)

    # Then line for line, every amount in every currency is the invoice's, negated
    def negated(line: TransactionLine) -> tuple[Any, ...]:
        return (
            line.kind,
            line.gl_account,
            -line.document_value,
            -line.home_value,
            -line.dual_value,
        )

    assert [negated(line) for line in credit.lines] == [
        (line.kind, line.gl_account, line.document_value, line.home_value, line.dual_value)
        for line in invoice.lines
    ]
    assert credit.totals == invoice.totals
    assert columns(credit) == (0, 0, 0)
    assert credit.discount is not None and invoice.discount is not None
    assert [(t.document_amount, t.account_amount) for t in credit.discount.tiers] == [
        (-t.document_amount, -t.account_amount) for t in invoice.discount.tiers
    ]
    assert all(t.document_amount < 0 for t in credit.discount.tiers)


def test_home_and_dual_values_convert_line_by_line_and_a_rounding_line_takes_the_residue() -> None:
    # Given a USD invoice of three lines of 0.01 each: USD->GBP 0.79, GBP->EUR 1.15
    lines = [{"quantity": "1", "unit_price": "0.01"}] * 3
    draft = post(make_document("sales_invoice", currency="USD", lines=lines))

    # Then each 0.01 USD is 0.01 GBP (0.0079) but the 0.03 control is 0.02 GBP (0.0237):
    # one rounding line to currency rounding makes home and dual sum to zero
    assert rows(draft) == [
        ("control", "1100", "CUST01", "0.03", "0.02", "0.02"),
        ("analysis", "4000", None, "-0.01", "-0.01", "-0.01"),
        ("analysis", "4000", None, "-0.01", "-0.01", "-0.01"),
        ("analysis", "4000", None, "-0.01", "-0.01", "-0.01"),
        ("rounding", "7900", None, "0.00", "0.01", "0.01"),
    ]
    assert draft.rate_document_to_home.value == Decimal("0.79")
    assert draft.rate_home_to_dual.value == Decimal("1.15")


def test_no_residue_means_no_rounding_line() -> None:
    company = acme(dual_currency="GBP")
    draft = post(make_document("sales_invoice"), company)
    assert "rounding" not in [line.kind for line in draft.lines]
    assert columns(draft) == (0, 0, 0)


def test_rates_come_from_the_document_date() -> None:
    company = acme(
        exchange_rates=[
            {"from_currency": "USD", "to_currency": "GBP", "date": "2026-01-01", "rate": "0.80"},
            {"from_currency": "USD", "to_currency": "GBP", "date": "2026-11-21", "rate": "0.70"},
            {"from_currency": "EUR", "to_currency": "GBP", "date": "2026-01-01", "rate": "0.8"},
        ]
    )
    draft = post(make_document("sales_invoice", currency="USD"), company)
    assert draft.rate_document_to_home.value == Decimal("0.80")
    assert draft.rate_home_to_dual.value == Decimal("1.25")
    assert draft.lines[0].home_value == Decimal("42.39")  # 52.99 x 0.80


# -- settlement discount on the transaction ------------------------------------------------


def test_a_sales_invoice_stores_the_discount_in_document_and_account_currency() -> None:
    # Given a customer whose account currency is USD, invoiced in GBP (USD->GBP 0.79)
    account = customer(trading_currencies=["USD", "GBP"])
    draft = post(make_document("sales_invoice"), accounts=accounts(account))

    # Then the company's terms (30 days, 2% within 10) apply, converted through the rate
    assert draft.discount is not None
    assert draft.discount.as_json() == {
        "due_date": "2026-12-20",
        "account_currency": "USD",
        "tiers": [
            {
                "date": "2026-11-30",
                "days": 10,
                "percent": "2",
                "document_amount": "1.06",
                "account_amount": "1.34",
            }
        ],
    }


def test_a_discount_into_an_account_currency_goes_through_home_currency() -> None:
    # Given an EUR invoice to a customer keeping USD, with rates EUR->GBP and GBP->USD only
    company = acme(
        exchange_rates=[
            {"from_currency": "EUR", "to_currency": "GBP", "date": "2026-01-01", "rate": "0.8"},
            {"from_currency": "GBP", "to_currency": "USD", "date": "2026-01-01", "rate": "1.25"},
        ]
    )
    account = customer(trading_currencies=["USD", "EUR"])
    lines = [{"quantity": "1", "unit_price": "100"}]
    draft = post(
        make_document("sales_invoice", currency="EUR", lines=lines),
        company,
        accounts=accounts(account),
    )

    assert draft.discount is not None
    assert draft.discount.tiers[0].account_amount == Decimal("2.00")  # 2% of 100 EUR = 100 USD


def test_a_vendor_without_credit_terms_is_due_by_the_companys_vendor_payment_terms() -> None:
    # Given a vendor without terms and the company's default of 30 days net for vendors
    # When its invoice of 2026-11-20 is posted
    draft = post(make_document("payable_invoice"))
    # Then it is due 30 days later, with no discount
    assert draft.discount is not None
    assert draft.discount.due_date == date(2026, 12, 20)
    assert draft.discount.tiers == ()


def test_a_vendor_with_credit_terms_gives_its_discount() -> None:
    terms = {"days_due": 60, "discounts": [{"days": 14, "percent": "1.5"}]}
    draft = post(make_document("payable_invoice"), accounts=accounts(vendor(credit_terms=terms)))
    assert draft.discount is not None
    assert draft.discount.due_date == date(2027, 1, 19)  # 60 days after 2026-11-20
    assert [(t.date, t.document_amount) for t in draft.discount.tiers] == [
        (date(2026, 12, 4), Decimal("0.79"))
    ]


# -- validations: every problem, each with its code ----------------------------------------


def test_a_document_without_lines_cannot_be_posted() -> None:
    problems = problems_of(make_document("sales_invoice", lines=[]))
    assert problems == [
        {
            "code": "no_lines",
            "message": "SIN000042 has no lines: add at least one to post it.",
            "field": "lines",
        }
    ]


def test_a_date_outside_every_period_cannot_be_posted() -> None:
    problems = problems_of(make_document("sales_invoice", document_date="2026-12-05"))
    assert [(p["code"], p["field"]) for p in problems] == [("period_missing", "document_date")]
    assert "2026-12-05" in problems[0]["message"]


def test_a_closed_period_cannot_be_posted_to() -> None:
    problems = problems_of(make_document("sales_invoice", document_date="2026-10-15"))
    assert problems[0]["code"] == "period_closed"
    assert problems[0]["message"] == (
        "SIN000042 is dated 2026-10-15, in period 2026-10, which is closed: date it in an open "
        "period, or ask for the period to be reopened."
    )


def test_an_account_that_does_not_exist_cannot_be_posted_to() -> None:
    problems = problems_of(make_document("sales_invoice", account="CUST99"))
    assert [(p["code"], p["field"]) for p in problems] == [("account_missing", "account")]
    assert "CUST99" in problems[0]["message"]


def test_a_trading_document_needs_an_account() -> None:
    problems = problems_of(make_document("payable_invoice", account=None))
    assert problems[0]["message"] == "PIN000042 has no account: a payable invoice needs a vendor."


@pytest.mark.parametrize(
    ("doc_type", "account", "needs"),
    [("sales_invoice", "VEND01", "customer"), ("payable_credit_note", "CUST01", "vendor")],
)
def test_a_document_needs_the_right_kind_of_account(
    doc_type: str, account: str, needs: str
) -> None:
    problems = problems_of(make_document(doc_type, account=account))
    assert [p["code"] for p in problems] == ["account_wrong_kind"]
    assert problems[0]["message"].endswith(f"not a {needs}.")


def test_an_account_of_another_company_cannot_be_posted_to() -> None:
    other = customer(company="BETA")
    codes = codes_of(make_document("sales_invoice"), accounts=accounts(other))
    assert codes == ["account_other_company"]


def test_an_account_must_trade_in_the_document_currency() -> None:
    company = acme(
        exchange_rates=[
            {"from_currency": "GBP", "to_currency": "EUR", "date": "2026-01-01", "rate": "1.15"},
        ]
    )
    problems = problems_of(make_document("sales_invoice", currency="EUR"), company)
    assert [(p["code"], p["field"]) for p in problems] == [("currency_not_traded", "currency")]
    assert problems[0]["message"] == (
        "SIN000042 is in EUR, but account CUST01 trades only in GBP, USD."
    )


def test_journal_line_accounts_are_checked_line_by_line() -> None:
    lines = [
        {"gl_account": "1100", "value": "10.00", "account": "CUST01"},
        {"gl_account": "1100", "value": "-10.00", "account": "CUST99"},
        {"gl_account": "2100", "value": "5.00", "account": "VEND01"},
        {"gl_account": "2100", "value": "-5.00", "account": "OTHER"},
    ]
    foreign = Account.model_validate(account_body("OTHER", company="BETA"))
    only_eur = vendor(trading_currencies=["EUR"])
    problems = problems_of(
        make_document("journal", lines=lines),
        accounts=accounts(customer(), only_eur, foreign),
    )
    assert [(p["code"], p["field"]) for p in problems] == [
        ("account_missing", "lines[1].account"),
        ("currency_not_traded", "lines[2].account"),
        ("account_other_company", "lines[3].account"),
    ]
    assert (
        problems[0]["message"] == "Line 2 of JNL000042 names account CUST99, which does not exist."
    )


def test_an_unbalanced_journal_says_by_how_much() -> None:
    lines = [{"gl_account": "6000", "value": "100.00"}, {"gl_account": "2400", "value": "-99.99"}]
    problems = problems_of(make_document("journal", lines=lines))
    assert problems == [
        {
            "code": "journal_unbalanced",
            "message": "JNL000042 does not balance: its lines add up to 0.01 GBP instead of zero.",
            "field": "lines",
        }
    ]


def test_a_journal_value_finer_than_the_currency_allows_is_refused() -> None:
    lines = [{"gl_account": "6000", "value": "10.005"}, {"gl_account": "2400", "value": "-10.005"}]
    problems = problems_of(make_document("journal", lines=lines))
    assert [(p["code"], p["field"]) for p in problems] == [
        ("amount_precision", "lines[0].value"),
        ("amount_precision", "lines[1].value"),
    ]
    assert problems[0]["message"] == (
        "Line 1 of JNL000042 has the value 10.005, but GBP allows 2 decimal places."
    )


def test_a_sales_line_value_finer_than_the_currency_is_rounded_not_refused() -> None:
    draft = post(make_document("sales_invoice", lines=[{"quantity": "1", "unit_price": "10.005"}]))
    assert draft.totals["net"] == Decimal("10.01")


def test_a_missing_rate_from_document_to_home_currency_is_reported() -> None:
    company = acme(
        exchange_rates=[
            {"from_currency": "GBP", "to_currency": "EUR", "date": "2026-01-01", "rate": "1.15"},
            {"from_currency": "USD", "to_currency": "GBP", "date": "2026-11-21", "rate": "0.79"},
        ]
    )
    problems = problems_of(make_document("sales_invoice", currency="USD"), company)
    assert [(p["code"], p["field"]) for p in problems] == [("rate_missing", "currency")]
    assert problems[0]["message"] == (
        "SIN000042 cannot be converted from USD to GBP: company ACME has no exchange rate for "
        "them on or before 2026-11-20."
    )


def test_a_missing_rate_from_home_to_dual_currency_is_reported() -> None:
    codes = codes_of(make_document("journal"), acme(exchange_rates=[]))
    assert codes == ["rate_missing"]


def test_a_missing_rate_into_the_account_currency_is_reported() -> None:
    # Given a GBP invoice to a customer keeping JPY: no GBP->JPY rate, directly or via home
    account = customer(trading_currencies=["JPY", "GBP"])
    problems = problems_of(make_document("sales_invoice"), accounts=accounts(account))
    assert [(p["code"], p["field"]) for p in problems] == [("rate_missing", "account")]
    assert "settlement discount" in problems[0]["message"]


def test_an_unknown_tax_code_is_reported_with_its_line() -> None:
    lines = [
        {"quantity": "1", "unit_price": "1", "tax_code": "STD"},
        {"quantity": "1", "unit_price": "1", "tax_code": "NOPE"},
    ]
    problems = problems_of(make_document("sales_invoice", lines=lines))
    assert problems == [
        {
            "code": "tax_code_unknown",
            "message": "Line 2 of SIN000042 uses tax code NOPE, which company ACME does not have.",
            "field": "lines[1].tax_code",
        }
    ]


def test_every_problem_is_reported_not_only_the_first() -> None:
    # Given an invoice dated in a closed period, in JPY (not traded, no rate), with a bad code
    body = document_body("sales_invoice", document_date="2026-10-15", currency="JPY")
    body["lines"][0]["tax_code"] = "NOPE"
    invoice = make_document("sales_invoice", **body)

    # When it is posted
    with pytest.raises(ValidationFailed) as failed:
        post(invoice)

    # Then all of them come back, and the message counts them
    codes = [p["code"] for p in failed.value.details["errors"]]
    assert codes == ["period_closed", "currency_not_traded", "rate_missing", "tax_code_unknown"]
    assert failed.value.message.startswith("4 problems stop SIN000042 from posting: SIN000042 is")


def test_three_problems_are_three_problems() -> None:
    lines = [{"gl_account": "6000", "value": "1.001"}, {"gl_account": "2400", "value": "-1"}]
    journal = make_document("journal", lines=lines, document_date="2026-10-31")
    with pytest.raises(ValidationFailed) as failed:
        post(journal)
    assert [p["code"] for p in failed.value.details["errors"]] == [
        "period_closed",
        "amount_precision",
        "journal_unbalanced",
    ]
    assert failed.value.message.startswith("3 problems stop JNL000042 from posting: ")


def test_one_problem_reads_in_the_singular() -> None:
    with pytest.raises(ValidationFailed) as failed:
        post(make_document("sales_invoice", lines=[]))
    assert failed.value.message == (
        "1 problem stops SIN000042 from posting: SIN000042 has no lines: add at least one to "
        "post it."
    )


def test_a_document_of_another_company_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="belongs to ACME"):
        post(make_document("sales_invoice"), acme(id="BETA"))


# -- size ----------------------------------------------------------------------------------


def test_a_document_of_one_hundred_thousand_lines_builds() -> None:
    # Given a USD invoice of 100,000 taxed lines
    line = DocumentLine(quantity=Decimal("1.5"), unit_price=Decimal("3.33"), tax_code="STD")
    invoice = make_document("sales_invoice", currency="USD", lines=[line] * 100_000)

    # When it is posted
    draft = post(invoice)

    # Then it has a control line, 100,000 analysis lines, a tax line and one rounding line,
    # and balances in every currency
    assert Counter(line.kind for line in draft.lines) == {
        "control": 1,
        "analysis": 100_000,
        "tax": 1,
        "rounding": 1,
    }
    assert draft.totals["net"] == Decimal("500000.00")  # 100,000 x 5.00 (4.995 rounded)
    assert columns(draft) == (0, 0, 0)


# -- any document balances -----------------------------------------------------------------

CURRENCIES = ["JPY", "EUR", "GBP", "USD", "KWD", "BHD"]
DOCUMENT_TYPES = [
    "sales_invoice",
    "sales_credit_note",
    "payable_invoice",
    "payable_credit_note",
    "journal",
]


@st.composite
def rates(draw: st.DrawFn) -> str:
    """A positive rate of 1 to 8 significant digits, from about 0.000001 to 100,000."""
    digits = draw(st.integers(min_value=1, max_value=8))
    mantissa = draw(st.integers(min_value=10 ** (digits - 1), max_value=10**digits - 1))
    exponent = draw(st.integers(min_value=-6, max_value=5)) - (digits - 1)
    return f"{Decimal(mantissa).scaleb(exponent):f}"


@st.composite
def decimals(draw: st.DrawFn, largest: int, places: int, signed: bool = True) -> str:
    """A decimal of 0 to `places` decimal places, up to `largest` in magnitude, as a string."""
    scale = draw(st.integers(min_value=0, max_value=places))
    smallest = -largest * 10**scale if signed else 0
    units = draw(st.integers(min_value=smallest, max_value=largest * 10**scale))
    return f"{Decimal(units).scaleb(-scale):f}"


@st.composite
def postings(draw: st.DrawFn) -> tuple[Document, Company, dict[str, Account]]:
    doc_type = draw(st.sampled_from(DOCUMENT_TYPES))
    currency, home, dual = (draw(st.sampled_from(CURRENCIES)) for _ in range(3))
    tax_codes = [
        {"code": f"T{n}", "rate": draw(decimals(largest=30, places=3, signed=False))}
        for n in range(draw(st.integers(min_value=1, max_value=4)))
    ]
    company = Company.model_validate(
        company_body(
            home_currency=home,
            dual_currency=dual,
            exchange_rates=list(
                {  # one rate per pair and date (a company refuses two): the first of a pair
                    (rate["from_currency"], rate["to_currency"]): rate
                    for rate in reversed(
                        [
                            {
                                "from_currency": currency,
                                "to_currency": home,
                                "date": "2026-01-01",
                                "rate": draw(rates()),
                            },
                            {
                                "from_currency": home,
                                "to_currency": dual,
                                "date": "2026-01-01",
                                "rate": draw(rates()),
                            },
                        ]
                    )
                }.values()
            ),
            tax_codes=tax_codes,
        )
    )
    count = draw(st.integers(min_value=1, max_value=60))
    if doc_type == "journal":
        values = [
            round_money(Decimal(draw(decimals(largest=10**6, places=3))), currency)
            for _ in range(count - 1)
        ]
        values.append(-sum(values, Decimal(0)))
        lines: list[dict[str, Any]] = [
            {"gl_account": f"{6000 + n}", "value": f"{value:f}"} for n, value in enumerate(values)
        ]
        account = None
    else:
        codes = [None, *(code["code"] for code in tax_codes)]
        lines = [
            {
                "quantity": draw(decimals(largest=1000, places=4)),
                "unit_price": draw(decimals(largest=10**5, places=6)),
                "tax_code": draw(st.sampled_from(codes)),
            }
            for _ in range(count)
        ]
        account = "VEND01" if doc_type.startswith("payable") else "CUST01"
    account_currency = draw(st.sampled_from([currency, home]))
    trading = list(dict.fromkeys([account_currency, currency]))
    terms = {"days_due": 30, "discounts": [{"days": 10, "percent": "2.5"}]}
    found = accounts(
        customer(trading_currencies=trading),
        vendor(trading_currencies=trading, credit_terms=terms),
    )
    document = make_document(doc_type, currency=currency, account=account, lines=lines)
    return document, company, found


@hypothesis_settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(postings())
def test_any_document_posts_to_a_transaction_that_sums_to_zero_in_every_currency(
    posting: tuple[Document, Company, dict[str, Account]],
) -> None:
    # Given any document of any type, in any currencies, at any rates
    document, company, found = posting

    # When it is posted
    draft = build_transaction(document, company, found, SETTINGS)

    # Then document, home and dual columns each sum to exactly zero
    assert columns(draft) == (0, 0, 0)
    # and every value is rounded to its currency's minor units
    places = [minor_units(c) for c in (draft.currency, draft.home_currency, draft.dual_currency)]
    for line in draft.lines:
        values = (line.document_value, line.home_value, line.dual_value)
        assert [v.as_tuple().exponent for v in values] == [-p for p in places]
    # and every line converts on its own; only the single rounding line carries a residue
    kinds = Counter(line.kind for line in draft.lines)
    assert kinds["rounding"] <= 1
    for line in draft.lines:
        if line.kind == "rounding":
            assert line.document_value == 0
            continue
        home = round_money(line.document_value * draft.rate_document_to_home, draft.home_currency)
        assert line.home_value == home
        assert line.dual_value == round_money(home * draft.rate_home_to_dual, draft.dual_currency)
    # and each document line has its analysis line, in order
    sources = [line.source_line for line in draft.lines if line.kind == "analysis"]
    assert sources == list(range(len(document.lines)))
    if document.type != "journal":
        assert kinds["control"] == 1
        assert draft.totals["gross"] == draft.totals["net"] + draft.totals["tax"]
