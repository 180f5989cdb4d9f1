"""The Swiss QR-bill on a sales invoice's PDF, scanned back from the printed page as a payer's
banking app would (PDFium renders it, ZXing decodes it), and the company's IBAN, QR-IBAN and
address that it needs, refused with the field named when they cannot make one."""

from __future__ import annotations

from typing import Any

import pytest
from stdnum.ch import esr
from stdnum.iso7064 import mod_97_10

from tests.support.api import invoke_api
from tests.support.data import account_body, company_body, document_body
from tests.support.printing import pages_text, pdf_text, printed_pdf
from tests.support.qr_codes import qr_codes_by_page, swiss_payment

QR_IBAN = "CH4431999123000889012"  # the Implementation Guidelines' example QR-IBAN
IBAN = "CH9300762011623852957"
OFFICE = {"line1": "Rue du Lac 1268", "city": "Biel", "postal_code": "2501", "country": "CH"}
CUSTOMER_ADDRESS = {
    "line1": "Grosse Marktgasse 28",
    "city": "Rorschach",
    "postal_code": "9400",
    "country": "CH",
}


def swiss_company(company_id: str = "HELV", **overrides: Any) -> dict[str, Any]:
    body = company_body(
        company_id,
        name="Robert Schneider AG",
        home_currency="CHF",
        dual_currency="EUR",
        timezone="Europe/Zurich",
        exchange_rates=[
            {"from_currency": "CHF", "to_currency": "EUR", "date": "2026-01-01", "rate": "1.06"},
            {"from_currency": "GBP", "to_currency": "CHF", "date": "2026-01-01", "rate": "1.12"},
        ],
        tax_codes=[{"code": "NOR", "rate": "8.1"}, {"code": "ZERO", "rate": "0"}],
        address=OFFICE,
        qr_iban="CH44 3199 9123 0008 8901 2",
        iban="CH93 0076 2011 6238 5295 7",
    )
    body.update(overrides)
    return body


def invoice_body(company: str = "HELV", currency: str = "CHF", **overrides: Any) -> dict[str, Any]:
    """3 x 120.00 at 8.1% and 1 x 45.50 zero-rated: net 405.50, tax 29.16, total 434.66."""
    lines = [
        {"description": "Consulting", "quantity": "3", "unit_price": "120.00", "tax_code": "NOR"},
        {"description": "Travel", "quantity": "1", "unit_price": "45.50", "tax_code": "ZERO"},
    ]
    body = document_body(company=company, account="PIA01", currency=currency, lines=lines)
    body.update(overrides)
    return body


@pytest.fixture
def helv(api: Any) -> Any:
    """A Swiss company with a QR-IBAN and an IBAN, and a Swiss customer with an address."""
    assert invoke_api(api, "POST", "/companies", "admin", swiss_company()).status == 201
    customer = account_body(
        "PIA01",
        company="HELV",
        name="Pia-Maria Rutschmann-Schnyder",
        trading_currencies=["CHF", "EUR", "GBP"],
        address=CUSTOMER_ADDRESS,
    )
    assert invoke_api(api, "POST", "/accounts", "admin", customer).status == 201
    return api


def created(api: Any, body: dict[str, Any]) -> dict[str, Any]:
    answer = invoke_api(api, "POST", "/documents", "clerk", body)
    assert answer.status == 201, answer.body
    return dict(answer.body)


def posted(api: Any, body: dict[str, Any]) -> dict[str, Any]:
    document = created(api, body)
    answer = invoke_api(api, "POST", f"/documents/{document['id']}/post", "clerk")
    assert answer.status == 200, answer.body
    return dict(answer.body)


def scanned(api: Any, document: dict[str, Any]) -> list[list[str]]:
    return qr_codes_by_page(printed_pdf(api, f"/documents/{document['id']}/print?format=pdf"))


def the_qr_reference_of(number: str) -> str:
    """The invoice number's digits in 26 places and their check digit (the check is stdnum's)."""
    body = "".join(c for c in number if c.isdigit()).zfill(26)
    return body + esr.calc_check_digit(body)


