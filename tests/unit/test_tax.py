"""Tax providers, pure: the built-in engine, what AvaTax is asked, and what comes back."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from background_posting.domain.company import Address
from background_posting.domain.document_input import DocumentInput, DocumentPatch
from background_posting.domain.errors import ValidationFailed
from background_posting.domain.tax import (
    BuiltinTaxEngine,
    TaxRejected,
    TaxResult,
    calculated_externally,
    cleared_line_taxes,
    committed,
    document_code,
    tax_override,
    tax_request,
    with_tax,
)
from tests.support.data import document_body
from tests.support.ledger import acme, make_document, post
from tests.support.tax import ACME_OFFICE, CUSTOMER_GB, avatax_document, with_office

AT = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
OFFICE = Address.model_validate(ACME_OFFICE)
CUSTOMER = Address.model_validate(CUSTOMER_GB)


# -- the built-in engine ---------------------------------------------------------------------

lines_strategy = st.lists(
    st.tuples(
        st.decimals(min_value=-50, max_value=500, places=2, allow_nan=False),
        st.decimals(min_value=Decimal("0.001"), max_value=1000, places=3, allow_nan=False),
        st.sampled_from(["STD", "ZERO", "LOW", None]),
    ),
    min_size=1,
    max_size=12,
)


@hypothesis_settings(max_examples=150, deadline=None)
@given(lines=lines_strategy)
def test_the_builtin_engine_line_taxes_post_exactly_what_the_ledger_posts_itself(
    lines: list[tuple[Decimal, Decimal, str | None]],
) -> None:
    # Given a company with three tax codes and a document of any lines
    company = acme(
        tax_codes=[
            {"code": "STD", "rate": "20"},
            {"code": "ZERO", "rate": "0"},
            {"code": "LOW", "rate": "5.5"},
        ],
        address=ACME_OFFICE,
    )
    body_lines = [
        {"description": f"L{n}", "quantity": str(q), "unit_price": str(p), "tax_code": code}
        for n, (q, p, code) in enumerate(lines)
    ]
    document = make_document(lines=body_lines)
    # When the engine works out each line's tax and the ledger posts with it
    request = tax_request(document, company, CUSTOMER)
    result = BuiltinTaxEngine(company).calculate(request)
    # Then the transaction is the one the ledger builds from the tax codes by itself
    assert post(document, company, tax_override=result.line_taxes) == post(document, company)
    assert result.total == post(document, company).totals["tax"]


def test_the_builtin_engine_refuses_a_tax_code_the_company_lacks() -> None:
    document = make_document(
        lines=[{"description": "x", "quantity": "1", "unit_price": "10", "tax_code": "HIGH"}]
    )
    with pytest.raises(TaxRejected) as refused:
        BuiltinTaxEngine(with_office()).calculate(tax_request(document, with_office(), CUSTOMER))
    assert refused.value.details["errors"][0]["field"] == "lines[0].tax_code"
    assert "HIGH" in refused.value.message


# -- what the provider is asked ----------------------------------------------------------------


def test_a_sale_ships_from_the_company_to_the_customer_and_a_purchase_the_other_way() -> None:
    sale = tax_request(avatax_document("sales_invoice"), with_office(), CUSTOMER)
    purchase = tax_request(avatax_document("payable_invoice"), with_office(), CUSTOMER)
    assert (sale.ship_from, sale.ship_to) == (OFFICE, CUSTOMER)
    assert (purchase.ship_from, purchase.ship_to) == (CUSTOMER, OFFICE)
    assert sale.reference.kind == "sale" and purchase.reference.kind == "purchase"
    assert [line.amount for line in sale.lines] == [Decimal("37.50"), Decimal("7.99")]


def test_every_missing_address_is_named_at_once() -> None:
    with pytest.raises(ValidationFailed) as failed:
        tax_request(avatax_document(), acme(), None)
    assert failed.value.code == "tax_request_incomplete"
    assert [e["field"] for e in failed.value.details["errors"]] == [
        "company.address",
        "account.address",
    ]
    assert failed.value.message == (
        "2 problems stop the tax of SIN000042 being calculated: Company ACME has no address, "
        "which AvaTax needs to calculate the tax of SIN000042: enter the company's address in "
        "its settings, then post again."
    )
    assert failed.value.details["errors"][1]["message"] == (
        "The customer CUST01 of SIN000042 has no address, which AvaTax needs to calculate the "
        "tax: enter the address on the customer's record, then post again."
    )


def test_a_journal_has_no_tax_to_calculate_whatever_its_mode() -> None:
    journal = make_document("journal", tax_mode="avatax")
    assert not calculated_externally(journal)
    with pytest.raises(ValidationFailed) as failed:
        tax_request(journal, with_office(), CUSTOMER)
    assert failed.value.code == "tax_not_applicable"


def test_the_document_code_is_the_same_for_every_calculation_of_a_document() -> None:
    document = avatax_document()
    assert document_code(document) == "ACME-SIN000042"
    assert document_code(document.model_copy(update={"version": 7})) == "ACME-SIN000042"


# -- what comes back --------------------------------------------------------------------------


def test_a_calculated_tax_goes_on_each_line_and_the_document_keeps_the_providers_record() -> None:
    document = avatax_document()
    result = TaxResult(
        "ACME-SIN000042", "1001", {0: Decimal("7.5"), 1: Decimal("1.598")}, Decimal("9.098")
    )
    taxed = with_tax(document, result, "avatax", AT)
    assert [line.tax for line in taxed.lines] == [Decimal("7.50"), Decimal("1.60")]
    assert taxed.tax is not None
    assert (taxed.tax.code, taxed.tax.transaction_id, taxed.tax.status) == (
        "ACME-SIN000042",
        "1001",
        "calculated",
    )
    assert taxed.tax.total == Decimal("9.10")
    assert tax_override(taxed) == {0: Decimal("7.50"), 1: Decimal("1.60")}
    assert committed(taxed, AT).tax.status == "committed"  # type: ignore[union-attr]
    assert [line.tax for line in cleared_line_taxes(taxed).lines] == [None, None]


def test_an_avatax_document_cannot_post_before_its_tax_is_calculated() -> None:
    with pytest.raises(ValidationFailed) as failed:
        tax_override(avatax_document())
    assert failed.value.code == "tax_not_calculated"
    assert tax_override(make_document()) is None  # built-in: the company's tax codes


def test_a_line_tax_cannot_be_entered_and_an_amendment_sets_none() -> None:
    body = document_body()
    body["lines"][0]["tax"] = "1.00"
    with pytest.raises(ValidationError) as refused:
        TypeAdapter(DocumentInput).validate_python(body)
    assert "lines[0].tax is calculated by the tax provider" in str(refused.value)
    patch = DocumentPatch.model_validate({"lines": [{**document_body()["lines"][1], "tax": "2"}]})
    assert patch.lines is not None and "tax" not in patch.lines[0]
