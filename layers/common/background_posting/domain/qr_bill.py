"""The Swiss QR-bill: the payment part and receipt at the foot of a sales invoice of a company
in Switzerland or Liechtenstein (Swiss Payment Standards, "Swiss Implementation Guidelines for
the QR-bill"), built and checked by the `qrbill` library, which also draws it.

A sales invoice carries one when its company's address is in Switzerland or Liechtenstein
(`CH`, `LI`), it is in CHF or EUR (the only currencies of the QR-bill), the company has a
QR-IBAN or an IBAN, and there is an amount to pay (the gross total before posting, what is
still outstanding after it; more than nothing and at most 999,999,999.99):

* the account: the QR-IBAN when the company has one, else its IBAN;
* the reference: with a QR-IBAN, the QR reference (`qr_reference`: the invoice number's digits
  in 26 places and a modulo 10 recursive check digit); with an IBAN, the ISO 11649 creditor
  reference (`creditor_reference`: `RF`, two check digits and the invoice number);
* the creditor: the company, its name and structured address; the debtor: the customer with
  its address when that fits a QR-bill, else none (the payment part then has the standard's
  blank "Payable by (name/address)" field for the payer to fill in);
* additional information `Invoice SIN000042`, and the Swico S1 billing information with the
  invoice number and date (`//S1/10/SIN000042/11/261120`) for the payer's accounting program.

A company in Switzerland or Liechtenstein must have a name and address that fit a QR-bill and
only a Swiss or Liechtenstein IBAN (`creditor_problems`, checked whenever the company is
created or changed): the payment part can then always be printed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from background_posting.domain.bank_account import QR_IBAN_COUNTRIES, printed
from background_posting.domain.money import round_money

if TYPE_CHECKING:
    from qrbill import QRBill

    from background_posting.domain.company import Account, Address, Company
    from background_posting.domain.documents import Document

QR_BILL_COUNTRIES = QR_IBAN_COUNTRIES
COUNTRY_NAMES = {"CH": "Switzerland", "LI": "Liechtenstein"}
QR_BILL_CURRENCIES = frozenset({"CHF", "EUR"})
SMALLEST_AMOUNT = Decimal("0.01")
LARGEST_AMOUNT = Decimal("999999999.99")

# What the QR-bill's structured address holds (Implementation Guidelines 4.2.2).
NAME_LENGTH = 70
STREET_LENGTH = 70
POSTAL_CODE_LENGTH = 16
TOWN_LENGTH = 35
# The characters a QR-bill may carry (Implementation Guidelines 4.1.1): Basic Latin, Latin-1
# Supplement and Latin Extended-A, the Romanian Ș ș Ț ț, and the euro sign.
_PERMITTED = re.compile("[\u0020-\u007e\u00a0-\u017f\u0218-\u021b\u20ac]")
# A building number written after the street, as in Switzerland: "Rue du Lac 1268", "Gasse 12a"
_BUILDING_NUMBER = re.compile(r"^(?P<street>.*?\S)\s+(?P<number>\d\S{0,15})$")


def issues_qr_bills(company: Company) -> bool:
    """Whether the company's invoices carry a QR-bill payment part (given an IBAN)."""
    return company.address is not None and company.address.country in QR_BILL_COUNTRIES


def qr_reference(invoice_number: str) -> str:
    """The QR reference of an invoice: the digits of its number right-aligned in 26 places,
    then their modulo 10 recursive check digit (27 digits, `SIN000042` ->
    `000000000000000000000000420`)."""
    from stdnum.ch import esr

    digits = "".join(c for c in invoice_number if c in "0123456789")
    if not digits or len(digits) > 26:
        raise ValueError(f"{invoice_number!r} has no 1 to 26 digits to make a QR reference of")
    body = digits.zfill(26)
    return body + str(esr.calc_check_digit(body))


def creditor_reference(invoice_number: str) -> str | None:
    """The ISO 11649 creditor reference of an invoice: `RF`, the two check digits (ISO 7064
    MOD 97-10) and the invoice number (`SIN000042` -> `RF74SIN000042`); None when the number
    is not 1 to 21 letters and digits."""
    from stdnum.iso7064 import mod_97_10

    reference = invoice_number.upper()
    if not (reference.isascii() and reference.isalnum() and len(reference) <= 21):
        return None
    return f"RF{mod_97_10.calc_check_digits(reference + 'RF')}{reference}"