def test_a_swiss_invoice_pdf_carries_a_qr_bill_that_scans_as_the_invoice(helv: Any) -> None:
    # Given a posted CHF sales invoice of a Swiss company with a QR-IBAN, of 434.66 in all
    invoice = posted(helv, invoice_body())
    assert invoice["number"] == "SIN000001" and invoice["outstanding"] == "434.66"
    # When its PDF is printed and the QR code on it scanned
    pages = scanned(helv, invoice)
    # Then the one page carries one QR code: a Swiss QR-bill asking for the invoice's total
    assert len(pages) == 1 and len(pages[0]) == 1
    payment = swiss_payment(pages[0][0])
    assert (payment.qr_type, payment.version, payment.coding) == ("SPC", "0200", "1")
    assert payment.iban == QR_IBAN  # the QR-IBAN, not the IBAN, since a QR reference is used
    assert (payment.amount, payment.currency) == ("434.66", "CHF")
    # with the QR reference made of the invoice number and its check digit
    assert payment.reference_type == "QRR"
    assert payment.reference == "000000000000000000000000011" == the_qr_reference_of("SIN000001")
    assert esr.is_valid(payment.reference)
    # the company as creditor, the customer as debtor, each with its structured address
    assert payment.creditor.name == "Robert Schneider AG"
    assert (payment.creditor.street, payment.creditor.building_number) == ("Rue du Lac", "1268")
    assert (payment.creditor.postal_code, payment.creditor.town) == ("2501", "Biel")
    assert payment.creditor.country == "CH" and payment.creditor.address_type == "S"
    assert payment.debtor.name == "Pia-Maria Rutschmann-Schnyder"
    assert (payment.debtor.street, payment.debtor.building_number) == ("Grosse Marktgasse", "28")
    assert (payment.debtor.postal_code, payment.debtor.town) == ("9400", "Rorschach")
    assert payment.message == "Invoice SIN000001" and payment.trailer == "EPD"
    assert payment.billing_information == "//S1/10/SIN000001/11/261120"
    # and the page shows the payment part and receipt a person reads
    text = pdf_text(helv, f"/documents/{invoice['id']}/print?format=pdf")
    assert "Payment part" in text and "Receipt" in text and "Acceptance point" in text
    assert "CH44 3199 9123 0008 8901 2" in text
    assert "00 00000 00000 00000 00000 00011" in text
    assert "434.66" in text and "Payable by" in text


def test_with_an_iban_alone_the_reference_is_an_iso_11649_creditor_reference(api: Any) -> None:
    # Given a Swiss company with an IBAN and no QR-IBAN, and a EUR invoice In Progress
    company = swiss_company("ALPS", qr_iban=None)
    assert invoke_api(api, "POST", "/companies", "admin", company).status == 201
    customer = account_body("PIA01", company="ALPS", name="Pia Muster", trading_currencies=["EUR"])
    assert invoke_api(api, "POST", "/accounts", "admin", customer).status == 201
    invoice = created(api, invoice_body("ALPS", "EUR"))
    # When it is printed and scanned
    [[code]] = scanned(api, invoice)
    payment = swiss_payment(code)
    # Then it asks for the gross total in euros into the IBAN, with a creditor reference
    assert payment.iban == IBAN
    assert (payment.amount, payment.currency) == ("434.66", "EUR")
    assert payment.reference_type == "SCOR"
    assert payment.reference == f"RF{mod_97_10.calc_check_digits('SIN000001RF')}SIN000001"
    assert mod_97_10.is_valid(payment.reference[4:] + payment.reference[:4])
    # and a customer without an address leaves the debtor for the payer to fill in
    assert payment.debtor.name == "" and payment.debtor.address_type == ""
    text = pdf_text(api, f"/documents/{invoice['id']}/print?format=pdf")
    assert "Payable by (name/address)" in text


def test_after_a_credit_note_the_payment_part_asks_for_what_is_outstanding(helv: Any) -> None:
    # Given the posted invoice of 434.66 and a credit note of 100.00 Post & Matched with it
    invoice = posted(helv, invoice_body())
    note = invoke_api(
        helv,
        "POST",
        f"/documents/{invoice['id']}/credit-note",
        "clerk",
        {
            "document_date": "2026-11-25",
            "lines": [
                {"description": "Discount", "quantity": "1", "unit_price": "100.00"},
            ],
        },
    )
    assert note.status == 201, note.body
    matched = invoke_api(helv, "POST", f"/documents/{note.body['id']}/post-and-match", "clerk")
    assert matched.status == 200, matched.body
    # When the invoice is printed again
    [[code]] = scanned(helv, invoice)
    # Then its QR-bill asks for the 334.66 still open; the credit note's PDF carries none
    assert swiss_payment(code).amount == "334.66"
    assert scanned(helv, note.body) == [[]]


