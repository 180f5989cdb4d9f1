"""A company's IBAN and QR-IBAN: checked as they are entered, kept compact, never swapped."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from background_posting.domain.bank_account import is_qr_iban, printed
from background_posting.domain.company import Company, CompanyPatch
from tests.support.data import company_body


def refusal(**fields: str) -> tuple[str, str, str]:
    with pytest.raises(ValidationError) as raised:
        Company.model_validate(company_body(**fields))
    [error] = raised.value.errors()
    return ".".join(map(str, error["loc"])), error["type"], error["msg"]


def test_an_iban_is_kept_compact_whatever_its_spacing() -> None:
    company = Company.model_validate(
        company_body(iban="gb29 nwbk-6016.1331 9268 19", qr_iban=" CH44 3199 9123 0008 8901 2")
    )
    assert company.iban == "GB29NWBK60161331926819"
    assert company.qr_iban == "CH4431999123000889012"
    assert printed(company.qr_iban) == "CH44 3199 9123 0008 8901 2"


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"iban": "GB29 NWBK 6016 1331 9268 18"}, "iban", "iban_check_digits"),
        ({"iban": "GB82 WEST 1234 5698 7654 32 1"}, "iban", "iban_check_digits"),
        ({"iban": "CH80 0076 2011 6238 5295"}, "iban", "iban_form"),  # 20 of CH's 21
        ({"iban": "GB29 NWBK 6016 1331 9268 19 ✓"}, "iban", "iban_form"),
        ({"iban": "CH44 3199 9123 0008 8901 2"}, "iban", "iban_is_qr_iban"),
        ({"qr_iban": "CH93 0076 2011 6238 5295 7"}, "qr_iban", "qr_iban_expected"),
        ({"qr_iban": "GB29 NWBK 6016 1331 9268 19"}, "qr_iban", "qr_iban_expected"),
        ({"qr_iban": "CH44 3199 9123 0008 8901 3"}, "qr_iban", "iban_check_digits"),
    ],
)
def test_a_wrong_iban_is_refused_naming_its_field(
    fields: dict[str, str], field: str, code: str
) -> None:
    assert refusal(**fields)[:2] == (field, code)


def test_the_sentences_say_what_to_do() -> None:
    assert "enter it as the QR-IBAN (qr_iban)" in refusal(iban="CH4431999123000889012")[2]
    assert (
        "enter an ordinary IBAN as the IBAN (iban)" in refusal(qr_iban="CH9300762011623852957")[2]
    )
    assert "mistyped or swapped" in refusal(iban="CH9300762011623852975")[2]


def test_a_qr_iban_is_swiss_or_liechtenstein_with_an_institution_id_of_30000_to_31999() -> None:
    assert is_qr_iban("CH4431999123000889012")  # IID 31999
    assert is_qr_iban("LI2130000000000000000")  # the form only: IID 30000 in Liechtenstein
    assert not is_qr_iban("CH9300762011623852957")  # IID 00762
    assert not is_qr_iban("CH5632000000000000000")  # IID 32000
    assert not is_qr_iban("DE89300000000532013000")  # a German bank code that starts 30000


def test_a_patch_may_clear_either() -> None:
    company = Company.model_validate(company_body(iban="GB29NWBK60161331926819"))
    assert CompanyPatch.model_validate({"iban": None}).apply_to(company).iban is None
    with pytest.raises(ValidationError):
        CompanyPatch.model_validate({"qr_iban": "GB29NWBK60161331926819"})