def street_and_number(line: str) -> tuple[str, str]:
    """Address line 1 as the QR-bill's street and building number: `Rue du Lac 1268` ->
    (`Rue du Lac`, `1268`); a line with no number at its end is all street."""
    found = _BUILDING_NUMBER.match(line)
    if found is None:
        return line, ""
    return found["street"], found["number"]


@dataclass(frozen=True)
class AddressProblem:
    """Why a name or address cannot go on a QR-bill: `field` is the path within the company
    (`address.city`), `code` the error code, `message` the sentence after the field's name."""

    field: tuple[str, ...]
    code: str
    message: str


def address_problems(name: str, address: Address) -> list[AddressProblem]:
    """What keeps `name` at `address` off a QR-bill's structured address: a missing postal
    code or town, a part longer than the QR-bill holds, characters it cannot carry."""
    street, _number = street_and_number(address.line1)  # a number of at most 16 characters
    parts = (
        (("name",), "the name", name, NAME_LENGTH),
        (("address", "line1"), "the street", street, STREET_LENGTH),
        (("address", "postal_code"), "the postal code", address.postal_code, POSTAL_CODE_LENGTH),
        (("address", "city"), "the town", address.city, TOWN_LENGTH),
    )
    problems = []
    for field, what, text, longest in parts:
        if not text and field[-1] in ("postal_code", "city"):
            problems.append(
                AddressProblem(
                    field, "qr_bill_address", f"a QR-bill needs {what}: enter it in the address"
                )
            )
        elif len(text) > longest:
            problems.append(
                AddressProblem(
                    field,
                    "qr_bill_address",
                    f"a QR-bill holds at most {longest} characters of {what}; this one has "
                    f"{len(text)}",
                )
            )
        elif unprintable := list(dict.fromkeys(c for c in text if not _PERMITTED.match(c))):
            problems.append(
                AddressProblem(
                    field,
                    "qr_bill_characters",
                    f"a QR-bill carries only Latin letters, digits and common punctuation; "
                    f"{' '.join(unprintable)} cannot be printed on it",
                )
            )
    return problems


def creditor_problems(company: Company) -> list[AddressProblem]:
    """What keeps a company in Switzerland or Liechtenstein from printing its QR-bills: its
    name and address (`address_problems`), and an IBAN that is not Swiss or Liechtenstein's
    (a QR-bill takes no other). Nothing for a company elsewhere."""
    if company.address is None or not issues_qr_bills(company):
        return []
    problems = address_problems(company.name, company.address)
    if company.iban is not None and company.iban[:2] not in QR_BILL_COUNTRIES:
        problems.append(
            AddressProblem(
                ("iban",),
                "qr_bill_iban",
                f"a company in {COUNTRY_NAMES[company.address.country]} prints QR-bills, which "
                f"take only Swiss (CH) and Liechtenstein (LI) IBANs; {printed(company.iban)} is "
                "not one",
            )
        )
    return problems


def _structured(name: str, address: Address) -> dict[str, str]:
    street, number = street_and_number(address.line1)
    return {
        "name": name,
        "street": street,
        "house_num": number,
        "pcode": address.postal_code,
        "city": address.city,
        "country": address.country,
    }


def _debtor(account: Account | None) -> dict[str, str] | None:
    """The customer as the QR-bill's debtor, when its name and address fit one."""
    from iso3166 import countries

    if account is None or account.address is None:
        return None
    if address_problems(account.name, account.address):
        return None
    if account.address.country not in countries:
        return None
    return _structured(account.name, account.address)


def payment_part(
    document: Document, company: Company, account: Account | None, amount: Decimal | None
) -> QRBill | None:
    """The QR-bill at the foot of a sales invoice asking for `amount`, or None when the
    invoice carries none (see the module notes). `qrbill` checks it as it builds it."""
    if document.type != "sales_invoice" or document.currency not in QR_BILL_CURRENCIES:
        return None
    if company.address is None or not issues_qr_bills(company) or amount is None:
        return None
    into = company.qr_iban or company.iban
    if into is None:
        return None
    due = round_money(amount, document.currency)
    if not SMALLEST_AMOUNT <= due <= LARGEST_AMOUNT:
        return None
    from qrbill import QRBill

    return QRBill(
        account=into,
        creditor=_structured(company.name, company.address),
        amount=format(due, "f"),
        currency=document.currency,
        debtor=_debtor(account),
        reference_number=(
            qr_reference(document.number)
            if company.qr_iban is not None
            else creditor_reference(document.number)
        ),
        additional_information=f"Invoice {document.number}",
        billing_information=(
            f"//S1/10/{document.number}/11/{document.document_date.strftime('%y%m%d')}"
        ),
        language="en",
    )