def test_a_long_invoice_puts_the_payment_part_on_a_last_page_of_its_own(helv: Any) -> None:
    # Given an invoice of 40 lines that fill the first page
    lines = [
        {"description": f"Item {n}", "quantity": "1", "unit_price": "10.00", "tax_code": "ZERO"}
        for n in range(1, 41)
    ]
    invoice = created(helv, invoice_body(lines=lines))
    # When it is printed
    pdf = printed_pdf(helv, f"/documents/{invoice['id']}/print?format=pdf")
    # Then the QR-bill stands at the foot of the last page only, asking for the 400.00
    codes = qr_codes_by_page(pdf)
    assert len(codes) >= 2 and all(page == [] for page in codes[:-1])
    [code] = codes[-1]
    assert swiss_payment(code).amount == "400.00"
    texts = pages_text(pdf)
    assert "Item 40" in "".join(texts) and "Payment part" in texts[-1]


@pytest.mark.parametrize(
    ("what", "company_change", "body_change"),
    [
        ("a credit note", {}, {"type": "sales_credit_note"}),
        ("a payable invoice", {}, {"type": "payable_invoice", "account": "VEND01"}),
        ("a GBP invoice (a QR-bill is CHF or EUR)", {}, {"currency": "GBP"}),
        ("a company without IBAN", {"iban": None, "qr_iban": None}, {}),
    ],
)
def test_what_carries_no_payment_part(
    helv: Any, what: str, company_change: dict[str, Any], body_change: dict[str, Any]
) -> None:
    # Given a Swiss company's document that does not ask a customer for CHF or EUR by QR-bill
    vendor = account_body("VEND01", company="HELV", kind="vendor", trading_currencies=["CHF"])
    assert invoke_api(helv, "POST", "/accounts", "admin", vendor).status == 201
    if company_change:
        amended = invoke_api(helv, "PATCH", "/companies/HELV", "admin", company_change)
        assert amended.status == 200, amended.body
    document = created(helv, invoice_body(**body_change))
    # When it is printed
    pdf = printed_pdf(helv, f"/documents/{document['id']}/print?format=pdf")
    html = invoke_api(helv, "GET", f"/documents/{document['id']}/print", "clerk").body
    # Then there is no QR code and no payment part, in the PDF or the HTML
    assert qr_codes_by_page(pdf) == [[]], what
    assert "Payment part" not in "".join(pages_text(pdf)), what
    assert "<svg" not in html, what


def test_a_company_outside_switzerland_prints_as_before(api: Any) -> None:
    # Given a British company with an IBAN and a EUR invoice
    body = company_body(
        "ACME",
        address={
            "line1": "1 Market Street",
            "city": "Leeds",
            "postal_code": "LS1 1AA",
            "country": "GB",
        },
        iban="GB29 NWBK 6016 1331 9268 19",
    )
    assert invoke_api(api, "POST", "/companies", "admin", body).status == 201
    customer = account_body(trading_currencies=["EUR"])
    assert invoke_api(api, "POST", "/accounts", "admin", customer).status == 201
    invoice = posted(api, document_body(currency="EUR"))
    # When it is printed
    pdf = printed_pdf(api, f"/documents/{invoice['id']}/print?format=pdf")
    # Then it is one page with no QR-bill
    assert qr_codes_by_page(pdf) == [[]]
    assert "Payment part" not in pages_text(pdf)[0]


def test_the_html_print_shows_the_same_payment_part(helv: Any) -> None:
    # Given an invoice to a customer whose name holds markup
    customer = account_body(
        "MARK01",
        company="HELV",
        name="<b>Bold</b> & Co",
        trading_currencies=["CHF"],
        address=CUSTOMER_ADDRESS,
    )
    assert invoke_api(helv, "POST", "/accounts", "admin", customer).status == 201
    invoice = created(helv, invoice_body(account="MARK01"))
    # When it is printed as HTML
    html = invoke_api(helv, "GET", f"/documents/{invoice['id']}/print", "clerk").body
    # Then the page holds the payment part as an inline SVG, with what the PDF shows
    assert 'aria-label="QR-bill payment part"' in html and "<svg" in html
    assert "<?xml" not in html  # the SVG element inline, not a document
    assert "Payment part" in html and "CH44 3199 9123 0008 8901 2" in html
    assert "00 00000 00000 00000 00000 00011" in html and "434.66" in html
    # and the customer's name as text, in the payment part as above it
    assert "<b>Bold</b>" not in html
    assert html.count("&lt;b&gt;Bold&lt;/b&gt; &amp; Co") >= 3  # To, receipt, payment part


