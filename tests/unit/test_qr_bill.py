"""The Swiss QR-bill's rules: its references and their check digits (against the standards'
own examples), what goes on it, and which companies' names and addresses can make one."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from background_posting.domain.company import Company
from background_posting.domain.documents import format_number
from background_posting.domain.qr_bill import (
    creditor_reference,
    payment_part,
    qr_reference,
    street_and_number,
)
from tests.support.data import company_body
from tests.support.ledger import customer, make_document

# The modulo 10 recursive carry table of the Swiss payment standards (ISR / QR reference).
CARRY = (0, 9, 4, 6, 8, 2, 7, 1, 3, 5)
OFFICE = {"line1": "Rue du Lac 1268", "city": "Biel", "postal_code": "2501", "country": "CH"}


def mod_10_recursive(digits: str) -> int:
    carry = 0
    for digit in digits:
        carry = CARRY[(carry + int(digit)) % 10]
    return (10 - carry) % 10


def swiss(**overrides: Any) -> Company:
    body = company_body(
        "HELV", name="Robert Schneider AG", address=OFFICE, qr_iban="CH4431999123000889012"
    )
    return Company.model_validate(body | overrides)


def test_the_qr_reference_matches_the_implementation_guidelines_example() -> None:
    # The guidelines' example QR reference 21 00000 00003 13947 14300 09017: check digit 7
    assert qr_reference("SIN21000000000313947143000901") == "210000000003139471430009017"
    # and an invoice number's digits, right-aligned in 26 places, with theirs
    assert qr_reference("SIN000042") == "000000000000000000000000420"
    assert qr_reference("SIN000001") == "000000000000000000000000011"
    assert qr_reference("SIN1234567") == "000000000000000000012345676"


@given(st.integers(min_value=1, max_value=10**20))
def test_every_invoice_number_makes_a_27_digit_reference_whose_check_digit_catches_a_typo(
    sequence: int,
) -> None:
    reference = qr_reference(format_number("SIN", sequence))
    assert len(reference) == 27 and reference.isdigit()
    assert int(reference[:26]) == sequence
    assert int(reference[26]) == mod_10_recursive(reference[:26])
    # any one digit mistyped is caught by the check digit
    for place in range(26):
        for other in "0123456789".replace(reference[place], ""):
            typo = reference[:place] + other + reference[place + 1 : 26]
            assert mod_10_recursive(typo) != int(reference[26])


def test_a_number_without_room_for_a_qr_reference_is_refused() -> None:
    with pytest.raises(ValueError):
        qr_reference("SIN")
    with pytest.raises(ValueError):
        qr_reference("SIN" + "1" * 27)


def test_the_creditor_reference_matches_the_iso_11649_example() -> None:
    assert creditor_reference("539007547034") == "RF18539007547034"  # RF18 5390 0754 7034
    assert creditor_reference("SIN000042") == "RF74SIN000042"
    assert creditor_reference("sin000042") == "RF74SIN000042"
    assert creditor_reference("SIN" + "0" * 19) is None  # 22 characters: more than 21
    assert creditor_reference("SIN-42") is None


@pytest.mark.parametrize(
    ("line", "street", "number"),
    [
        ("Rue du Lac 1268", "Rue du Lac", "1268"),
        ("Bahnhofstrasse 12a", "Bahnhofstrasse", "12a"),
        ("Via Nassa 5/7", "Via Nassa", "5/7"),
        ("Postfach", "Postfach", ""),
        ("1 Market Street", "1 Market Street", ""),
    ],
)
def test_address_line_1_is_the_street_and_the_building_number_after_it(
    line: str, street: str, number: str
) -> None:
    assert street_and_number(line) == (street, number)


def test_a_swiss_company_with_a_qr_iban_asks_for_the_amount_with_a_qr_reference() -> None:
    bill = payment_part(
        make_document(currency="CHF"), swiss(), customer(address=OFFICE), Decimal("52.985")
    )
    assert bill is not None
    assert bill.account == "CH4431999123000889012" and bill.amount == "52.99"  # rounded
    assert (bill.ref_type, bill.reference_number) == ("QRR", "000000000000000000000000420")
    assert bill.debtor is not None and bill.debtor.name == "CUST01 Customer plc"


def test_a_company_in_liechtenstein_prints_qr_bills_too() -> None:
    vaduz = {"line1": "Städtle 1", "city": "Vaduz", "postal_code": "9490", "country": "LI"}
    bill = payment_part(make_document(currency="CHF"), swiss(address=vaduz), None, Decimal(5))
    assert bill is not None and bill.creditor.country == "LI" and bill.creditor.city == "Vaduz"


def test_with_an_iban_alone_it_takes_a_creditor_reference() -> None:
    company = swiss(qr_iban=None, iban="CH9300762011623852957")
    bill = payment_part(make_document(currency="EUR"), company, None, Decimal("10"))
    assert bill is not None and bill.account == "CH9300762011623852957"
    assert (bill.ref_type, bill.reference_number) == ("SCOR", "RF74SIN000042")
    assert bill.debtor is None


@pytest.mark.parametrize(
    ("what", "document", "company", "amount"),
    [
        ("a credit note", {"doc_type": "sales_credit_note"}, {}, "10"),
        ("a payable invoice", {"doc_type": "payable_invoice"}, {}, "10"),
        ("a GBP invoice", {"currency": "GBP"}, {}, "10"),
        ("no IBAN", {}, {"qr_iban": None}, "10"),
        ("a company in France", {}, {"address": OFFICE | {"country": "FR"}}, "10"),
        ("nothing to pay", {}, {}, "0"),
        ("a tax not yet known", {}, {}, None),
        ("more than a QR-bill holds", {}, {}, "1000000000.00"),
    ],
)
def test_what_carries_no_payment_part(
    what: str, document: dict[str, Any], company: dict[str, Any], amount: str | None
) -> None:
    invoice = make_document(**({"currency": "CHF"} | document))
    due = None if amount is None else Decimal(amount)
    assert payment_part(invoice, swiss(**company), None, due) is None, what


@pytest.mark.parametrize(
    "address",
    [
        None,
        {"line1": "Grosse Marktgasse 28", "country": "CH"},  # no town or postal code
        OFFICE | {"country": "ZZ"},  # not an ISO 3166 code
        OFFICE | {"city": "Αθήνα"},  # Greek: not in the QR-bill's characters
    ],
)
def test_a_customer_whose_address_cannot_go_on_a_qr_bill_leaves_the_debtor_blank(
    address: dict[str, str] | None,
) -> None:
    bill = payment_part(
        make_document(currency="CHF"), swiss(), customer(address=address), Decimal(1)
    )
    assert bill is not None and bill.debtor is None


def test_a_customer_name_longer_than_a_qr_bill_holds_leaves_the_debtor_blank() -> None:
    account = customer(address=OFFICE, name="N" * 71)
    bill = payment_part(make_document(currency="CHF"), swiss(), account, Decimal(1))
    assert bill is not None and bill.debtor is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            {"address": {"line1": "Rue du Lac 1268", "city": "Biel", "country": "CH"}},
            ("address", "postal_code"),
        ),
        ({"address": OFFICE | {"city": ""}}, ("address", "city")),
        ({"address": OFFICE | {"postal_code": "1" * 17}}, ("address", "postal_code")),
        ({"address": OFFICE | {"line1": "S" * 71}}, ("address", "line1")),
        ({"address": OFFICE | {"country": "LI", "city": "Vaduz ✓"}}, ("address", "city")),
        ({"name": "N" * 71}, ("name",)),
        ({"iban": "GB29NWBK60161331926819"}, ("iban",)),
    ],
)
def test_a_company_in_switzerland_or_liechtenstein_must_fit_its_qr_bills(
    change: dict[str, Any], field: tuple[str, ...]
) -> None:
    with pytest.raises(ValidationError) as raised:
        swiss(**change)
    assert [error["loc"] for error in raised.value.errors()] == [field]


def test_every_problem_is_named_at_once() -> None:
    with pytest.raises(ValidationError) as raised:
        swiss(name="N" * 71, address={"line1": "Rue du Lac 1268", "country": "CH"})
    assert [error["loc"] for error in raised.value.errors()] == [
        ("name",),
        ("address", "postal_code"),
        ("address", "city"),
    ]


def test_a_company_elsewhere_keeps_any_address() -> None:
    company = Company.model_validate(
        company_body(name="N" * 150, address={"line1": "Hauptstrasse 1", "country": "DE"})
    )
    assert company.address is not None and company.address.city == ""
