"""AvaTax's shapes, pure: the model we send, the answer we read, the errors we report."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from background_posting.adapters.avatax import (
    PRODUCTION_URL,
    SANDBOX_URL,
    AvaTaxAccount,
    AvaTaxError,
    code_in_path,
    create_model,
    result_of,
)
from background_posting.domain.company import Address
from background_posting.domain.tax import tax_request
from tests.support.tax import CUSTOMER_GB, avatax_document, with_office

CUSTOMER = Address.model_validate(CUSTOMER_GB)


def test_an_invoice_is_sent_uncommitted_under_its_document_code_with_both_addresses() -> None:
    request = tax_request(avatax_document(), with_office(), CUSTOMER)
    model = create_model(request, "DEFAULT")
    assert model["code"] == "ACME-SIN000042"
    assert (model["type"], model["companyCode"], model["commit"]) == (
        "SalesInvoice",
        "DEFAULT",
        False,
    )
    assert (model["customerCode"], model["currencyCode"], model["date"]) == (
        "CUST01",
        "GBP",
        "2026-11-20",
    )
    assert model["addresses"]["shipFrom"]["postalCode"] == "EC2R 8EJ"
    assert model["addresses"]["shipTo"] == {
        "line1": "12 Deansgate",
        "city": "Manchester",
        "postalCode": "M3 2BW",
        "country": "GB",
    }
    assert [(line["number"], line["amount"], line["taxCode"]) for line in model["lines"]] == [
        ("1", 37.5, "STD"),
        ("2", 7.99, "ZERO"),
    ]


def test_a_credit_note_is_a_return_with_negative_amounts_and_its_tax_reads_back_positive() -> None:
    request = tax_request(avatax_document("sales_credit_note"), with_office(), CUSTOMER)
    model = create_model(request, "DEFAULT")
    assert model["type"] == "ReturnInvoice"
    assert [line["amount"] for line in model["lines"]] == [-37.5, -7.99]
    answer = {
        "id": 7,
        "code": model["code"],
        "totalTax": Decimal("-9.10"),
        "lines": [
            {"lineNumber": "1", "tax": Decimal("-7.50")},
            {"lineNumber": "2", "tax": Decimal("-1.60")},
        ],
    }
    result = result_of(request, answer)
    assert result.line_taxes == {0: Decimal("7.50"), 1: Decimal("1.60")}
    assert (result.total, result.transaction_id) == (Decimal("9.10"), "7")


def test_a_purchase_and_its_return_have_avatax_purchase_types() -> None:
    purchase = tax_request(avatax_document("payable_invoice"), with_office(), CUSTOMER)
    refund = tax_request(avatax_document("payable_credit_note"), with_office(), CUSTOMER)
    assert create_model(purchase, "X")["type"] == "PurchaseInvoice"
    assert create_model(refund, "X")["type"] == "ReturnPurchase"


def test_codes_with_characters_a_path_cannot_hold_are_escaped_as_avatax_documents() -> None:
    assert code_in_path("ACME-SIN000042") == "ACME-SIN000042"
    assert (
        code_in_path("A/B+C?D%E#F G") == "A_-ava2f-_B_-ava2b-_C_-ava3f-_D_-ava25-_E_-ava23-_F%20G"
    )


def test_an_avatax_error_reads_in_avatax_own_words() -> None:
    error = AvaTaxError(
        400,
        "JurisdictionNotFoundError",
        "Unable to determine the taxing jurisdictions.",
        [
            {
                "code": "JurisdictionNotFoundError",
                "message": "Unable to determine the taxing jurisdictions.",
                "description": "The shipTo address (1 Unknown Road, ZZ) could not be located.",
            }
        ],
    )
    assert not error.transient
    assert error.describe() == (
        "HTTP 400 JurisdictionNotFoundError: Unable to determine the taxing jurisdictions. "
        "[JurisdictionNotFoundError] Unable to determine the taxing jurisdictions. The shipTo "
        "address (1 Unknown Road, ZZ) could not be located."
    )
    assert AvaTaxError(429, "TooManyRequests", "slow down").transient
    assert AvaTaxError(503, "ServerError", "").transient
    assert AvaTaxError(0, "Timeout", "no answer within 10.0 s").transient
    assert not AvaTaxError(401, "AuthenticationException", "Authentication failed.").transient


@pytest.mark.parametrize(
    ("environment", "url"),
    [
        ("sandbox", SANDBOX_URL),
        ("Production", PRODUCTION_URL),
        ("http://127.0.0.1:8765/", "http://127.0.0.1:8765"),
    ],
)
def test_the_secret_names_the_environment(environment: str, url: str) -> None:
    account = AvaTaxAccount.model_validate(
        {"account_id": 1100000000, "license_key": "S3CRET-KEY", "environment": environment}
    )
    assert (account.account_id, account.base_url) == ("1100000000", url)
    assert "S3CRET-KEY" not in repr(account)  # the licence key never shows in logs


def test_a_secret_without_a_licence_key_or_with_an_unknown_environment_is_refused() -> None:
    with pytest.raises(ValidationError):
        AvaTaxAccount.model_validate({"account_id": "1"})
    with pytest.raises(ValueError, match="is not sandbox, production or an http"):
        _ = AvaTaxAccount.model_validate(
            {"account_id": "1", "license_key": "k", "environment": "staging"}
        ).base_url