# --- the company's IBAN, QR-IBAN and address ---------------------------------------------


def test_the_company_answers_its_iban_and_qr_iban_compact(helv: Any) -> None:
    company = invoke_api(helv, "GET", "/companies/HELV", "clerk").body
    assert (company["iban"], company["qr_iban"]) == (IBAN, QR_IBAN)
    assert company["address"]["country"] == "CH"
    cleared = invoke_api(helv, "PATCH", "/companies/HELV", "admin", {"qr_iban": None})
    assert cleared.status == 200 and cleared.body["qr_iban"] is None
    assert cleared.body["iban"] == IBAN


def refusal(answer: Any) -> tuple[str, str]:
    assert answer.status == 400, answer.body
    assert answer.error_code == "invalid_request"
    [problem] = answer.body["error"]["details"]["errors"]
    return problem["field"], problem["message"]


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"iban": "CH93 0076 2011 6238 5295 8"}, "iban", "check digits do not match"),
        ({"iban": "CH80 0076 2011 6238 5295"}, "iban", "not in the form of an IBAN of CH"),
        ({"iban": "CH44 3199 9123 0008 8901 2"}, "iban", "enter it as the QR-IBAN"),
        ({"qr_iban": "CH93 0076 2011 6238 5295 7"}, "qr_iban", "is not a QR-IBAN"),
        ({"qr_iban": "CH44 3199 9123 0008 8901 3"}, "qr_iban", "check digits do not match"),
        ({"iban": "DE89 3704 0044 0532 0130 00"}, "iban", "only Swiss (CH) and Liechtenstein"),
        (
            {"address": {"line1": "Rue du Lac 1268", "city": "Biel", "country": "CH"}},
            "address.postal_code",
            "needs the postal code",
        ),
        (
            {"address": {"line1": "Rue du Lac 1268", "postal_code": "2501", "country": "CH"}},
            "address.city",
            "needs the town",
        ),
        ({"address": OFFICE | {"city": "Biel/Bienne " * 4}}, "address.city", "at most 35"),
        ({"address": OFFICE | {"line1": "北京路 1"}}, "address.line1", "北 京 路 cannot be"),
        ({"name": "Robert Schneider " * 5}, "name", "at most 70 characters of the name"),
    ],
)
def test_what_cannot_make_a_qr_bill_is_refused_naming_the_field(
    helv: Any, change: dict[str, Any], field: str, words: str
) -> None:
    before = invoke_api(helv, "GET", "/companies/HELV", "clerk").body
    # When the company is amended, or a new one created, with it
    amended = invoke_api(helv, "PATCH", "/companies/HELV", "admin", change)
    new = invoke_api(helv, "POST", "/companies", "admin", swiss_company("NEWCO", **change))
    # Then both are refused with a 400 naming the field and saying what is wrong
    for answer in (amended, new):
        named, message = refusal(answer)
        assert named == field and words in message, message
    # and nothing changed: the company as it was, no new company
    assert invoke_api(helv, "GET", "/companies/HELV", "clerk").body == before
    assert invoke_api(helv, "GET", "/companies/NEWCO", "admin").status == 404


def test_a_company_elsewhere_may_have_any_valid_iban_and_any_address(api: Any) -> None:
    body = company_body(
        "ACME",
        iban="DE89 3704 0044 0532 0130 00",
        address={"line1": "Hauptstrasse 1", "country": "DE"},
    )
    answer = invoke_api(api, "POST", "/companies", "admin", body)
    assert answer.status == 201, answer.body
    assert answer.body["iban"] == "DE89370400440532013000"
    # but not an invalid one
    bad = invoke_api(
        api, "PATCH", "/companies/ACME", "admin", {"iban": "DE89 3704 0044 0532 0130 01"}
    )
    assert refusal(bad)[0] == "iban"
