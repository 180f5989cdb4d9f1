"""The bank accounts a company is paid into: its IBAN and, in Switzerland and Liechtenstein,
its QR-IBAN.

An IBAN is checked by python-stdnum: its ISO 13616 check digits, then the form of its
country's account number (length and characters, and the national check where stdnum knows
one). A QR-IBAN is a Swiss or Liechtenstein IBAN whose institution id (QR-IID, digits 5 to 9)
lies in 30000-31999, the range the Swiss Payment Standards reserve for it. The two are not
interchangeable: a QR-IBAN receives only payments that carry a QR reference, and a QR
reference is only accepted with a QR-IBAN, so each is refused in the other's field.

Both are kept and answered in their compact form (`CH4431999123000889012`) and printed in
groups of four (`CH44 3199 9123 0008 8901 2`). python-stdnum is imported on first use: a
process that reads no IBAN never loads it.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

QR_IBAN_COUNTRIES = frozenset({"CH", "LI"})
"""The countries whose banks issue QR-IBANs (and whose IBANs a QR-bill takes)."""
QR_IID = range(30000, 32000)
"""Institution ids reserved for QR-IBANs (Swiss Implementation Guidelines QR-bill, 3.1)."""


def printed(number: str) -> str:
    """`CH4431999123000889012` -> `CH44 3199 9123 0008 8901 2`."""
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4))


def is_qr_iban(number: str) -> bool:
    """Whether a compact, valid IBAN is a QR-IBAN."""
    iid = number[4:9]
    return number[:2] in QR_IBAN_COUNTRIES and iid.isdigit() and int(iid) in QR_IID


def valid_iban(value: str) -> str:
    """The IBAN in compact form, or a field error saying what is wrong with it."""
    from stdnum import iban
    from stdnum.exceptions import InvalidChecksum, InvalidComponent, ValidationError

    number = iban.compact(value)
    shown = printed(number)
    try:
        return str(iban.validate(number))
    except InvalidChecksum:
        raise PydanticCustomError(
            "iban_check_digits",
            "{iban} is not a valid IBAN: its check digits do not match the rest (look for a "
            "mistyped or swapped character)",
            {"iban": shown},
        ) from None
    except InvalidComponent:
        raise PydanticCustomError(
            "iban_country",
            "{iban} is not a valid IBAN: {country} is not a country that issues IBANs",
            {"iban": shown, "country": number[:2]},
        ) from None
    except ValidationError:  # the wrong length or characters for its country
        raise PydanticCustomError(
            "iban_form",
            "{iban} is not in the form of an IBAN of {country}: check its length and "
            "characters against the bank's details",
            {"iban": shown, "country": number[:2]},
        ) from None


def _iban(value: str) -> str:
    number = valid_iban(value)
    if is_qr_iban(number):
        raise PydanticCustomError(
            "iban_is_qr_iban",
            "{iban} is a QR-IBAN (institution id {iid}, in 30000-31999), which receives only "
            "payments with a QR reference: enter it as the QR-IBAN (qr_iban)",
            {"iban": printed(number), "iid": number[4:9]},
        )
    return number


def _qr_iban(value: str) -> str:
    number = valid_iban(value)
    if not is_qr_iban(number):
        raise PydanticCustomError(
            "qr_iban_expected",
            "{iban} is not a QR-IBAN: a QR-IBAN is a Swiss or Liechtenstein IBAN whose "
            "institution id (characters 5 to 9) is 30000-31999; enter an ordinary IBAN as the "
            "IBAN (iban)",
            {"iban": printed(number)},
        )
    return number


Iban = Annotated[
    str,
    Field(
        min_length=1,
        max_length=50,
        description="The company's IBAN (spaces allowed on input; answered compact), e.g. "
        "CH9300762011623852957. Not a QR-IBAN: that goes in `qr_iban`.",
        examples=["CH9300762011623852957"],
    ),
    AfterValidator(_iban),
]
QrIban = Annotated[
    str,
    Field(
        min_length=1,
        max_length=50,
        description="The company's QR-IBAN (Switzerland or Liechtenstein; institution id "
        "30000-31999), for QR-bills with a QR reference, e.g. CH4431999123000889012.",
        examples=["CH4431999123000889012"],
    ),
    AfterValidator(_qr_iban),
]
