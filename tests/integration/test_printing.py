"""The printed document, as HTML and as PDF (read back with pypdf): what a customer reads."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.support.api import invoke_api
from tests.support.data import account_body, company_body, document_body
from tests.support.printing import pdf_text

OFFICE = {"line1": "1 Market Street", "city": "Leeds", "postal_code": "LS1 1AA", "country": "GB"}
SHOP = {"line1": "22 Rue de la Paix", "city": "Paris", "postal_code": "75002", "country": "FR"}


@pytest.fixture
def acme(api: Any) -> Any:
    assert (
        invoke_api(api, "POST", "/companies", "admin", company_body("ACME", address=OFFICE)).status
        == 201
    )
    customer = account_body("CUST01", name="Boulangerie Dupont SARL", address=SHOP)
    customer["trading_currencies"] = ["GBP", "USD", "KWD"]
    assert invoke_api(api, "POST", "/accounts", "admin", customer).status == 201
    vendor = account_body(
        "VEND01", kind="vendor", name="Northern Paper Ltd", trading_currencies=["GBP"]
    )
    assert invoke_api(api, "POST", "/accounts", "admin", vendor).status == 201
    return api


def test_a_posted_invoice_prints_as_a_real_invoice_in_html_and_pdf(acme: Any) -> None:
    # Given a posted sales invoice: 3 x 12.50 at 20% and 1 x 7.99 zero-rated, 30 days, 2%/10 days
    created = invoke_api(acme, "POST", "/documents", "clerk", document_body(reference="PO-7")).body
    doc = f"/documents/{created['id']}"
    assert invoke_api(acme, "POST", f"{doc}/post", "clerk", {"mode": "immediate"}).status == 200
    # When it is printed
    html = invoke_api(acme, "GET", f"{doc}/print", "clerk").body
    text = pdf_text(acme, f"{doc}/print?format=pdf")
    # Then both show what an invoice shows
    for part in (html, text):
        assert "Sales Invoice SIN000001" in part
        assert "ACME Trading Ltd" in part and "1 Market Street" in part
        assert "Boulangerie Dupont SARL" in part and "22 Rue de la Paix" in part
        assert "20 November 2026" in part  # document date
        assert "Due date" in part and "20 December 2026" in part  # 30 days
        assert "PO-7" in part and "TRN000001" in part
        assert "Widgets" in part and "£12.50" in part and "£37.50" in part
        assert "£45.49" in part  # net
        assert "Tax STD at 20%" in part and "£7.50" in part  # tax per code
        assert "£52.99" in part  # gross total
        assert "Settlement discount: 2% (£1.06) if paid by 30 November 2026 (10 days)." in part
    assert re.search(r"Net</td><td class=\"amount\">£45.49", html)
    assert re.search(r"Total\s+£52.99", text)


def test_unit_prices_print_at_the_precision_entered(acme: Any) -> None:
    # Given an In Progress KWD invoice priced at 10.1234 a unit (a price, not an amount)
    body = document_body(currency="KWD")
    body["lines"] = [{"description": "Dates", "quantity": "3", "unit_price": "10.1234"}]
    created = invoke_api(acme, "POST", "/documents", "clerk", body).body
    doc = f"/documents/{created['id']}"
    # When it is printed
    html = invoke_api(acme, "GET", f"{doc}/print", "clerk").body
    text = pdf_text(acme, f"{doc}/print?format=pdf")
    # Then the price keeps its four decimals, and the net is rounded to fils (3 decimals)
    for part in (html, text):
        assert "KWD10.1234" in part and "KWD10.123 " not in part
        assert "KWD30.370" in part  # 30.3702 rounded
        assert "Total" in part


def test_a_payable_invoice_prints_the_vendor_and_the_company_vendor_terms(acme: Any) -> None:
    created = invoke_api(acme, "POST", "/documents", "clerk", document_body("payable_invoice")).body
    html = invoke_api(acme, "GET", f"/documents/{created['id']}/print", "clerk").body
    text = pdf_text(acme, f"/documents/{created['id']}/print?format=pdf")
    for part in (html, text):
        assert "Payable Invoice PIN000001" in part
        assert "Vendor" in part and "Northern Paper Ltd" in part
        assert "20 December 2026" in part  # the company's default vendor terms: 30 days


def test_a_journal_prints_its_debits_and_credits_in_euros(acme: Any) -> None:
    body = document_body(
        "journal",
        currency="EUR",
        lines=[
            {"gl_account": "6000", "value": "1234.50", "description": "Accrual"},
            {"gl_account": "2400", "value": "-1234.50", "description": "Accrual"},
        ],
    )
    created = invoke_api(acme, "POST", "/documents", "clerk", body).body
    text = pdf_text(acme, f"/documents/{created['id']}/print?format=pdf")
    assert "Journal JNL000001" in text
    assert "€1,234.50" in text  # the euro sign, which the core PDF fonts cannot print
    assert re.search(r"Total debits\s+€1,234.50", text)
    assert re.search(r"Total credits\s+€1,234.50", text)


def test_a_ready_to_post_document_cannot_be_printed_in_either_format(acme: Any) -> None:
    created = invoke_api(acme, "POST", "/documents", "clerk", document_body()).body
    invoke_api(acme, "POST", "/documents/post", "clerk", {"ids": [created["id"]]})
    for path in ("/print", "/print?format=pdf"):
        answer = invoke_api(acme, "GET", f"/documents/{created['id']}{path}", "clerk")
        assert answer.status == 409 and answer.error_code == "document_locked"
    bad = invoke_api(acme, "GET", f"/documents/{created['id']}/print?format=docx", "clerk")
    assert bad.status == 400
    assert bad.body["error"]["details"]["errors"][0]["field"] == "format"
